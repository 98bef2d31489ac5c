package chromiumtmp

import (
	"os"
	"path/filepath"
	"strings"
)

// RemoveSingletonDir removes the socket directory that the profile
// directory profile links to, if any. Nothing but such a directory is
// removed.
func RemoveSingletonDir(profile string) {
	link, err := os.Readlink(filepath.Join(profile, "SingletonSocket"))
	if err != nil || filepath.Base(link) != "SingletonSocket" {
		return
	}
	sock := filepath.Dir(link)
	if !strings.HasPrefix(filepath.Base(sock), "org.chromium.Chromium.") {
		return
	}
	_ = os.RemoveAll(sock)
}

// RemoveSingletonDirs does RemoveSingletonDir for root and every directory
// directly in it: a worker slot's directory holds its browsers' profiles.
func RemoveSingletonDirs(root string) {
	RemoveSingletonDir(root)
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() {
			RemoveSingletonDir(filepath.Join(root, e.Name()))
		}
	}
}
