package render

import (
	"strings"
	"testing"

	"github.com/empplay/empplay"
)

// TestBlockedRequestOutcomeIsStable: a sketch that asks for a blocked URL
// and then fails, or is captured, gets the same outcome every time. The
// page's report and the refused request reach the renderer by different
// ways; the report waits for the page's loads in flight, which the
// renderer records before it answers them.
func TestBlockedRequestOutcomeIsStable(t *testing.T) {
	b := sharedBrowser(t)
	const runs = 8
	for _, v := range fidMajors {
		t.Run("throw after fetch "+v, func(t *testing.T) {
			for i := 0; i < runs; i++ {
				_, err := render(t, b, fidJob(`function setup(){ createCanvas(8,8); fetch('https://example.com/x.json').catch(()=>{}); throw new Error('boom'); }`, 8, 8, v))
				if code := empplay.ErrorCode(err); code != empplay.CodeNetworkBlocked || !strings.Contains(err.Error(), "https://example.com/x.json") {
					t.Fatalf("run %d: %s (%v); want network_blocked naming the URL every time", i, code, err)
				}
			}
		})
		t.Run("captured after fetch "+v, func(t *testing.T) {
			for i := 0; i < runs; i++ {
				out, err := render(t, b, fidJob(`function setup(){ createCanvas(8,8); fetch('https://example.com/x.json').catch(()=>{}); background(200); }`, 8, 8, v))
				if err != nil {
					t.Fatal(err)
				}
				if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "https://example.com/x.json") {
					t.Fatalf("run %d: warnings %q; want the one that names the blocked URL, every time", i, out.Warnings)
				}
			}
		})
	}
}
