// This file holds one running Chromium (an instance) and the bookkeeping of its tabs.

package render

import (
	"context"
	"fmt"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"golang.org/x/sys/unix"

	"github.com/empplay/empplay/internal/cdpcbor"
	"github.com/empplay/empplay/internal/proc"
)

// instance is one running Chromium.
type instance struct {
	// ctx is the chromedp context that owns the browser: new tabs are made
	// from it, and cancelling it kills the process group. It is the one
	// context kept in a struct, because every job needs it.
	ctx         context.Context
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	cdp         *chromedp.Browser
	pid         int
	// procs follows the processes of the browser's group (pid's), which
	// the renderer checks a few times per job.
	procs *proc.Follower
	dir   string
	// pinned is set when the browser started bound to one CPU of several
	// and renderers are given cpus, the worker's CPUs, once they have
	// started (see cpus.go).
	pinned bool
	cpus   unix.CPUSet
	// refs, when not nil, carries large binary fields of commands to the
	// browser as they are (see binary).
	refs *cdpcbor.Refs
	// shared is the incognito browser context every tab opens in under
	// IsolateOrigin, "" under IsolateContext.
	shared cdp.BrowserContextID

	// opening is held while a tab of the shared context is opened, from
	// before its target exists until it is among tabs, and while
	// closeStrays runs: a tab half open is not a window some page opened.
	opening sync.Mutex

	mu   sync.Mutex
	tabs map[target.ID]*tab // every open tab
	idle []*tab             // parked tabs (see Browser.park), at most maxIdle
	// pending is what the next park clears besides the origin it leaves
	// (see recheck): again the origins the last park cleared, and the
	// origins of tabs closed since instead of parked.
	pending []originClear

	stopOnce sync.Once
	stopErr  error

	// code is V8's compilation cache of each p5.js build, by the URL
	// pages load it from; primed is the builds whose cache was attempted
	// (see primeP5).
	codeMu sync.Mutex
	code   map[string][]byte
	primed map[string]bool
}

// tryPrime reports whether the compilation cache of the p5.js build at url
// is still to be made, and notes that it is being made.
func (inst *instance) tryPrime(url string) bool {
	inst.codeMu.Lock()
	defer inst.codeMu.Unlock()
	if inst.primed[url] {
		return false
	}
	if inst.primed == nil {
		inst.primed = make(map[string]bool)
	}
	inst.primed[url] = true
	return true
}

// refMin is the smallest binary field that binary hands over by
// reference: below it base64 costs less than the reference's bookkeeping.
const refMin = 16 << 10

// binary returns what to put in a []byte field of a command for data to
// reach the browser: on the DevTools pipe in CBOR, a reference that the
// conversion replaces by data itself (see cdpcbor.Refs), so that neither
// side turns data into base64 and back; otherwise data.
func (inst *instance) binary(data []byte) []byte {
	if inst.refs == nil || len(data) < refMin {
		return data
	}
	return inst.refs.Ref(data)
}

// p5Code is the compilation cache of the p5.js build at url, nil when
// there is none.
func (inst *instance) p5Code(url string) []byte {
	inst.codeMu.Lock()
	defer inst.codeMu.Unlock()
	return inst.code[url]
}

// keepP5Code keeps the compilation cache of the p5.js build at url.
func (inst *instance) keepP5Code(url string, data []byte) {
	inst.codeMu.Lock()
	defer inst.codeMu.Unlock()
	if inst.code == nil {
		inst.code = make(map[string][]byte)
	}
	inst.code[url] = data
}

// maxIdle is how many parked tabs a browser keeps: a job's tab and the next
// job's are all it ever needs.
const maxIdle = 2

func (inst *instance) addTab(tb *tab) {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if inst.tabs == nil {
		inst.tabs = make(map[target.ID]*tab)
	}
	if tg := tb.target.Load(); tg != nil {
		inst.tabs[tg.TargetID] = tb
	}
}

func (inst *instance) dropTab(tb *tab) {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if tg := tb.target.Load(); tg != nil {
		delete(inst.tabs, tg.TargetID)
	}
}

