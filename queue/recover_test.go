package queue_test

import (
	"errors"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

func TestRetryThenPromote(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	m := queue.NewMaintainer(c, "", "test")
	if _, err := prod.Submit(ctx, []byte(`{"r":1}`)); err != nil {
		t.Fatal(err)
	}
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	d, _ := q.Fetch(ctx)
	if d == nil {
		t.Fatal("no job")
	}
	retried := time.Now()
	if err := q.Retry(ctx, d, 300*time.Millisecond, errors.New("storage 503")); err != nil {
		t.Fatal(err)
	}
	k := q.Keys()
	if n := llen(t, c, k.Inflight(q.WorkerID())) + llen(t, c, k.Pending); n != 0 {
		t.Fatalf("job still in a list after Retry (%d)", n)
	}
	if n, _ := m.Promote(ctx); n != 0 {
		t.Fatalf("promoted %d before the delay; want 0", n)
	}
	// Promoted once the delay has passed by Redis's clock: poll for it
	// rather than sleep past it.
	var promoted int
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		n, err := m.Promote(ctx)
		if err != nil {
			t.Fatalf("Promote: %v", err)
		}
		promoted += int(n)
		return promoted > 0
	}, "the retry was never promoted")
	if promoted != 1 {
		t.Fatalf("Promote moved %d jobs; want 1", promoted)
	}
	if waited := time.Since(retried); waited < 300*time.Millisecond {
		t.Fatalf("promoted %v after Retry; want not before the 300ms delay", waited)
	}
	d2, _ := q.Fetch(ctx)
	if d2 == nil || d2.ID != d.ID || d2.Attempt != 2 {
		t.Fatalf("after promotion fetched %+v; want the job at attempt 2", d2)
	}
	last, _ := c.Do(ctx, c.B().Hget().Key(k.Job(d.ID)).Field("lastError").Build()).ToString()
	if last != "storage 503" {
		t.Errorf("lastError %q; want the retry cause", last)
	}
}

func TestRecover(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	m := queue.NewMaintainer(c, "", "test")
	q := newQueue(c, queue.Config{BlockTimeout: time.Second, HeartbeatTTL: 300 * time.Millisecond})
	if err := q.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := prod.Submit(ctx, []byte(`{"rec":1}`)); err != nil {
		t.Fatal(err)
	}
	d, _ := q.Fetch(ctx)
	if d == nil {
		t.Fatal("no job")
	}
	if n, err := m.Recover(ctx, q.WorkerID(), false); n != -1 || err != nil {
		t.Fatalf("Recover of a live worker = %d, %v; want -1 (left alone)", n, err)
	}
	if n, err := m.Recover(ctx, q.WorkerID(), true); n != 1 || err != nil {
		t.Fatalf("forced Recover = %d, %v; want 1", n, err)
	}
	if err := q.Heartbeat(ctx); !errors.Is(err, queue.ErrFenced) {
		t.Fatalf("heartbeat of a recovered worker = %v; want ErrFenced", err)
	}
	// The recovered job is fetched again and its attempt was charged.
	q2 := newQueue(c, queue.Config{BlockTimeout: time.Second})
	d2, _ := q2.Fetch(ctx)
	if d2 == nil || d2.ID != d.ID || d2.Attempt != 2 {
		t.Fatalf("after recovery fetched %+v; want the job at attempt 2", d2)
	}
	// The new owner's result stands; the fenced worker's late one is dropped.
	if wrote, err := q2.Finish(ctx, d2, &empplay.Result{Success: true, Src: "new"}); !wrote || err != nil {
		t.Fatalf("new owner's Finish = %v, %v", wrote, err)
	}
	if wrote, err := q.Finish(ctx, d, &empplay.Result{Success: true, Src: "stale"}); wrote || err != nil {
		t.Fatalf("fenced worker's Finish = %v, %v; want dropped", wrote, err)
	}
	r, err := queue.NewClient(c, "").Result(ctx, d.ID)
	if err != nil || r.Src != "new" {
		t.Fatalf("stored result %+v, %v; want the new owner's", r, err)
	}
}

