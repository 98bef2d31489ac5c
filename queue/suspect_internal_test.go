package queue

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
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

// A result, retry or requeue that could not be stored leaves the job in
// the worker's in-flight list, where no sweep looks while the worker is
// alive: the next Fetch takes it from there, whichever call failed.
func TestFetchClaimsAJobWhoseReleaseFailed(t *testing.T) {
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
	gone, cancel := context.WithCancel(ctx)
	cancel() // Redis unreachable for the release: every call fails
	for _, tc := range []struct {
		name    string
		release func(q *Redis, d *empplay.Delivery) error
	}{
		{"finish", func(q *Redis, d *empplay.Delivery) error {
			_, err := q.Finish(gone, d, &empplay.Result{Success: true})
			return err
		}},
		{"retry", func(q *Redis, d *empplay.Delivery) error { return q.Retry(gone, d, time.Second, errors.New("x")) }},
		{"requeue", func(q *Redis, d *empplay.Delivery) error { return q.Requeue(gone, d) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := New(c, Config{BlockTimeout: time.Second}, NewWorkerID("t"), slog.New(slog.DiscardHandler))
			raw := `{"release":"` + tc.name + `"}`
			if err := c.Do(ctx, c.B().Lpush().Key(q.keys.Pending).Element(raw).Build()).Error(); err != nil {
				t.Fatal(err)
			}
			d, err := q.Fetch(ctx)
			if err != nil || d == nil {
				t.Fatalf("Fetch = %+v, %v", d, err)
			}
			if err := tc.release(q, d); err == nil {
				t.Fatal("the release succeeded on a cancelled context")
			}
			d2, err := q.Fetch(ctx)
			if err != nil || d2 == nil || string(d2.Raw) != raw {
				t.Fatalf("Fetch after the failed %s = %+v, %v; want the same job again", tc.name, d2, err)
			}
			if _, err := q.Finish(ctx, d2, &empplay.Result{Success: true}); err != nil {
				t.Fatal(err)
			}
			if n, _ := c.Do(ctx, c.B().Llen().Key(q.keys.Inflight(q.wid)).Build()).AsInt64(); n != 0 {
				t.Errorf("%d jobs left in the in-flight list", n)
			}
		})
	}
}
