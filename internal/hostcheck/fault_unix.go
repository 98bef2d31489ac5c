//go:build unix

package hostcheck

import (
	"fmt"
	"syscall"
	"time"
)

// touch maps pages pages of anonymous memory, writes to each once and
// returns how long the writes took.
func touch(pages, page int) (time.Duration, error) {
	b, err := syscall.Mmap(-1, 0, pages*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return 0, fmt.Errorf("map %d pages: %w", pages, err)
	}
	start := time.Now()
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	d := time.Since(start)
	if err := syscall.Munmap(b); err != nil {
		return 0, fmt.Errorf("unmap %d pages: %w", pages, err)
	}
	return d, nil
}
