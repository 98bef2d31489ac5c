package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/schematest"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

func newRedis(t *testing.T) rueidis.Client {
	t.Helper()
	return dial(t, testenv.StartRedis(t).URL)
}

// dial connects to a REDIS_URL the way empplay does, closed with the test.
func dial(t *testing.T, url string) rueidis.Client {
	t.Helper()
	opt, err := queue.Options(url)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	t.Cleanup(c.Close)
	return c
}

func newQueue(c rueidis.Client, cfg queue.Config) *queue.Redis {
	return queue.New(c, cfg, queue.NewWorkerID("test"), slog.New(slog.DiscardHandler))
}

func llen(t *testing.T, c rueidis.Client, key string) int64 {
	t.Helper()
	n, err := c.Do(context.Background(), c.B().Llen().Key(key).Build()).AsInt64()
	if err != nil {
		t.Fatalf("LLEN %s: %v", key, err)
	}
	return n
}

func TestFetchFinishWait(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	prod := queue.NewClient(c, "")
	raw := []byte(`{"type":"p5","code":"x"}`)
	id, err := prod.Submit(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if id != empplay.IDFor(raw) {
		t.Fatalf("Submit id %s; want IDFor %s", id, empplay.IDFor(raw))
	}
	d, err := q.Fetch(ctx)
	if err != nil || d == nil {
		t.Fatalf("Fetch = %v, %v; want the job", d, err)
	}
	if d.ID != id || d.Attempt != 1 || string(d.Raw) != string(raw) {
		t.Fatalf("delivery %+v; want id %s attempt 1", d, id)
	}
	k := q.Keys()
	if n := llen(t, c, k.Inflight(q.WorkerID())); n != 1 {
		t.Fatalf("in-flight list holds %d; want 1 while the job runs", n)
	}
	if n := llen(t, c, k.Pending); n != 0 {
		t.Fatalf("pending holds %d; want 0", n)
	}

	// A waiter started before the result arrives gets it.
	got := make(chan *empplay.Result, 2)
	for range 2 {
		go func() {
			r, err := prod.Wait(ctx, id)
			if err != nil {
				t.Errorf("Wait: %v", err)
			}
			got <- r
		}()
	}
	waitBlocked(t, c, 2)
	wrote, err := q.Finish(ctx, d, &empplay.Result{Success: true, Src: "http://cdn/x.png"})
	if err != nil || !wrote {
		t.Fatalf("Finish = %v, %v; want true", wrote, err)
	}
	for range 2 {
		select {
		case r := <-got:
			if r == nil || !r.Success || r.Src != "http://cdn/x.png" || r.ID != id || r.Attempts != 1 {
				t.Fatalf("waiter got %+v", r)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("waiter did not wake up")
		}
	}
	if n := llen(t, c, k.Inflight(q.WorkerID())); n != 0 {
		t.Fatalf("in-flight holds %d after Finish; want 0", n)
	}
	ttl, _ := c.Do(ctx, c.B().Pttl().Key(k.Result(id)).Build()).AsInt64()
	if ttl <= 0 || ttl > (24*time.Hour).Milliseconds() {
		t.Fatalf("result TTL %d ms; want (0, 24h]", ttl)
	}

	// A second Finish (a duplicate delivery) never replaces the result.
	wrote, err = q.Finish(ctx, d, &empplay.Result{Success: false, Error: "late"})
	if err != nil || wrote {
		t.Fatalf("second Finish = %v, %v; want false", wrote, err)
	}
	r, err := prod.Result(ctx, id)
	if err != nil || !r.Success {
		t.Fatalf("stored result %+v, %v; want the first one", r, err)
	}
}

func TestFetchEmptyReturnsAfterBlockTimeout(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	start := time.Now()
	d, err := q.Fetch(ctx)
	if d != nil || err != nil {
		t.Fatalf("Fetch on an empty queue = %v, %v; want nil, nil", d, err)
	}
	if el := time.Since(start); el < 900*time.Millisecond || el > 4*time.Second {
		t.Fatalf("Fetch returned after %v; want about the 1s block timeout", el)
	}
}

func TestDuplicatePayloadAnsweredFromResult(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	prod := queue.NewClient(c, "")
	raw := []byte(`{"type":"p5","code":"dup"}`)
	for range 2 {
		if _, err := prod.Submit(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	d, err := q.Fetch(ctx)
	if err != nil || d == nil {
		t.Fatalf("Fetch = %v, %v", d, err)
	}
	if _, err := q.Finish(ctx, d, &empplay.Result{Success: true}); err != nil {
		t.Fatal(err)
	}
	d2, err := q.Fetch(ctx)
	if err != nil || d2 != nil {
		t.Fatalf("second copy fetched as %+v, %v; want it answered from the stored result", d2, err)
	}
	if n := llen(t, c, q.Keys().Inflight(q.WorkerID())) + llen(t, c, q.Keys().Pending); n != 0 {
		t.Fatalf("%d copies left in Redis lists; want 0", n)
	}
}

// A payload submitted again once its result has expired is a new job: it
// is rendered with fresh attempts and counted as queued from its own
// submission, however often it comes back and however each one ended.
func TestResubmittedAfterResultExpired(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	q := newQueue(c, queue.Config{BlockTimeout: time.Second, MaxAttempts: 3})
	prod := queue.NewClient(c, "")
	m := queue.NewMaintainer(c, "", "test")
	raw := []byte(`{"type":"p5","code":"daily"}`)
	for cycle, res := range []*empplay.Result{
		{Success: true},
		{Success: false, ErrorCode: "sketch_error", Error: "x"},
		{Success: true},
		{Success: true},
		{Success: true},
	} {
		id, err := prod.Submit(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.MarkSeen(ctx, time.Hour); err != nil {
			t.Fatal(err)
		}
		d, err := q.Fetch(ctx)
		if err != nil || d == nil {
			t.Fatalf("submission %d: Fetch = %+v, %v; want the job, rendered again", cycle+1, d, err)
		}
		if d.Attempt != 1 || d.Queued > 10*time.Second {
			t.Errorf("submission %d: attempt %d, queued %v; want attempt 1, queued since this submission", cycle+1, d.Attempt, d.Queued)
		}
		if wrote, err := q.Finish(ctx, d, res); err != nil || !wrote {
			t.Fatalf("submission %d: Finish = %v, %v", cycle+1, wrote, err)
		}
		// The result's TTL runs out (24 h in production).
		if err := c.Do(ctx, c.B().Del().Key(q.Keys().Result(id), q.Keys().Done(id)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		// The first-seen mark goes with the result, and a first claim
		// from long ago (as a day's wait makes it) must not count either.
		if n, _ := c.Do(ctx, c.B().Hexists().Key(q.Keys().Job(id)).Field("seenAt").Build()).AsInt64(); n != 0 {
			t.Errorf("submission %d: first-seen mark kept after its result", cycle+1)
		}
		if err := c.Do(ctx, c.B().Hset().Key(q.Keys().Job(id)).FieldValue().FieldValue("firstClaimedAt", "1").Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
}

// The same payload pushed again while a live worker renders it (a
// producer that retried its request) is not rendered twice, and charges
// no attempt: four copies at once must not run the job out of attempts
// while the first is still rendering. Once its worker is dead, a copy is
// rendered again.
func TestDuplicateWhileRendering(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	raw := []byte(`{"type":"p5","code":"retried by its producer"}`)
	for range 5 {
		if _, err := prod.Submit(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	cfg := queue.Config{BlockTimeout: time.Second, MaxAttempts: 3}
	first := newQueue(c, cfg)
	if err := first.Register(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := first.Fetch(ctx)
	if err != nil || d == nil || d.Attempt != 1 {
		t.Fatalf("first Fetch = %+v, %v", d, err)
	}
	for i := range 3 {
		other := newQueue(c, cfg)
		if err := other.Register(ctx); err != nil {
			t.Fatal(err)
		}
		if d2, err := other.Fetch(ctx); err != nil || d2 != nil {
			t.Fatalf("copy %d fetched as %+v, %v; want it dropped while the first renders", i+2, d2, err)
		}
		if n := llen(t, c, other.Keys().Inflight(other.WorkerID())); n != 0 {
			t.Fatalf("copy %d left in a worker's in-flight list", i+2)
		}
	}
	// The first worker dies: its registry entry goes, and the last copy
	// is rendered, as the job's second attempt.
	if err := first.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	last := newQueue(c, cfg)
	if err := last.Register(ctx); err != nil {
		t.Fatal(err)
	}
	d5, err := last.Fetch(ctx)
	if err != nil || d5 == nil || d5.Attempt != 2 {
		t.Fatalf("the copy after the first worker died: Fetch = %+v, %v; want attempt 2", d5, err)
	}
	if wrote, err := last.Finish(ctx, d5, &empplay.Result{Success: true}); err != nil || !wrote {
		t.Fatalf("Finish = %v, %v", wrote, err)
	}
	if r, err := prod.Result(ctx, d.ID); err != nil || !r.Success {
		t.Fatalf("result %+v, %v; want success", r, err)
	}
}

func TestPoisonJobDeadLettersAfterMaxAttempts(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	raw := []byte(`{"type":"p5","code":"crash","replyTo":"poison-replies"}`)
	id, _ := prod.Submit(ctx, raw)
	const maxAttempts = 2
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		// Each worker incarnation claims the job and "dies"; recovery
		// puts the job back (simulated by moving it by hand).
		q := newQueue(c, queue.Config{BlockTimeout: time.Second, MaxAttempts: maxAttempts})
		d, err := q.Fetch(ctx)
		if err != nil || d == nil || d.Attempt != attempt {
			t.Fatalf("attempt %d: Fetch = %+v, %v", attempt, d, err)
		}
		if err := c.Do(ctx, c.B().Lmove().Source(q.Keys().Inflight(q.WorkerID())).
			Destination(q.Keys().Pending).Right().Right().Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	q := newQueue(c, queue.Config{BlockTimeout: time.Second, MaxAttempts: maxAttempts})
	if d, err := q.Fetch(ctx); d != nil || err != nil {
		t.Fatalf("poison job fetched again: %+v, %v", d, err)
	}
	r, err := prod.Result(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Success || r.ErrorCode != empplay.CodeMaxAttempts || r.Attempts != maxAttempts {
		t.Fatalf("dead job result %+v; want failed max_attempts after %d attempts", r, maxAttempts)
	}
	stored, err := c.Do(ctx, c.B().Get().Key(q.Keys().Result(id)).Build()).AsBytes()
	if err != nil {
		t.Fatal(err)
	}
	schematest.CheckResult(t, stored)
	if n := llen(t, c, q.Keys().Dead()); n != 1 {
		t.Fatalf("dead-letter list holds %d; want 1", n)
	}
	replies, err := c.Do(ctx, c.B().Lrange().Key("poison-replies").Start(0).Stop(-1).Build()).AsStrSlice()
	if err != nil || len(replies) != 1 || replies[0] != string(stored) {
		t.Errorf("replyTo list %q, %v; want the max_attempts result once", replies, err)
	}
}

func TestRequeueDoesNotChargeAttempt(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	if _, err := prod.Submit(ctx, []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	d, _ := q.Fetch(ctx)
	if d == nil {
		t.Fatal("no job")
	}
	if err := q.Requeue(ctx, d); err != nil {
		t.Fatal(err)
	}
	d2, _ := q.Fetch(ctx)
	if d2 == nil || d2.Attempt != 1 {
		t.Fatalf("after requeue got %+v; want attempt 1 again", d2)
	}
}

func TestHeartbeatFencing(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	q := newQueue(c, queue.Config{})
	if err := q.Heartbeat(ctx); !errors.Is(err, queue.ErrFenced) {
		t.Fatalf("heartbeat before Register = %v; want ErrFenced", err)
	}
	if err := q.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Heartbeat(ctx); err != nil {
		t.Fatalf("heartbeat after Register: %v", err)
	}
	if err := q.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Heartbeat(ctx); !errors.Is(err, queue.ErrFenced) {
		t.Fatalf("heartbeat after removal = %v; want ErrFenced", err)
	}
}

func TestWaitTimesOut(t *testing.T) {
	c := newRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := queue.NewClient(c, "").Wait(ctx, "nope")
	if !errors.Is(err, queue.ErrNoResult) {
		t.Fatalf("Wait = %v; want ErrNoResult", err)
	}
}

func TestKeysShareOneHashTag(t *testing.T) {
	k := queue.NewKeys("jobs")
	for _, key := range []string{k.Inflight("w"), k.Workers(), k.Job("i"), k.Result("i"), k.Done("i"), k.Dead(), k.Channel()} {
		if len(key) < 6 || key[:6] != "{jobs}" {
			t.Errorf("key %q lacks the {jobs} hash tag", key)
		}
	}
}

func TestExhaustedTransientFailureIsDeadLettered(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	raw := []byte(`{"t":1}`)
	if _, err := queue.NewClient(c, "").Submit(ctx, raw); err != nil {
		t.Fatal(err)
	}
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	d, _ := q.Fetch(ctx)
	if d == nil {
		t.Fatal("no job")
	}
	if _, err := q.Finish(ctx, d, &empplay.Result{Error: "browser crashed", ErrorCode: empplay.CodeBrowserError, Retryable: true}); err != nil {
		t.Fatal(err)
	}
	dead, err := queue.NewAdmin(c, "").Dead(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].ID != d.ID || dead[0].Error != "browser crashed" || dead[0].At == 0 {
		t.Fatalf("dead list %+v, %v; want the job with its error", dead, err)
	}
	// A permanent failure (bad input) is not dead-lettered: requeueing cannot help.
	raw2 := []byte(`{"t":2}`)
	_, _ = queue.NewClient(c, "").Submit(ctx, raw2)
	d2, _ := q.Fetch(ctx)
	if _, err := q.Finish(ctx, d2, &empplay.Result{Error: "bad", ErrorCode: empplay.CodeInvalidJSON}); err != nil {
		t.Fatal(err)
	}
	if dead, _ := queue.NewAdmin(c, "").Dead(ctx, 10); len(dead) != 1 {
		t.Fatalf("dead list has %d entries; a permanent failure must not be added", len(dead))
	}
}

func TestReplyTo(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	raw := []byte(`{"type":"p5","replyTo":"my-replies"}`)
	if _, err := queue.NewClient(c, "").Submit(ctx, raw); err != nil {
		t.Fatal(err)
	}
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	d, _ := q.Fetch(ctx)
	if d == nil {
		t.Fatal("no job")
	}
	for range 2 { // the second Finish (a duplicate) must not push again
		if _, err := q.Finish(ctx, d, &empplay.Result{Success: true, Src: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Do(ctx, c.B().Lrange().Key("my-replies").Start(0).Stop(-1).Build()).AsStrSlice()
	if err != nil || len(got) != 1 || !strings.Contains(got[0], `"src":"x"`) {
		t.Fatalf("replyTo list %v, %v; want the result once", got, err)
	}
	if ttl, _ := c.Do(ctx, c.B().Pttl().Key("my-replies").Build()).AsInt64(); ttl <= 0 {
		t.Errorf("replyTo list has no TTL (%d)", ttl)
	}
}

// A replyTo naming one of the queue's own keys is not pushed to: the
// pending list would get a result as a job and a TTL that drops every job
// in it, another job's done list a forged answer. A key that is not a list
// keeps its own TTL.
func TestReplyToRefusesQueueKeys(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	k := q.Keys()
	if err := c.Do(ctx, c.B().Hset().Key("platform:settings").FieldValue().FieldValue("a", "1").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{k.Pending, k.Done("victim"), k.Dead(), "platform:settings"} {
		raw, _ := json.Marshal(map[string]any{"type": "p5", "code": i, "replyTo": key})
		if _, err := queue.NewClient(c, "").Submit(ctx, raw); err != nil {
			t.Fatal(err)
		}
		d, err := q.Fetch(ctx)
		if err != nil || d == nil {
			t.Fatalf("replyTo %s: Fetch = %+v, %v", key, d, err)
		}
		if wrote, err := q.Finish(ctx, d, &empplay.Result{Success: true, Src: "x"}); err != nil || !wrote {
			t.Fatalf("replyTo %s: Finish = %v, %v", key, wrote, err)
		}
		if key == "platform:settings" {
			if ttl, _ := c.Do(ctx, c.B().Pttl().Key(key).Build()).AsInt64(); ttl != -1 {
				t.Errorf("replyTo %s, a hash: its TTL became %d ms; want none (-1)", key, ttl)
			}
			continue
		}
		if n := llen(t, c, key); n != 0 {
			t.Errorf("replyTo %s: %d entries pushed to one of the queue's own keys", key, n)
		}
		if ttl, _ := c.Do(ctx, c.B().Pttl().Key(key).Build()).AsInt64(); ttl > 0 {
			t.Errorf("replyTo %s: the queue's key got a TTL of %d ms", key, ttl)
		}
	}
}

// A waiter answers with the stored result, not with whatever was pushed
// onto the job's done list.
func TestWaitIgnoresForgedWakeUp(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	type answer struct {
		r   *empplay.Result
		err error
	}
	got := make(chan answer, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		r, err := prod.Wait(wctx, "victim")
		got <- answer{r, err}
	}()
	waitBlocked(t, c, 1)
	forged := `{"success":true,"id":"victim","src":"https://elsewhere.example/forged.png"}`
	if err := c.Do(ctx, c.B().Rpush().Key(q.Keys().Done("victim")).Element(forged).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	// The waiter drops the wake-up and blocks again.
	waitBlocked(t, c, 1)
	select {
	case a := <-got:
		t.Fatalf("Wait answered %+v, %v from a forged wake-up", a.r, a.err)
	default:
	}
	if _, err := prod.Submit(ctx, []byte(`{"type":"p5","id":"victim"}`)); err != nil {
		t.Fatal(err)
	}
	d, err := q.Fetch(ctx)
	if err != nil || d == nil {
		t.Fatalf("Fetch = %+v, %v", d, err)
	}
	if _, err := q.Finish(ctx, d, &empplay.Result{Success: true, Src: "https://cdn.example/real.png"}); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || a.r == nil || a.r.Src != "https://cdn.example/real.png" {
		t.Fatalf("Wait = %+v, %v; want the stored result", a.r, a.err)
	}
}

// TestQueuedSinceFirstSeen checks Delivery.Queued: the time from the
// housekeeping's first-seen mark (or the first claim) to this claim.
func TestQueuedSinceFirstSeen(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	m := queue.NewMaintainer(c, "", "test")
	if _, err := prod.Submit(ctx, []byte(`{"q":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := m.MarkSeen(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	// The behaviour under test: the job waits 200ms between first sight
	// and its claim, and Queued must count that time.
	time.Sleep(200 * time.Millisecond)
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	d, err := q.Fetch(ctx)
	if err != nil || d == nil {
		t.Fatalf("fetch: %+v, %v", d, err)
	}
	if d.Queued < 200*time.Millisecond || d.Queued > 10*time.Second {
		t.Errorf("seen 200ms before its claim: Queued = %v", d.Queued)
	}
	// Given back and claimed again: still counted from first sight.
	if err := q.Requeue(ctx, d); err != nil {
		t.Fatal(err)
	}
	d2, err := q.Fetch(ctx)
	if err != nil || d2 == nil {
		t.Fatalf("fetch again: %+v, %v", d2, err)
	}
	if d2.Queued < d.Queued {
		t.Errorf("second claim Queued = %v < first %v", d2.Queued, d.Queued)
	}

	// Never marked seen: its first claim is its first sight.
	if _, err := prod.Submit(ctx, []byte(`{"q":2}`)); err != nil {
		t.Fatal(err)
	}
	d3, err := q.Fetch(ctx)
	if err != nil || d3 == nil {
		t.Fatalf("fetch unmarked: %+v, %v", d3, err)
	}
	if d3.Queued != 0 {
		t.Errorf("first claim of an unmarked job: Queued = %v; want 0", d3.Queued)
	}
}
