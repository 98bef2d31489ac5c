package assets

import (
	"errors"
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
