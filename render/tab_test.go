package render

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"
)

// TestParkForgetsTheJob: parking a tab of the shared context leaves the
// page, has the browser forget what the page stored at its origin, closes
// windows that are not the browser's tabs and resets the tab's history.
func TestParkForgetsTheJob(t *testing.T) {
	b := newTestBrowser(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := b.current()
	tb, err := b.idleTab(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := newJSPage(jsJob("<p>x</p>", "", "", 10, 10, ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.load(ctx, pg); err != nil {
		t.Fatal(err)
	}
	origin := tb.currentOrigin()
	eval := func(expr string) string {
		t.Helper()
		yes := true
		res, err := cdp.Call(ctx, tb.target.Load(), runtime.Evaluate, runtime.EvaluateParams{
			Expression: expr, AwaitPromise: &yes, ReturnByValue: &yes,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExceptionDetails != nil {
			t.Fatalf("%s: %s", expr, res.ExceptionDetails.Text)
		}
		var v string
		_ = json.Unmarshal(res.Result.Value, &v)
		return v
	}
	eval(`(async () => {
  localStorage.setItem('k', 'x'.repeat(100000));
  document.cookie = 'k=v; max-age=3600';
  await new Promise(r => { const o = indexedDB.open('db', 1); o.onupgradeneeded = () => o.result.createObjectStore('s'); o.onsuccess = r; });
  await (await caches.open('c')).put('/k', new Response('x'.repeat(100000)));
  history.pushState(null, '', '?a'); history.pushState(null, '', '?b');
  return 'ok';
})()`)
	usage := func() float64 {
		t.Helper()
		u, err := cdp.Call(ctx, tb.target.Load(), storage.GetUsageAndQuota, storage.GetUsageAndQuotaParams{Origin: origin})
		if err != nil {
			t.Fatal(err)
		}
		return u.Usage
	}
	cookies := func() int {
		t.Helper()
		c, err := cdp.Call(ctx, in.cdp, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: in.shared})
		if err != nil {
			t.Fatal(err)
		}
		return len(c.Cookies)
	}
	if usage() == 0 || cookies() == 0 {
		t.Fatalf("the page stored nothing (usage %v, %d cookies): the test proves nothing", usage(), cookies())
	}
	// A window the page opened: a page target in the shared context that
	// is not one of the browser's tabs.
	stray, err := cdp.Call(ctx, in.cdp, target.CreateTarget, target.CreateTargetParams{URL: "about:blank", BrowserContextID: in.shared})
	if err != nil {
		t.Fatal(err)
	}

	if err := b.park(tb); err != nil {
		t.Fatalf("park: %v", err)
	}
	if got := usage(); got != 0 {
		t.Errorf("the job's origin still uses %v bytes after park", got)
	}
	if n := cookies(); n != 0 {
		t.Errorf("%d cookies left in the shared context after park", n)
	}
	targets, err := cdp.Call(ctx, in.cdp, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range targets.TargetInfos {
		if ti.TargetID == stray.TargetID {
			t.Errorf("the stray window is still open after park")
		}
	}
	if o := tb.currentOrigin(); o == origin {
		t.Errorf("the parked tab is still at the job's origin %s", o)
	}
	if n := eval(`String(history.length)`); n != "1" {
		t.Errorf("history.length = %s after park, want 1", n)
	}
}
