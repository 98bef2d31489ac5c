package render

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/fetcher"
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

// TestDeadlineCaptureWithALoadInFlight: a report waits for the page's
// loads, but not at the deadline: a sketch that drew and still waits for
// a slow file is captured there, not failed with render_timeout.
func TestDeadlineCaptureWithALoadInFlight(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	origins, err := fetcher.NewOrigins(slow.URL)
	if err != nil {
		t.Fatal(err)
	}
	b := newTestBrowser(t, Options{Assets: fetcher.New(fetcher.Config{Origins: origins, FileTimeout: 30 * time.Second})})
	// The call that never comes makes the page wait for a signal.
	j := job(`function setup(){ createCanvas(16,16); pixelDensity(1); background(255,0,0); fetch('slow.json'); if (false) capture(); }`, 16, 16)
	j.Assets = map[string]string{"slow.json": slow.URL + "/slow.json"}
	// A fresh browser's first job loads p5 and compiles it: warm it up, so
	// that the 3 s are the sketch's on a loaded host too.
	mustRender(t, b, job(`function setup(){ createCanvas(8,8); background(0); }`, 8, 8))
	j.TimeoutMs = 3000
	out, err := render(t, b, j)
	if err != nil {
		t.Fatalf("Render: %s %v; want the picture at the deadline", empplay.ErrorCode(err), err)
	}
	if out.Trigger != "deadline" {
		t.Errorf("trigger %q; want deadline", out.Trigger)
	}
}