// takeIdle returns a parked tab, nil when there is none.
func (inst *instance) takeIdle() *tab {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	n := len(inst.idle)
	if n == 0 {
		return nil
	}
	tb := inst.idle[n-1]
	inst.idle = inst.idle[:n-1]
	return tb
}

// putIdle keeps a parked tab for a later job; false means there are enough
// and the caller closes it.
func (inst *instance) putIdle(tb *tab) bool {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if len(inst.idle) >= maxIdle {
		return false
	}
	inst.idle = append(inst.idle, tb)
	return true
}

// originClear is one Storage.clearDataForOrigin a park sends: of origin,
// for the first time or (again) the second and last.
type originClear struct {
	origin string
	again  bool
}

// clearTypes is every kind of storage a page can write: cookies, local
// storage, IndexedDB, Cache Storage, file systems (the origin private file
// system) and service workers. Chromium's "all" adds kinds no job's page
// can reach, at eight times the cost (about 5 ms of the browser's CPU a
// call against 0.6, 4 of them in the GPU shader cache, which no page
// reads): storage buckets and interest groups, whose APIs are off (see
// chromiumSwitches), and data that needs the network or a plugin.
// TestParkForgetsTheJob holds both sides.
const clearTypes = "cookies,local_storage,indexeddb,cache_storage,file_systems,service_workers"

// recheck returns the clears of a park that left origin old: old (unless
// it is ""), the origins of tabs closed since instead of parked (see
// forget), and again the origins the park before cleared, of what the
// last handlers of their pages may have stored since (see Browser.tidy).
// It notes the origins it clears for the first time for the next.
func (inst *instance) recheck(old string) []originClear {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	var clears []originClear
	if old != "" {
		clears = append(clears, originClear{origin: old})
	}
	for _, c := range inst.pending {
		if c.origin != old {
			clears = append(clears, c)
		}
	}
	inst.pending = inst.pending[:0]
	for _, c := range clears {
		if !c.again {
			inst.pending = append(inst.pending, originClear{origin: c.origin, again: true})
		}
	}
	return clears
}

// forget notes the origin of a tab of the shared context that is closed
// rather than parked, for the next park to clear: closing a tab does not
// clear its origin's storage in the context.
func (inst *instance) forget(origin string) {
	if origin == "" || inst.shared == "" {
		return
	}
	inst.mu.Lock()
	defer inst.mu.Unlock()
	for i, c := range inst.pending {
		if c.origin == origin {
			inst.pending[i].again = false
			return
		}
	}
	inst.pending = append(inst.pending, originClear{origin: origin})
}

// closeStrays closes every page in the shared browser context that is not
// one of the browser's tabs: windows a job's page opened.
func (inst *instance) closeStrays(ctx context.Context) error {
	inst.opening.Lock()
	defer inst.opening.Unlock()
	res, err := cdp.Call(ctx, inst.cdp, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		return fmt.Errorf("list the targets: %w", err)
	}
	for _, ti := range res.TargetInfos {
		if ti.BrowserContextID != inst.shared || ti.Type != "page" {
			continue
		}
		inst.mu.Lock()
		_, ours := inst.tabs[ti.TargetID]
		inst.mu.Unlock()
		if ours {
			continue
		}
		if _, err := cdp.Call(ctx, inst.cdp, target.CloseTarget, target.CloseTargetParams{TargetID: ti.TargetID}); err != nil {
			return fmt.Errorf("close a window a page opened: %w", err)
		}
	}
	return nil
}

// targetCrashed hands the browser's termination status of a crashed
// renderer ("oom", "crashed", "killed", ...) to the tab of target id, if
// it is one of the browser's. It runs on chromedp's event loop.
func (inst *instance) targetCrashed(id target.ID, status string) {
	inst.mu.Lock()
	tb := inst.tabs[id]
	inst.mu.Unlock()
	if tb == nil {
		return
	}
	select {
	case tb.crashInfo <- status:
	default:
	}
}

// alive reports whether the DevTools connection is still up.
func (inst *instance) alive() bool {
	return inst.ctx.Err() == nil
}
