package assets

import (
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"
)

func TestBundle(t *testing.T) {
	t.Parallel()
	full := FromFS(fstest.MapFS{
		"p5/p5-1.min.js": {Data: []byte("/*p5 1*/")},
		"p5/p5-2.min.js": {Data: []byte("/*p5 2*/")},
	})
	empty := FromFS(fstest.MapFS{"p5/README.md": {Data: []byte("x")}})
	for _, tc := range []struct {
		name    string
		b       *Bundle
		major   string
		want    string
		wantErr error
	}{
		{"default is 1", full, "", "/*p5 1*/", nil},
		{"major 2", full, "2", "/*p5 2*/", nil},
		{"unknown major", full, "3", "", nil},
		{"missing build", empty, "1", "", ErrMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.b.P5(tc.major)
			if tc.want != "" {
				if err != nil || string(got) != tc.want {
					t.Fatalf("P5(%q) = %q, %v; want %q", tc.major, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("P5(%q) succeeded; want an error", tc.major)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("P5(%q) error %v; want %v", tc.major, err, tc.wantErr)
			}
		})
	}
	if err := full.Check(); err != nil {
		t.Errorf("Check on a full bundle: %v", err)
	}
	if err := empty.Check(); !errors.Is(err, ErrMissing) {
		t.Errorf("Check on an empty bundle = %v; want ErrMissing", err)
	}
}

// countingFS counts the files opened in it.
type countingFS struct {
	fs.FS
	opened map[string]int
}

func (c countingFS) Open(name string) (fs.File, error) {
	c.opened[name]++
	return c.FS.Open(name)
}

// TestBundleReadsOnce: a build is read from its file system once, then the
// same bytes are handed out.
func TestBundleReadsOnce(t *testing.T) {
	t.Parallel()
	c := countingFS{fstest.MapFS{"p5/p5-1.min.js": {Data: []byte("/*p5 1*/")}}, map[string]int{}}
	b := FromFS(c)
	var first []byte
	for i := range 3 {
		got, err := b.P5("1")
		if err != nil || string(got) != "/*p5 1*/" {
			t.Fatalf("call %d: P5 = %q, %v", i+1, got, err)
		}
		if first == nil {
			first = got
		} else if &got[0] != &first[0] {
			t.Errorf("call %d: a new copy of the build", i+1)
		}
	}
	if n := c.opened["p5/p5-1.min.js"]; n != 1 {
		t.Errorf("the build was opened %d times, want 1", n)
	}
}
