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
		name        string
		slots       int
		mem         slotMemory
		high, limit int
	}{
		{"defaults, one slot", 1, slotMemory{1536, 1024, 512}, 3456, 3840},
		{"four slots", 4, slotMemory{1536, 1024, 512}, 12441, 13824},
		{"small jobs", 2, slotMemory{1024, 256, 64}, 3340, 3712},
		{"no slots: the supervisor alone", 0, slotMemory{1536, 1024, 512}, 460, 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			high, limit := systemdLimits(tc.slots, tc.mem)
			if high != tc.high || limit != tc.limit {
				t.Errorf("systemdLimits(%d, %+v) = %d, %d; want %d, %d", tc.slots, tc.mem, high, limit, tc.high, tc.limit)
			}
			var b bytes.Buffer
			if err := writeSystemdLimits(&b, "playwright:x", tc.slots, tc.mem); err != nil {
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
