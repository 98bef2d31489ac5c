package render

import "testing"

func TestParseByteRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header          string
		size            int64
		want            byteRange
		ok, satisfiable bool
	}{
		{"", 100, byteRange{}, false, true},
		{"bytes=0-", 100, byteRange{0, 99}, true, true},
		{"bytes=10-19", 100, byteRange{10, 19}, true, true},
		{"bytes=90-200", 100, byteRange{90, 99}, true, true},
		{"bytes=-10", 100, byteRange{90, 99}, true, true},
		{"bytes=-200", 100, byteRange{0, 99}, true, true},
		{" bytes= 5 - 6 ", 100, byteRange{5, 6}, true, true},
		{"bytes=100-", 100, byteRange{}, true, false},
		{"bytes=-0", 100, byteRange{}, true, false},
		{"bytes=0-", 0, byteRange{}, true, false},
		{"bytes=5-4", 100, byteRange{}, false, true},
		{"bytes=0-1,5-6", 100, byteRange{}, false, true},
		{"items=0-1", 100, byteRange{}, false, true},
		{"bytes=x-1", 100, byteRange{}, false, true},
		{"bytes=1-x", 100, byteRange{}, false, true},
		{"bytes=5", 100, byteRange{}, false, true},
	} {
		t.Run(tc.header, func(t *testing.T) {
			t.Parallel()
			got, ok, sat := parseByteRange(tc.header, tc.size)
			if got != tc.want || ok != tc.ok || sat != tc.satisfiable {
				t.Errorf("parseByteRange(%q, %d) = %+v, %v, %v; want %+v, %v, %v", tc.header, tc.size, got, ok, sat, tc.want, tc.ok, tc.satisfiable)
			}
		})
	}
	if got := (byteRange{10, 19}).contentRange(100); got != "bytes 10-19/100" {
		t.Errorf("contentRange = %q", got)
	}
}
