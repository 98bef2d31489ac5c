// This file measures what a page fault costs the host.

package hostcheck

import (
	"fmt"
	"os"
	"time"
)

// SlowPageFault is the page-fault cost above which a host is a poor render
// host: several times what bare metal or hardware-virtualised VMs measure.
const SlowPageFault = 5 * time.Microsecond

// PageFault returns what the first touch of one page of fresh anonymous
// memory costs this host: it maps size bytes, writes one byte of every
// page, unmaps them, and does so rounds times; the least of the rounds
// counts, since a busy host can only make a round slower. size is rounded
// down to whole pages and must hold at least one.
func PageFault(size, rounds int) (time.Duration, error) {
	page := os.Getpagesize()
	pages := size / page
	if pages < 1 || rounds < 1 {
		return 0, fmt.Errorf("page fault probe: needs at least one page and one round, got %d bytes and %d rounds", size, rounds)
	}
	best := time.Duration(-1)
	for range rounds {
		d, err := touch(pages, page)
		if err != nil {
			return 0, fmt.Errorf("page fault probe: %w", err)
		}
		if per := d / time.Duration(pages); best < 0 || per < best {
			best = per
		}
	}
	return best, nil
}
