package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/fetcher"
)

// TestRenderIsolationCacheProbe proves that a job cannot tell which URLs
// jobs before it loaded, through anything the browser shares between jobs
// (its HTTP cache, p5's compilation cache, the asset cache of the worker):
// a file an earlier job loaded looks to the page exactly like one no job
// loaded, and p5.js looks the same to every job. It compares what a page
// observes without timing, the fields of its resource timing entries that
// say where a response came from (transferSize is 0 and deliveryType
// "cache" for a cached one, for instance) and the response's headers.
func TestRenderIsolationCacheProbe(t *testing.T) {
	// Two files of the same size, both allowed; only seen.bin is loaded
	// by the first job.
	body := bytes.Repeat([]byte("x"), 4096)
	src := newCDN(t, map[string][]byte{"/seen.bin": body, "/unseen.bin": body})
	origins, err := fetcher.NewOrigins(src.URL)
	if err != nil {
		t.Fatal(err)
	}
	probe := func(names ...string) *empplay.Job {
		list, _ := json.Marshal(names)
		j := job(`
async function setup() {
  createCanvas(10, 10);
  const headers = {};
  for (const name of `+string(list)+`) {
    const r = await fetch(name);
    await r.arrayBuffer();
    headers['/' + name] = r.type + ' ' + [...r.headers].join('; ');
  }
  const entries = performance.getEntriesByType('resource');
  const shape = (end) => {
    const e = entries.find((e) => e.name.endsWith(end));
    return e ? [e.initiatorType, e.transferSize, e.encodedBodySize, e.decodedBodySize,
      JSON.stringify(e.deliveryType), e.responseStatus, e.nextHopProtocol, headers[end]].join(' ') : 'none';
  };
  throw new Error('probe ' + JSON.stringify({seen: shape('/seen.bin'), unseen: shape('/unseen.bin'), p5: shape('.min.js')}));
}`, 10, 10)
		j.P5Version = "2" // awaits an async setup()
		j.Assets = map[string]string{"seen.bin": src.URL + "/seen.bin", "unseen.bin": src.URL + "/unseen.bin"}
		return j
	}
	type shapes struct{ Seen, Unseen, P5 string }
	observe := func(t *testing.T, b *Browser, j *empplay.Job) shapes {
		t.Helper()
		_, err := render(t, b, j)
		var e *empplay.Error
		if !errors.As(err, &e) || e.Code != empplay.CodeSketchError {
			t.Fatalf("the probe did not report: %v", err)
		}
		msg := err.Error()
		i, k := strings.Index(msg, "probe {"), strings.LastIndex(msg, "}")
		if i < 0 || k < i {
			t.Fatalf("the probe did not report: %v", err)
		}
		var s shapes
		if err := json.Unmarshal([]byte(msg[i+len("probe "):k+1]), &s); err != nil {
			t.Fatalf("decode %q: %v", msg, err)
		}
		return s
	}
	for _, mode := range []string{IsolateOrigin, IsolateContext} {
		t.Run(mode, func(t *testing.T) {
			cache, err := fetcher.OpenCache(t.TempDir(), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			b := newTestBrowser(t, Options{Isolation: mode,
				Assets: fetcher.New(fetcher.Config{Origins: origins, Client: src.Client(), Cache: cache})})
			first := observe(t, b, probe("seen.bin"))
			if first.Seen == "none" || first.P5 == "none" {
				t.Fatalf("the first job saw no timing entries: %+v", first)
			}
			// Three jobs after it, one of them in the same tab.
			for i := range 3 {
				s := observe(t, b, probe("seen.bin", "unseen.bin"))
				t.Logf("job %d: %+v", i+2, s)
				if s.Seen != s.Unseen {
					t.Errorf("job %d: a file an earlier job loaded looks different from one no job loaded: %q, %q", i+2, s.Seen, s.Unseen)
				}
				if s.Seen != first.Seen {
					t.Errorf("job %d: the file looks different from when the first job loaded it: %q, then %q", i+2, first.Seen, s.Seen)
				}
				if s.P5 != first.P5 {
					t.Errorf("job %d: p5.js looks different from what the first job saw: %q, then %q", i+2, first.P5, s.P5)
				}
			}
		})
	}
}
