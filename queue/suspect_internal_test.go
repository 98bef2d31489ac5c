package queue

import (
	"log/slog"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay/internal/testenv"
)

// After a connection error in a fetch or claim, a job may sit in a live
// worker's own in-flight list unclaimed; the next Fetch must find it.
func TestFetchClaimsAJobLeftInOwnInflightAfterAConnectionError(t *testing.T) {
	srv := testenv.StartRedis(t)
	opt, err := Options(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testenv.Context(t, 30*time.Second)
	q := New(c, Config{BlockTimeout: time.Second}, NewWorkerID("t"), slog.New(slog.DiscardHandler))
	raw := `{"left":"behind"}`
	// BLMOVE happened, then the claim's reply was lost.
	if err := c.Do(ctx, c.B().Lpush().Key(q.keys.Inflight(q.wid)).Element(raw).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if d, _ := q.Fetch(ctx); d != nil {
		t.Fatalf("fetched %+v without a suspected connection error; the pending list is empty", d)
	}
	q.suspect.Store(true)
	d, err := q.Fetch(ctx)
	if err != nil || d == nil || string(d.Raw) != raw || d.Attempt != 1 {
		t.Fatalf("Fetch = %+v, %v; want the job left in the in-flight list, attempt 1", d, err)
	}
	if q.suspect.Load() {
		t.Error("suspect flag not cleared after the check")
	}
}
