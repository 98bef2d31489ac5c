// This file holds one running Chromium (an instance) and the bookkeeping of its tabs.

package render

import (
	"context"
	"fmt"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
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
	dir         string
	// shared is the incognito browser context every tab opens in under
	// IsolateOrigin, "" under IsolateContext.
	shared cdp.BrowserContextID

	mu   sync.Mutex
	tabs map[target.ID]*tab // every open tab
	idle []*tab             // parked tabs (see Browser.park), at most maxIdle

	stopOnce sync.Once
	stopErr  error
}

// maxIdle is how many parked tabs a browser keeps: a job's tab and the next
// job's are all it ever needs.
const maxIdle = 2

func (in *instance) addTab(t *tab) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.tabs == nil {
		in.tabs = make(map[target.ID]*tab)
	}
	if tg := t.target.Load(); tg != nil {
		in.tabs[tg.TargetID] = t
	}
}

func (in *instance) dropTab(t *tab) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if tg := t.target.Load(); tg != nil {
		delete(in.tabs, tg.TargetID)
	}
}

// takeIdle returns a parked tab, nil when there is none.
func (in *instance) takeIdle() *tab {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := len(in.idle)
	if n == 0 {
		return nil
	}
	t := in.idle[n-1]
	in.idle = in.idle[:n-1]
	return t
}

// putIdle keeps a parked tab for a later job; false means there are enough
// and the caller closes it.
func (in *instance) putIdle(t *tab) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.idle) >= maxIdle {
		return false
	}
	in.idle = append(in.idle, t)
	return true
}

// closeStrays closes every page in the shared browser context that is not
// one of the browser's tabs: windows a job's page opened.
func (in *instance) closeStrays(ctx context.Context) error {
	res, err := cdp.Call(ctx, in.cdp, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		return fmt.Errorf("list the targets: %w", err)
	}
	for _, ti := range res.TargetInfos {
		if ti.BrowserContextID != in.shared || ti.Type != "page" {
			continue
		}
		in.mu.Lock()
		_, ours := in.tabs[ti.TargetID]
		in.mu.Unlock()
		if ours {
			continue
		}
		if _, err := cdp.Call(ctx, in.cdp, target.CloseTarget, target.CloseTargetParams{TargetID: ti.TargetID}); err != nil {
			return fmt.Errorf("close a window a page opened: %w", err)
		}
	}
	return nil
}

// alive reports whether the DevTools connection is still up.
func (in *instance) alive() bool {
	return in.ctx.Err() == nil
}
