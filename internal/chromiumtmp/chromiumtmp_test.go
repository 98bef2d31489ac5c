package chromiumtmp

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRemoveSingletonDirs(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	mk := func(dir string) string {
		t.Helper()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	link := func(profile, target string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(mk(profile), "SingletonSocket")); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(tmp, "slot")
	sockA := mk(filepath.Join(tmp, "org.chromium.Chromium.aaaaaa"))
	sockB := mk(filepath.Join(tmp, "org.chromium.Chromium.bbbbbb"))
	other := mk(filepath.Join(tmp, "precious"))
	link(filepath.Join(root, "empplay-chromium-1"), filepath.Join(sockA, "SingletonSocket"))
	link(filepath.Join(root, "empplay-chromium-2"), filepath.Join(sockB, "SingletonSocket"))
	// Links that do not look like Chromium's are left alone.
	link(filepath.Join(root, "odd-1"), filepath.Join(other, "SingletonSocket"))
	link(filepath.Join(root, "odd-2"), filepath.Join(tmp, "org.chromium.Chromium.cccccc", "elsewhere"))
	mk(filepath.Join(tmp, "org.chromium.Chromium.cccccc"))

	RemoveSingletonDirs(root)
	for _, tc := range []struct {
		dir  string
		gone bool
	}{
		{sockA, true},
		{sockB, true},
		{other, false},
		{filepath.Join(tmp, "org.chromium.Chromium.cccccc"), false},
		{root, false}, // the caller removes the profiles
	} {
		_, err := os.Stat(tc.dir)
		if gone := errors.Is(err, os.ErrNotExist); gone != tc.gone {
			t.Errorf("%s: gone %v, want %v", tc.dir, gone, tc.gone)
		}
	}
	RemoveSingletonDirs(filepath.Join(tmp, "missing")) // no panic, nothing to do
}
