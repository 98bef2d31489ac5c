package assets

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sync"
)

// files holds p5/README.md (committed, so the pattern always matches) and
// the p5 builds copied in by scripts/setup.sh.
//
//go:embed p5
var files embed.FS

// ErrMissing means the binary was built without a p5 build.
var ErrMissing = errors.New("p5.js is not bundled into this binary; run `make assets` (or `make setup`) and rebuild")

// Versions lists the p5 majors a job may ask for, default first.
var versions = []string{"1", "2"}

// DefaultP5 is the p5 major used when a job names none.
const DefaultP5 = "1"

// Bundle is a set of p5 builds, keyed by major version. Each build is read
// once and then shared: a worker hands p5.js to every page it loads, and a
// fresh megabyte for each, several times a job, was a tenth of the worker's
// CPU (the copy, and the garbage collection after it).
type Bundle struct {
	fsys fs.FS

	mu   sync.Mutex
	read map[string][]byte // by major, once read
}

// Embedded returns the p5 builds compiled into the binary.
func Embedded() *Bundle { return &Bundle{fsys: files} }

// FromFS returns the p5 builds found in fsys under p5/ (for tests and for
// a cache directory).
func FromFS(fsys fs.FS) *Bundle { return &Bundle{fsys: fsys} }

// P5 returns p5.min.js of the given major ("1" or "2"; "" is [DefaultP5]),
// written in ASCII (see escapeNonASCII). The bytes are the bundle's own,
// the same slice on every call: callers must not modify them.
func (b *Bundle) P5(major string) ([]byte, error) {
	if major == "" {
		major = DefaultP5
	}
	known := false
	for _, v := range versions {
		known = known || v == major
	}
	if !known {
		return nil, fmt.Errorf("p5 version %q: want one of %v", major, versions)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if data, ok := b.read[major]; ok {
		return data, nil
	}
	data, err := fs.ReadFile(b.fsys, "p5/p5-"+major+".min.js")
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(data) == 0) {
		return nil, fmt.Errorf("p5 %s.x: %w", major, ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("read p5 %s.x: %w", major, err)
	}
	if b.read == nil {
		b.read = make(map[string][]byte, len(versions))
	}
	data = escapeNonASCII(data)
	b.read[major] = data
	return data, nil
}

// Check returns an error naming every p5 build that is missing.
func (b *Bundle) Check() error {
	var errs []error
	for _, v := range versions {
		if _, err := b.P5(v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Versions returns the p5 majors a job may ask for.
func Versions() []string { return append([]string(nil), versions...) }
