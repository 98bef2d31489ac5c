package hostcheck

import (
	"strings"
	"testing"
	"time"
)

func TestPageFault(t *testing.T) {
	d, err := PageFault(4<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	// A fault is more than a plain store to a cached page and, on any host
	// fit to run the tests, far less than a millisecond.
	if d <= 0 || d >= time.Millisecond {
		t.Errorf("PageFault = %v; want more than 0 and less than 1ms a page", d)
	}
}

func TestPageFaultNeedsAPage(t *testing.T) {
	for _, tc := range []struct {
		name         string
		size, rounds int
	}{
		{"no bytes", 0, 1},
		{"less than a page", 100, 1},
		{"no rounds", 1 << 20, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := PageFault(tc.size, tc.rounds); err == nil || !strings.Contains(err.Error(), "at least one page and one round") {
				t.Errorf("PageFault(%d, %d) error %v; want one asking for a page and a round", tc.size, tc.rounds, err)
			}
		})
	}
}
