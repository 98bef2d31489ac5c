// This file keeps V8's compilation cache of p5.js, made once per browser in a page that runs nothing else, and hands it to every page that loads p5.

package render

import (
	"context"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
)

// primeTimeout bounds making the compilation cache of one p5 build.
const primeTimeout = 10 * time.Second

// Every job's page is a site of its own, so it runs in a new renderer, and
// Chromium keeps no compiled code across sites (nor any in an incognito
// context): each page parsed and compiled p5.js again, about a fifth of a
// job's CPU (docs/rendering.md, "Cutting the CPU per job"). Instead, once
// per browser and p5 major version, a primer page that loads p5.js and
// nothing else (no job's code ever runs in its renderer) has V8 produce
// the compilation cache of p5.js (Page.produceCompilationCache); every
// later page that loads p5.js is handed it (Page.addCompilationCache)
// while its request for p5.js waits in the Fetch interception, and V8
// deserializes p5's code instead of compiling it. The cache is made from
// p5.js alone, before p5.js runs, so it is the same whichever job comes
// first and says nothing of any job; it is never taken from a page that
// runs a job's code. DevTools only hands a cache to a script that is
// compiled on the main thread, which is why script streaming is off (see
// chromiumSwitches).

// primerPage is a page of p5 major version major and nothing else: p5.js,
// with CORS, as every p5 page loads it.
func primerPage(major string, p5 []byte) *page {
	major = p5Major(major)
	doc := "<!DOCTYPE html>\n<html><head>" + p5Tag(major) + "</head><body></body></html>\n"
	return &page{path: docPath, mode: modeP5, major: major, primer: true, resources: map[string]resource{
		docPath:      {mime: "text/html; charset=utf-8", body: []byte(doc)},
		p5URL(major): {mime: "text/javascript; charset=utf-8", body: p5},
	}}
}

// primeP5 makes the compilation cache of p5 major version major for
// browser inst, unless it has one or tried already: it opens a tab, loads
// primerPage in it, waits for the cache and closes the tab. Without a
// cache, pages compile p5.js as before.
func (b *Browser) primeP5(ctx context.Context, inst *instance, major string) error {
	url := p5URL(major)
	if !inst.tryPrime(url) {
		return nil
	}
	p5, err := b.p5.P5(major)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, primeTimeout)
	defer cancel()
	tb, err := b.openTab(ctx, inst)
	if err != nil {
		return fmt.Errorf("prime p5 %s: %w", major, err)
	}
	defer func() { _ = tb.close() }()
	if err := tb.load(ctx, primerPage(major, p5)); err != nil {
		return fmt.Errorf("prime p5 %s: %w", major, err)
	}
	select {
	case data := <-tb.code:
		inst.keepP5Code(url, data)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("prime p5 %s: no compilation cache: %w", major, ctx.Err())
	}
}

// p5Script prepares the page's p5.js, whose request at url waits in the
// Fetch interception, for compiling: a primer page is asked for the
// compilation cache, any other is handed the one the browser has.
func (tb *tab) p5Script(ctx context.Context, url string) error {
	target := tb.target.Load()
	if pg := tb.page.Load(); pg != nil && pg.primer {
		_, err := cdp.Call(ctx, target, cdppage.ProduceCompilationCache, cdppage.ProduceCompilationCacheParams{
			Scripts: []*cdppage.CompilationCacheParams{{URL: url}},
		})
		return err
	}
	code := tb.inst.p5Code(url)
	if code == nil {
		return nil
	}
	_, err := cdp.Call(ctx, target, cdppage.AddCompilationCache, cdppage.AddCompilationCacheParams{URL: url, Data: tb.inst.binary(code)})
	return err
}

// compiled takes the compilation cache a primer page produced.
func (tb *tab) compiled(ev *cdppage.EventCompilationCacheProduced) {
	pg := tb.page.Load()
	if pg == nil || !pg.primer || len(ev.Data) == 0 || ev.URL != p5URL(pg.major) {
		return
	}
	select {
	case tb.code <- ev.Data:
	default:
	}
}
