package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

// newTestChrome starts a headless Chromium of the test's own and returns
// a tab's context; the browser is closed, and checked gone, with the test.
func newTestChrome(t *testing.T) context.Context {
	t.Helper()
	dir := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.ChromiumPath(t)),
		chromedp.UserDataDir(dir),
		// The tab loads only the supervisor's own page; the sandbox needs
		// user namespaces a test host (or root) may not offer.
		chromedp.NoSandbox,
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		if pids := proc.Naming(dir); len(pids) > 0 {
			t.Errorf("Chromium processes still use %s: %v", dir, pids)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// flakyAsset serves one text file: 503 until healthy is set.
func flakyAsset(t *testing.T) (*httptest.Server, *atomic.Bool) {
	t.Helper()
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "hello\n")
	}))
	t.Cleanup(srv.Close)
	return srv, &healthy
}

// pageValue evaluates expr in the tab until it returns want (compared as
// fmt's %v of both) or the timeout passes; it returns the last value.
func pageValue(t *testing.T, ctx context.Context, expr, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	// The page refreshes every 2 s; look a few times per refresh.
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
		if err == nil && fmt.Sprint(got) == want {
			return want
		}
		if time.Now().After(deadline) {
			t.Fatalf("page: %s = %v (err %v); want %s", expr, got, err, want)
		}
		<-tick.C
	}
}

