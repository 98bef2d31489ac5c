package render

import (
	"testing"
	"time"

	"github.com/empplay/empplay/internal/proc"
)

// TestNoBrowserUIRenderers checks that Chromium runs no renderer for its
// own user interface (the omnibox's WebUI popups, which a headless
// Chromium 156 preloads: two renderers of about 105 MiB together that no
// job shows). Such a renderer carries --top-chrome-webui. The browser is
// given the time it took to preload them (under 3 s after its start) and a
// job first.
func TestNoBrowserUIRenderers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	b := newTestBrowser(t, Options{})
	started := time.Now()
	mustRender(t, b, job(`function setup(){createCanvas(20,20);background(9);}`, 20, 20))
	time.Sleep(time.Until(started.Add(4 * time.Second)))
	for _, p := range proc.InGroup(b.PID()) {
		args, _ := proc.Cmdline(p.PID)
		if hasSwitch(args, "--top-chrome-webui") {
			t.Errorf("process %d is a browser-UI renderer no job uses: %.200q", p.PID, args)
		}
	}
}
