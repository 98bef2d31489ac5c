package cmd

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

func TestSystemdLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                      string
		slots, recycleMiB, jobMiB int
		high, limit               int
	}{
		{"defaults, one slot", 1, 1536, 1024, 2995, 3328},
		{"four slots", 4, 1536, 1024, 10598, 11776},
		{"small jobs", 2, 1024, 256, 3225, 3584},
		{"no slots: the supervisor alone", 0, 1536, 1024, 460, 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			high, limit := systemdLimits(tc.slots, tc.recycleMiB, tc.jobMiB)
			if high != tc.high || limit != tc.limit {
				t.Errorf("systemdLimits(%d, %d, %d) = %d, %d; want %d, %d", tc.slots, tc.recycleMiB, tc.jobMiB, high, limit, tc.high, tc.limit)
			}
			var b bytes.Buffer
			if err := writeSystemdLimits(&b, "playwright:x", tc.slots, tc.recycleMiB, tc.jobMiB); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"\n[Service]\n", "\nMemoryHigh=" + strconv.Itoa(tc.high) + "M\n", "\nMemoryMax=" + strconv.Itoa(tc.limit) + "M\n"} {
				if !strings.Contains(b.String(), want) {
					t.Errorf("drop-in lacks %q:\n%s", want, b.String())
				}
			}
		})
	}
}
