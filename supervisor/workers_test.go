package supervisor

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseWorkers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		want    []Pool
		wantErr string // substring of the error; "" for success
	}{
		{name: "playwright only", in: "playwright:4", want: []Pool{{PoolPlaywright, 4}}},
		{name: "both", in: "comfyui:2,playwright:4", want: []Pool{{PoolComfyUI, 2}, {PoolPlaywright, 4}}},
		{name: "whitespace", in: "  comfyui : 2 ,\tplaywright:  4  ", want: []Pool{{PoolComfyUI, 2}, {PoolPlaywright, 4}}},
		{name: "comfyui zero", in: "comfyui:0,playwright:1", want: []Pool{{PoolComfyUI, 0}, {PoolPlaywright, 1}}},
		{name: "max count", in: "playwright:64", want: []Pool{{PoolPlaywright, 64}}},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "blank", in: "   ", wantErr: "empty"},
		{name: "empty item", in: "playwright:4,", wantErr: "item 2 is empty"},
		{name: "no colon", in: "playwright", wantErr: `item "playwright" has no count`},
		{name: "no count", in: "playwright:", wantErr: `item "playwright:" has no count`},
		{name: "not an integer", in: "playwright:four", wantErr: `item "playwright:four": count "four" is not an integer`},
		{name: "float", in: "playwright:1.5", wantErr: `count "1.5" is not an integer`},
		{name: "negative", in: "playwright:-1", wantErr: `item "playwright:-1": count -1 is out of range 0..64`},
		{name: "over max", in: "playwright:65", wantErr: `item "playwright:65": count 65 is out of range 0..64`},
		{name: "unknown", in: "chrome:2,playwright:1", wantErr: `item "chrome:2": unknown pool "chrome"; known pools: comfyui, playwright`},
		{name: "case matters", in: "Playwright:1", wantErr: `unknown pool "Playwright"`},
		{name: "duplicate", in: "playwright:1, playwright:2", wantErr: `item "playwright:2": pool "playwright" is listed twice`},
		{name: "playwright zero", in: "comfyui:2,playwright:0", wantErr: "playwright:0: nothing to supervise"},
		{name: "no playwright", in: "comfyui:2", wantErr: "no playwright entry: nothing to supervise"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseWorkers(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseWorkers(%q) = %v, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWorkers(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseWorkers(%q) = %v; want %v", tc.in, got, tc.want)
			}
		})
	}
}
