package assets

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
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

// Bundle is a set of p5 builds, keyed by major version.
type Bundle struct {
	fsys fs.FS
}

// Embedded returns the p5 builds compiled into the binary.
func Embedded() *Bundle { return &Bundle{fsys: files} }

// FromFS returns the p5 builds found in fsys under p5/ (for tests and for
// a cache directory).
func FromFS(fsys fs.FS) *Bundle { return &Bundle{fsys: fsys} }

// P5 returns p5.min.js of the given major ("1" or "2"; "" is [DefaultP5]).
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
	data, err := fs.ReadFile(b.fsys, "p5/p5-"+major+".min.js")
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(data) == 0) {
		return nil, fmt.Errorf("p5 %s.x: %w", major, ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("read p5 %s.x: %w", major, err)
	}
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