// TestStatusPage loads the supervisor's status page in real headless
// Chromium against a real fleet (Redis, Azurite, `empplay supervise` with 2
// workers): it shows the workers' pids, a job in hand, the queue's counts,
// finished jobs with their outcome and output, and a dead letter, which
// its button requeues with the admin token; it loads nothing from another
// host, and requeue without the token or from another origin is refused.
func TestStatusPage(t *testing.T) {
	s := newStack(t)
	ctx := testenv.Context(t, 5*time.Minute)
	asset, healthy := flakyAsset(t)
	const token = "status-test-admin-token"
	sup := s.startSupervisor(t, 2, "MAX_ATTEMPTS=1", "ADMIN_TOKEN="+token, "ASSET_ORIGINS="+asset.URL,
		"ASSET_CACHE_DIR="+t.TempDir(), "BROWSER_TIMEOUT=20000")
	z := sup.waitReady(t, 2, 90*time.Second)
	base := "http://" + sup.addr
	admin := queue.NewAdmin(s.rc, "")

	okRes := s.submit(t, ctx, job(t, map[string]any{"code": "function setup(){ createCanvas(32,32); background(0,128,255); }",
		"width": 32, "height": 32, "filename": "status-ok.png"}))
	if !okRes.Success {
		t.Fatalf("job failed: %s (%s)", okRes.Error, okRes.ErrorCode)
	}
	// Its one attempt fails transiently (the asset answers 503), which with
	// MAX_ATTEMPTS=1 makes it a dead letter as well as a failed result.
	deadRaw := job(t, map[string]any{
		"code":  `let words; function preload(){ words = loadStrings("data/words.txt"); } function setup(){ createCanvas(16,16); background(200,0,0); }`,
		"width": 16, "height": 16, "filename": "status-dead.png",
		"assets": map[string]string{"data/words.txt": asset.URL + "/words.txt"},
	})
	deadRes := s.submit(t, ctx, deadRaw)
	if deadRes.Success || deadRes.ErrorCode != "asset_unavailable" {
		t.Fatalf("flaky-asset job: %+v; want asset_unavailable", deadRes)
	}
	dead, err := admin.Dead(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].ID != deadRes.ID {
		t.Fatalf("dead letters %+v (%v); want the flaky-asset job", dead, err)
	}

	tab := newTestChrome(t)
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/#token="+url.QueryEscape(token))); err != nil {
		t.Fatal(err)
	}

	var busy string // the id of a slow job the workers test submits
	t.Run("workers", func(t *testing.T) {
		var pids []string
		for _, sl := range z.Slots {
			pids = append(pids, strconv.Itoa(sl.PID))
		}
		slices.Sort(pids)
		pageValue(t, tab, `Array.from(document.querySelectorAll("#workers tbody tr")).map(tr => tr.dataset.pid).sort().join(",")`,
			strings.Join(pids, ","), 10*time.Second)
		// A job in hand: the page shows it on its worker's row, with how
		// long it has run.
		busyID, err := s.producer.Submit(ctx, []byte(job(t, map[string]any{"code": fmt.Sprintf(slowSketch, 8000), "clock": "real",
			"width": 64, "height": 64, "filename": "status-busy.png"})))
		if err != nil {
			t.Fatal(err)
		}
		busy = busyID
		pageValue(t, tab, `Array.from(document.querySelectorAll("#workers tbody tr")).some(tr =>
			tr.querySelector(".job").textContent === "`+busyID+`" && tr.cells[4].textContent !== "")`, "true", 20*time.Second)
		// Each worker's sandbox as it reports it (/readyz has the reports).
		fresh, _ := sup.readyz(t)
		var sandboxes []string
		for _, sl := range fresh.Slots {
			if sl.LastReport.Sandbox == "" {
				t.Fatalf("slot %+v reports no sandbox state", sl)
			}
			sandboxes = append(sandboxes, strconv.Itoa(sl.PID)+" "+sl.LastReport.Sandbox)
		}
		slices.Sort(sandboxes)
		pageValue(t, tab, `Array.from(document.querySelectorAll("#workers tbody tr")).map(tr => tr.dataset.pid + " " + tr.querySelector(".sandbox").textContent).sort().join(",")`,
			strings.Join(sandboxes, ","), 5*time.Second)
		pageValue(t, tab, `Array.from(document.querySelectorAll("#workers tbody tr")).every(tr =>
			/^\d/.test(tr.cells[5].textContent) && /iB$/.test(tr.cells[9].textContent) && tr.querySelector(".restarts").textContent === "0")`,
			"true", 15*time.Second)
	})

	t.Run("finished jobs", func(t *testing.T) {
		row := `document.querySelector('#finished tr[data-id="` + okRes.ID + `"]')`
		pageValue(t, tab, row+`?.querySelector(".outcome").textContent`, "success", 10*time.Second)
		pageValue(t, tab, row+`.querySelector("a").href`, okRes.Src, time.Second)
		pageValue(t, tab, `/ready \d/.test(`+row+`.querySelector(".stages").textContent)`, "true", time.Second)
		drow := `document.querySelector('#finished tr[data-id="` + deadRes.ID + `"]')`
		pageValue(t, tab, drow+`?.querySelector(".outcome").textContent + " " + `+drow+`?.querySelector(".code").textContent`,
			"failed asset_unavailable", 10*time.Second)
	})

	t.Run("queue", func(t *testing.T) {
		// Once the slow job is done the queue holds still: compare then.
		if busy != "" {
			wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			if _, err := s.producer.Wait(wctx, busy); err != nil {
				t.Fatalf("the slow job: %v", err)
			}
		}
		st, err := admin.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var inflight int64
		for _, w := range st.Workers {
			inflight += w.InFlight
		}
		pageValue(t, tab, `["pending","inflight","retrying","dead"].map(c => document.querySelector("#queue ."+c).textContent).join(",")`,
			fmt.Sprintf("%d,%d,%d,%d", st.Pending, inflight, st.Retrying, st.Dead), 10*time.Second)
	})

	t.Run("nothing from another host", func(t *testing.T) {
		resp, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := regexp.MustCompile(`(?i)(src|href|url)\s*[=(]\s*["']?\s*(https?:)?//`).Find(body); m != nil {
			t.Errorf("the page references another host: %s", m)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("Content-Security-Policy %q; want default-src 'none' and connect-src 'self'", csp)
		}
		pageValue(t, tab, `performance.getEntriesByType("resource").every(e => new URL(e.name).origin === location.origin) &&
			Array.from(document.querySelectorAll("[src], link[href]")).every(e => new URL(e.src || e.href, location.href).origin === location.origin)`,
			"true", time.Second)
	})

	t.Run("requeue refused without the token or from another origin", func(t *testing.T) {
		body := `{"id":"` + deadRes.ID + `"}`
		for _, tc := range []struct {
			name    string
			headers map[string]string
		}{
			{"no token", nil},
			{"wrong token", map[string]string{"X-Admin-Token": "nope"}},
			{"token as a bearer API token", map[string]string{"Authorization": "Bearer " + token}},
			{"token in a cookie", map[string]string{"Cookie": "X-Admin-Token=" + token + "; token=" + token}},
			{"foreign Origin", map[string]string{"X-Admin-Token": token, "Origin": "https://evil.example"}},
			{"cross-site fetch", map[string]string{"X-Admin-Token": token, "Sec-Fetch-Site": "cross-site"}},
		} {
			req, _ := http.NewRequest(http.MethodPost, base+"/status/requeue", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %s; want 403", tc.name, resp.Status)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, base+"/status/requeue", strings.NewReader("id="+deadRes.ID+"&token="+token))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("token in a form field: %s; want 403", resp.Status)
		}
		if d, err := admin.Dead(ctx, 10); err != nil || len(d) != 1 {
			t.Fatalf("dead letters after refused requeues: %+v (%v); want still one", d, err)
		}
	})

	t.Run("requeue through the button", func(t *testing.T) {
		healthy.Store(true) // the job can succeed now
		button := `#dead tr[data-id="` + deadRes.ID + `"] button.requeue`
		if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(button)), chromedp.Click(chromedp.CSS(button))); err != nil {
			t.Fatal(err)
		}
		pageValue(t, tab, `document.getElementById("msg").textContent`, "requeued "+deadRes.ID, 10*time.Second)
		if d, err := admin.Dead(ctx, 10); err != nil || len(d) != 0 {
			t.Fatalf("dead letters after the requeue: %+v (%v); want none", d, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		res, err := s.producer.Wait(wctx, deadRes.ID)
		if err != nil || !res.Success {
			t.Fatalf("requeued job: %+v (%v); want success", res, err)
		}
		pageValue(t, tab, `document.querySelector("#queue .dead").textContent`, "0", 10*time.Second)
	})

	if os.Getenv("EMPPLAY_STATUS_SCREENSHOT") != "" {
		if png, err := chromedp.Run(tab, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(os.Getenv("EMPPLAY_STATUS_SCREENSHOT"), png, 0o644)
		}
	}
}