func TestSweepRecoversExpiredAndOrphanedWorkers(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	for _, raw := range []string{`{"a":1}`, `{"b":1}`} {
		if _, err := prod.Submit(ctx, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	// Worker 1 registers, takes a job and "dies" (stops heartbeating).
	dead := newQueue(c, queue.Config{BlockTimeout: time.Second, HeartbeatTTL: 200 * time.Millisecond})
	if err := dead.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := dead.Fetch(ctx); d == nil {
		t.Fatal("no job")
	}
	// Worker 2 never registered: its in-flight list is an orphan.
	orphan := newQueue(c, queue.Config{BlockTimeout: time.Second})
	if d, _ := orphan.Fetch(ctx); d == nil {
		t.Fatal("no job")
	}
	// A live worker must not be touched.
	live := newQueue(c, queue.Config{HeartbeatTTL: time.Minute})
	if err := live.Register(ctx); err != nil {
		t.Fatal(err)
	}

	m := queue.NewMaintainer(c, "", "sweeper-1")
	other := queue.NewMaintainer(c, "", "sweeper-2")
	waitExpired(t, c, dead.Keys(), dead.WorkerID())
	r, err := m.Sweep(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Elected || r.Workers != 2 || r.Recovered != 2 {
		t.Fatalf("sweep %+v; want elected, 2 workers, 2 jobs", r)
	}
	if r2, _ := other.Sweep(ctx, time.Second); r2.Elected {
		t.Fatalf("second sweeper elected while the lock is held: %+v", r2)
	}
	if n := llen(t, c, live.Keys().Pending); n != 2 {
		t.Fatalf("pending holds %d after the sweep; want both jobs back", n)
	}
	if err := live.Heartbeat(ctx); err != nil {
		t.Fatalf("live worker was fenced by the sweep: %v", err)
	}
}

// A worker written off as dead (its jobs given back to the queue) stores
// no result for the job it still renders: the worker that takes the job
// next does, whatever finishes first.
func TestFencedWorkerStoresNoResult(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	id, err := prod.Submit(ctx, []byte(`{"type":"p5","code":"slow host"}`))
	if err != nil {
		t.Fatal(err)
	}
	slow := newQueue(c, queue.Config{BlockTimeout: time.Second})
	d, err := slow.Fetch(ctx)
	if err != nil || d == nil {
		t.Fatalf("Fetch = %+v, %v", d, err)
	}
	if n, err := queue.NewMaintainer(c, "", "test").Recover(ctx, slow.WorkerID(), true); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want the job given back", n, err)
	}
	if wrote, err := slow.Finish(ctx, d, &empplay.Result{Success: false, ErrorCode: empplay.CodeRenderTimeout, Error: "render timeout"}); err != nil || wrote {
		t.Fatalf("the written-off worker's Finish = %v, %v; want nothing stored", wrote, err)
	}
	if _, err := prod.Result(ctx, id); !errors.Is(err, queue.ErrNoResult) {
		t.Fatalf("a result was stored for the written-off worker: %v", err)
	}
	next := newQueue(c, queue.Config{BlockTimeout: time.Second})
	d2, err := next.Fetch(ctx)
	if err != nil || d2 == nil || d2.ID != id {
		t.Fatalf("the next worker's Fetch = %+v, %v; want the job", d2, err)
	}
	if wrote, err := next.Finish(ctx, d2, &empplay.Result{Success: true, Src: "x"}); err != nil || !wrote {
		t.Fatalf("the next worker's Finish = %v, %v", wrote, err)
	}
	if r, err := prod.Result(ctx, id); err != nil || !r.Success {
		t.Fatalf("result %+v, %v; want the next worker's success", r, err)
	}
}
