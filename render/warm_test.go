package render

import (
	"testing"
	"time"

	"github.com/empplay/empplay/internal/testenv"
)

// TestWarm checks that Warm leaves a tab with the asked-for p5 loaded for
// the next job, replacing one warmed for another version, and that the
// next job of that version renders from it.
func TestWarm(t *testing.T) {
	b := newTestBrowser(t, Options{})
	for _, major := range []string{"2", "1"} {
		ctx := testenv.Context(t, 30*time.Second)
		if err := b.Warm(ctx, major); err != nil {
			t.Fatalf("Warm(%s): %v", major, err)
		}
		b.mu.Lock()
		spare := b.spare
		b.mu.Unlock()
		if spare == nil || spare.warm != major {
			t.Fatalf("after Warm(%s) the spare tab is %+v; want one with p5 %s loaded", major, spare, major)
		}
		j := job("function setup() { createCanvas(20, 20); background(255, 0, 0); }", 20, 20)
		j.P5Version = major
		if _, err := b.Render(ctx, j); err != nil {
			t.Fatalf("Render p5 %s after Warm: %v", major, err)
		}
	}
}
