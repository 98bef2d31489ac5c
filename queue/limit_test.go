package queue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

// What a job's code put in its result (an enormous error, endless
// warnings) is bounded before the result is stored.
func TestFinishBoundsTheResult(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	prod := queue.NewClient(c, "")
	id, err := prod.Submit(ctx, []byte(`{"type":"p5","code":"bomb"}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := q.Fetch(ctx)
	if err != nil || d == nil {
		t.Fatalf("Fetch = %v, %v", d, err)
	}
	warnings := make([]string, 50_000)
	for i := range warnings {
		warnings[i] = strings.Repeat("w", 600)
	}
	if _, err := q.Finish(ctx, d, &empplay.Result{Success: false, Error: strings.Repeat("e", 4<<20), Warnings: warnings}); err != nil {
		t.Fatal(err)
	}
	raw, err := c.Do(ctx, c.B().Get().Key(q.Keys().Result(id)).Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > empplay.MaxResultBytes {
		t.Errorf("stored result of %d bytes; want at most %d", len(raw), empplay.MaxResultBytes)
	}
	r, err := prod.Result(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Warnings); n == 0 || !strings.HasSuffix(r.Warnings[n-1], "more warnings were dropped") {
		t.Errorf("%d warnings, the last not counting the dropped ones", n)
	}
}
