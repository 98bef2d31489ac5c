package queue_test

import (
	"errors"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

func TestAdmin(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	admin := queue.NewAdmin(c, "")
	m := queue.NewMaintainer(c, "", "test")
	raws := []string{`{"j":1}`, `{"j":2}`, `{"j":3}`, `{"j":4}`}
	for _, r := range raws {
		if _, err := prod.Submit(ctx, []byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.MarkSeen(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	// The behaviour under test: the oldest pending job's age counts from
	// this first-seen mark, so let some time pass (asserted below).
	time.Sleep(50 * time.Millisecond)

	// j1: in flight on a registered worker; j2: finished; j3: poison -> dead; j4 stays pending.
	w := newQueue(c, queue.Config{BlockTimeout: time.Second, MaxAttempts: 1})
	if err := w.Register(ctx); err != nil {
		t.Fatal(err)
	}
	d1, _ := w.Fetch(ctx)
	w2 := newQueue(c, queue.Config{BlockTimeout: time.Second, MaxAttempts: 1})
	d2, _ := w2.Fetch(ctx)
	if _, err := w2.Finish(ctx, d2, &empplay.Result{Success: true, Src: "s"}); err != nil {
		t.Fatal(err)
	}
	w3 := newQueue(c, queue.Config{BlockTimeout: time.Second, MaxAttempts: 1})
	d3, _ := w3.Fetch(ctx)
	if _, err := m.Recover(ctx, w3.WorkerID(), true); err != nil { // its worker "died"
		t.Fatal(err)
	}
	w4 := newQueue(c, queue.Config{BlockTimeout: time.Second, MaxAttempts: 1})
	if d, _ := w4.Fetch(ctx); d != nil { // the second claim of j3 exceeds MaxAttempts=1
		t.Fatalf("poison job claimed again: %+v", d)
	}

	if err := m.MarkSeen(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	// A second mark must not reset the age: more time passes after it.
	time.Sleep(60 * time.Millisecond)
	st, err := admin.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 1 || st.Dead != 1 || st.Retrying != 0 {
		t.Errorf("stats %+v; want 1 pending, 1 dead", st)
	}
	if st.OldestPendingAgeMs < 50 || st.OldestPendingAgeMs > 10000 {
		t.Errorf("oldest pending age %d ms; want about 60", st.OldestPendingAgeMs)
	}
	var found bool
	for _, ws := range st.Workers {
		if ws.ID == w.WorkerID() {
			found = ws.InFlight == 1 && ws.Registered && ws.HeartbeatInMs > 0
		}
	}
	if !found {
		t.Errorf("stats workers %+v; want %s registered with 1 in flight", st.Workers, w.WorkerID())
	}

	for _, tc := range []struct {
		name, id, where string
	}{
		{"in flight", d1.ID, "in-flight"},
		{"finished", d2.ID, "finished"},
		{"dead", d3.ID, "dead"},
		{"pending", empplay.IDFor([]byte(raws[3])), "pending"},
	} {
		j, err := admin.Inspect(ctx, tc.id)
		if err != nil {
			t.Errorf("%s: Inspect: %v", tc.name, err)
			continue
		}
		if j.Where != tc.where {
			t.Errorf("%s: where %q; want %q (%+v)", tc.name, j.Where, tc.where, j)
		}
	}
	if _, err := admin.Inspect(ctx, "nope"); !errors.Is(err, queue.ErrUnknownJob) {
		t.Errorf("Inspect of an unknown id = %v; want ErrUnknownJob", err)
	}

	dead, err := admin.Dead(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].ID != d3.ID || dead[0].Raw != raws[2] {
		t.Fatalf("Dead = %+v, %v; want j3", dead, err)
	}
	if _, err := admin.RequeueDead(ctx, "other"); err == nil {
		t.Error("requeue of an id not in the dead list succeeded")
	}
	if n, err := admin.RequeueDead(ctx, d3.ID); n != 1 || err != nil {
		t.Fatalf("RequeueDead = %d, %v", n, err)
	}
	// With fresh attempts and no stale result, it is claimable again.
	w5 := newQueue(c, queue.Config{BlockTimeout: time.Second, MaxAttempts: 1})
	got := map[string]int{}
	for range 2 {
		if d, _ := w5.Fetch(ctx); d != nil {
			got[d.ID] = d.Attempt
		}
	}
	if got[d3.ID] != 1 {
		t.Fatalf("requeued dead job fetched as %v; want attempt 1", got)
	}
}
