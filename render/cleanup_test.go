package render

import (
	"testing"
	"time"

	"github.com/empplay/empplay/internal/testenv"
)

// TestDeferCleanup checks Options.DeferCleanup: a job's cleanup (here:
// parking its tab) waits for Cleanup, runs when asked, and a next job
// that comes first runs it itself.
func TestDeferCleanup(t *testing.T) {
	b := newTestBrowser(t, Options{DeferCleanup: true})
	held := func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.deferred != nil
	}
	parked := func() int {
		b.mu.Lock()
		inst := b.cur
		b.mu.Unlock()
		inst.mu.Lock()
		defer inst.mu.Unlock()
		return len(inst.idle)
	}
	render := func() {
		t.Helper()
		ctx := testenv.Context(t, 30*time.Second)
		if _, err := b.Render(ctx, job("function setup() { createCanvas(20, 20); background(0, 0, 255); }", 20, 20)); err != nil {
			t.Fatalf("Render: %v", err)
		}
	}

	render()
	before := parked()
	if !held() {
		t.Fatal("after Render the cleanup is not held back")
	}
	b.Cleanup()
	if held() {
		t.Fatal("Cleanup left the cleanup held back")
	}
	if err := b.settle(testenv.Context(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := parked(); got != before+1 {
		t.Errorf("after Cleanup %d tabs are parked; want the used one too (%d)", got, before+1)
	}
	render()
	if !held() {
		t.Fatal("the second job's cleanup is not held back")
	}
	render() // a job that comes before Cleanup runs the last one's first
	if !held() {
		t.Fatal("the third job's cleanup is not held back")
	}
}
