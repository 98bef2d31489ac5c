package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

// The chaos test's knobs: EMPPLAY_CHAOS_JOBS (default chaosDefaultJobs;
// `make chaos` runs 300) and EMPPLAY_CHAOS_SEED (replays one run's jobs and
// order of chaos actions; what each action hits depends on timing).
const (
	chaosDefaultJobs   = 40
	chaosMaxAttempts   = 3
	chaosWorkers       = 2
	chaosStallTimeout  = 3 * time.Minute // no new result for this long fails the test
	chaosRecoveryLimit = 30 * time.Second
	// chaosRecoveryMedian bounds the median time from a worker's kill -9 to
	// its job leaving the dead worker's in-flight list. The supervisor
	// requeues the job once the killed process tree has exited and its
	// profile dir is removed, which on a loaded host (a renderer freeing
	// its memory) can take a second or more; the sweep for dead workers,
	// the fallback, waits out the 15 s heartbeat TTL, so a median under
	// 5 s still shows the supervisor's requeue did it.
	chaosRecoveryMedian = 5 * time.Second
)

// Redis persists every write before it answers, so a SIGKILL loses
// nothing that was acknowledged.
var chaosAOF = []string{"--appendonly", "yes", "--appendfsync", "always"}

// chaosSketch holds a marker of %d MiB (so the test can tell its renderer
// from the others: see sketchRunning), busy-waits for %d ms (so kills land
// mid-render), then draws once.
const chaosSketch = `function setup(){ createCanvas(64,64); window.marker=new Uint8Array(%d*1048576).fill(1); const t=Date.now(); while(Date.now()-t<%d){} background(%d,%d,%d); fill(255); noStroke(); rect(0,0,4,4); noLoop(); }`

// chaosMarkerMiB is the marker a busy-waiting chaos sketch holds.
const chaosMarkerMiB = 64

// poisonSketch loads a declared asset whose server answers 503 every
// time: a retryable asset_unavailable on every attempt, so the job must
// end dead-lettered after exactly MAX_ATTEMPTS attempts. (A sketch that
// crashes its renderer by eating memory no longer does: the per-job memory
// limit stops it with memory_limit on its first attempt, not retried.)
const poisonSketch = `let a; function preload(){ a = loadImage("data/poison.png"); } function setup(){ createCanvas(64,64); image(a, 0, 0); }`

// TestChaos runs jobs through `empplay supervise` with 2 workers and real
// Chromium while it kill -9s workers mid-render, kill -9s their Chromium and
// restarts redis-server (AOF on) with SIGKILL. Every job must end with
// exactly one stored result, nothing may be left in flight, retrying or
// registered, and a poison job must be dead-lettered after exactly
// MAX_ATTEMPTS attempts. It prints one summary line ("chaos: ...").
func TestChaos(t *testing.T) {
	n := chaosDefaultJobs
	if v := os.Getenv("EMPPLAY_CHAOS_JOBS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 10 {
			t.Fatalf("EMPPLAY_CHAOS_JOBS=%q: want a number >= 10", v)
		}
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("EMPPLAY_CHAOS_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("EMPPLAY_CHAOS_SEED=%q: %v", v, err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	t.Logf("chaos: %d jobs + 1 poison job, %d workers, seed %d (EMPPLAY_CHAOS_SEED=%d replays the jobs and the order of the chaos)", n, chaosWorkers, seed, seed)

	s := newStack(t)
	// newStack's Redis keeps nothing on disk; this test needs it to survive
	// SIGKILL, so restart it (still empty) with the AOF on.
	s.redis.Restart(t, false, chaosAOF...)
	ctx := testenv.Context(t, 28*time.Minute)
	c := &chaos{t: t, s: s, ctx: ctx, rng: rng, keys: queue.NewKeys(""), admin: queue.NewAdmin(s.rc, ""), busy: map[string]int{}}
	c.waitRedis(10 * time.Second)
	if v, err := s.rc.Do(ctx, s.rc.B().ConfigGet().Parameter("appendonly").Build()).AsStrMap(); err != nil || v["appendonly"] != "yes" {
		t.Fatalf("Redis runs without the AOF: %v %v", v, err)
	}

	c.subscribe()

	c.profiles = filepath.Join(s.profiles, "chaos")
	// The poison job's asset: an allowed origin that is always busy.
	busyOrigin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	t.Cleanup(busyOrigin.Close)
	c.busyOrigin = busyOrigin.URL
	c.sup = s.startSupervisor(t, chaosWorkers, "EMPPLAY_PROFILE_DIR="+c.profiles,
		"BROWSER_TIMEOUT=60000", "MAX_ATTEMPTS="+strconv.Itoa(chaosMaxAttempts), "DRAIN_TIMEOUT=20s",
		"ASSET_ORIGINS="+busyOrigin.URL)
	t0 := time.Now()
	c.sup.waitReady(t, chaosWorkers, 120*time.Second)
	t.Logf("%d workers ready after %v", chaosWorkers, time.Since(t0).Round(time.Millisecond))

	// The jobs: a quarter draw at once, the rest busy-wait 0.3-1.5 s. Each
	// has its own id, so none is answered from another's result. The
	// poison job goes in third, so its three attempts and their backoff
	// finish well within the run.
	run := fmt.Sprintf("%08x", rng.Uint32())
	c.poison = "chaos-" + run + "-poison"
	var raws []string
	for i := range n {
		busy, marker := 0, 0
		if rng.IntN(4) != 0 {
			busy, marker = 300+rng.IntN(1200), chaosMarkerMiB
		}
		id := fmt.Sprintf("chaos-%s-%04d", run, i)
		raws = append(raws, job(t, map[string]any{
			"id": id, "width": 64, "height": 64, "bucket": "chaos", "prefix": run, "filename": fmt.Sprintf("%04d.png", i),
			"code": fmt.Sprintf(chaosSketch, marker, busy, i*37%256, i*91%256, i*13%256),
			// Real time: the busy-wait must take wall-clock time for the
			// kills to land mid-render.
			"clock": "real",
		}))
		c.ids = append(c.ids, id)
		c.busy[id] = busy
		if i == 1 {
			raws = append(raws, job(t, map[string]any{
				"id": c.poison, "width": 64, "height": 64, "bucket": "chaos", "prefix": run, "filename": "poison.png",
				"code": poisonSketch, "assets": map[string]string{"data/poison.png": c.busyOrigin + "/poison.png"},
			}))
			c.ids = append(c.ids, c.poison)
		}
	}
	start := time.Now()
	for i, raw := range raws {
		id, err := s.producer.Submit(ctx, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if id != c.ids[i] {
			t.Fatalf("job %d has id %s; want %s", i, id, c.ids[i])
		}
	}

	// The schedule: chaos actions at points of progress (results stored),
	// between 5% and 80% of the jobs, in random order.
	var plan []string
	for range max(2, n/50) {
		plan = append(plan, "kill-worker", "kill-chromium")
	}
	plan = append(plan, "restart-redis")
	if n >= 150 {
		plan = append(plan, "restart-redis")
	}
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	total := len(c.ids)
	at := func(i int) int { return total/20 + i*(total*3/4)/len(plan) }

	next, last, lastAt := 0, -1, time.Now()
	for {
		done, err := c.countResults()
		if err != nil {
			done = last // Redis is restarting; try again
		}
		if done > last {
			last, lastAt = done, time.Now()
		}
		if done == total && next == len(plan) {
			break
		}
		if done == total {
			t.Logf("all jobs finished before the chaos actions %v", plan[next:])
			break
		}
		if time.Since(lastAt) > chaosStallTimeout {
			c.diagnoseStall()
			t.Fatalf("no new result for %v: %d of %d jobs have one", chaosStallTimeout, done, total)
		}
		if next < len(plan) && done >= at(next) {
			// A kill that found no sketch running (on a slow host the
			// window between a page's load and the end of its busy-wait
			// can be missed) is tried again while jobs remain, so a kill
			// is only missing at the end when there was none to be had.
			if c.act(plan[next], done) {
				next++
			}
			continue
		}
		time.Sleep(100 * time.Millisecond) // the monitor's poll: results, stalls and the plan
	}
	elapsed := time.Since(start)

	// The verdict, from the stored records: the result key of every job,
	// its wake-up list (one RPUSH per written result, kept by the AOF for
	// 10 minutes) and its metadata hash.
	sum := c.verify()
	c.stopSupervisor()

	if c.workerKills == 0 || c.chromiumKills == 0 || c.redisRestarts == 0 {
		t.Errorf("chaos did not happen: %d worker kills, %d Chromium kills, %d Redis restarts; want at least one each",
			c.workerKills, c.chromiumKills, c.redisRestarts)
	}
	if c.chromiumKills > 0 && sum.chromiumRetried == 0 {
		t.Errorf("none of the %d Chromium kills failed a render; the test aims them at running sketches", c.chromiumKills)
	}
	// Renders whose result was dropped because the job had one already (a
	// duplicate execution that got as far as storing): allowed, counted.
	logs := c.sup.logs.String()
	dropped := strings.Count(logs, "job already had a result; this one was dropped")
	if len(logs) >= 1<<20 {
		t.Logf("the supervisor's log filled its buffer (%d bytes): dropped_late_results counts only its start", len(logs))
	}
	med, mx := c.latencies()
	if c.workerKills > 0 && med >= chaosRecoveryMedian {
		t.Errorf("median recovery latency after a worker kill is %v; want under %v (all: %v)", med, chaosRecoveryMedian, c.recovery)
	}
	t.Logf("chaos: submitted=%d completed=%d failed=%d dead=%d duplicate_executions=%d duplicate_results=%d lost=%d "+
		"worker_kills=%d chromium_kills=%d chromium_kills_failing_a_render=%d redis_restarts=%d recovery_latency_median=%dms max=%dms "+
		"dropped_late_results=%d pubsub_messages=%d pubsub_missed=%d elapsed=%v",
		total, sum.completed, sum.failed, sum.dead, sum.dupExec, sum.dupResults, sum.lost,
		c.workerKills, c.chromiumKills, sum.chromiumRetried, c.redisRestarts, med.Milliseconds(), mx.Milliseconds(),
		dropped, sum.pubMessages, sum.pubMissed, elapsed.Round(time.Second))
}

// chaos is the state of one TestChaos run.
type chaos struct {
	t        *testing.T
	s        *stack
	ctx      context.Context
	rng      *rand.Rand
	keys     queue.Keys
	admin    *queue.Admin
	sup      *superviseRun
	profiles string
	ids      []string       // every submitted job, the poison job included
	busy     map[string]int // how long each job's sketch busy-waits, ms
	poison   string
	// busyOrigin serves the poison job's asset: 503, always.
	busyOrigin string

	workerKills, chromiumKills, redisRestarts int
	recovery                                  []time.Duration
	chromiumVictims                           []string // jobs whose Chromium was killed under them

	pubMu sync.Mutex
	pub   map[string][]string // result messages seen on the channel, by job id
}

// subscribe counts the result messages on the pub/sub channel with a
// client of its own, re-subscribing after Redis restarts (messages
// published meanwhile are lost, so these counts are only a cross-check).
func (c *chaos) subscribe() {
	t := c.t
	opt, err := queue.Options(c.s.redis.URL)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	c.pub = map[string][]string{}
	sctx, cancel := context.WithCancel(c.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sctx.Err() == nil {
			_ = sub.Receive(sctx, sub.B().Subscribe().Channel(c.keys.Channel()).Build(), func(m rueidis.PubSubMessage) {
				var r struct {
					ID string `json:"id"`
				}
				_ = json.Unmarshal([]byte(m.Message), &r)
				c.pubMu.Lock()
				c.pub[r.ID] = append(c.pub[r.ID], m.Message)
				c.pubMu.Unlock()
			})
			select {
			case <-sctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		sub.Close()
	})
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		arr, _ := c.s.rc.Do(c.ctx, c.s.rc.B().PubsubNumsub().Channel(c.keys.Channel()).Build()).ToArray()
		if len(arr) != 2 {
			return false
		}
		n, _ := arr[1].AsInt64()
		return n > 0
	}, "the result subscriber did not subscribe")
}

// waitRedis waits until Redis answers PING.
func (c *chaos) waitRedis(timeout time.Duration) {
	c.t.Helper()
	testenv.Eventually(c.t, timeout, 10*time.Millisecond, func() bool { return c.s.rc.Do(c.ctx, c.s.rc.B().Ping().Build()).Error() == nil },
		"Redis does not answer")
}

// countResults counts the jobs that have a stored result.
func (c *chaos) countResults() (int, error) {
	keys := make([]string, len(c.ids))
	for i, id := range c.ids {
		keys[i] = c.keys.Result(id)
	}
	n, err := c.s.rc.Do(c.ctx, c.s.rc.B().Exists().Key(keys...).Build()).AsInt64()
	return int(n), err
}

// act carries out one chaos action and reports whether it did.
func (c *chaos) act(what string, done int) bool {
	t := c.t
	var ok bool
	switch what {
	case "kill-worker":
		ok = c.killWorker()
	case "kill-chromium":
		ok = c.killChromium()
	case "restart-redis":
		t0 := time.Now()
		c.s.redis.Restart(t, true, chaosAOF...)
		c.waitRedis(30 * time.Second)
		c.redisRestarts++
		ok = true
		t.Logf("chaos at %d/%d results: restarted redis-server with SIGKILL; answering again after %v",
			done, len(c.ids), time.Since(t0).Round(time.Millisecond))
	}
	if !ok {
		t.Logf("chaos at %d/%d results: %s found no sketch running within 20s; trying again", done, len(c.ids), what)
	}
	return ok
}

// victim finds a worker whose Chromium is running a job's sketch, and
// returns the worker's pid and id, its browser's pid (also its process
// group) and the job's id. It leaves alone the poison job (whose attempts
// the test counts) and jobs on their last attempt (which a kill would
// dead-letter).
func (c *chaos) victim() (pid, browser int, wid, id string, ok bool) {
	slots := c.slots()
	c.rng.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
	rc := c.s.rc
	for _, sl := range slots {
		wid, pid, browser = sl.Slot.WorkerID, sl.PID, sl.LastReport.BrowserPID
		if pid <= 0 || wid == "" || browser <= 0 {
			continue
		}
		raws, err := rc.Do(c.ctx, rc.B().Lrange().Key(c.keys.Inflight(wid)).Start(0).Stop(-1).Build()).AsStrSlice()
		if err != nil || len(raws) != 1 {
			continue
		}
		id = empplay.IDFor([]byte(raws[0]))
		if id == c.poison {
			continue
		}
		meta, err := rc.Do(c.ctx, rc.B().Hmget().Key(c.keys.Job(id)).Field("attempts", "claimedAt").Build()).ToArray()
		if err != nil || len(meta) != 2 {
			continue
		}
		attempts, _ := meta[0].AsInt64()
		claimed, _ := meta[1].AsInt64()
		now, err := rc.Do(c.ctx, rc.B().Time().Build()).AsIntSlice()
		if err != nil || len(now) != 2 || attempts >= chaosMaxAttempts {
			continue
		}
		// The sketch busy-waits for busy ms after its page loaded, so a job
		// claimed less than busy ms ago is still rendering; leave time for
		// the checks below.
		if age := now[0]*1000 + now[1]/1000 - claimed; age < 0 || age > int64(c.busy[id])-400 {
			continue
		}
		// Only ever signal our own processes: the worker names its id, and
		// its browser names a profile dir under ours.
		if !cmdlineHas(pid, wid) || sl.Slot.ProfileDir == "" || !cmdlineHas(browser, sl.Slot.ProfileDir) || pgrp(browser) != browser {
			continue
		}
		// A Chromium killed before the job's page is under way (while the
		// worker still closes the last page and prepares the next, which
		// takes a while on a busy host) is restarted for the job without
		// failing it: aim at a sketch that runs.
		if !sketchRunning(browser) {
			continue
		}
		return pid, browser, wid, id, true
	}
	return 0, 0, "", "", false
}

// sketchRunning reports whether a renderer of the Chromium whose process
// group is pgid runs a busy-waiting chaos sketch: one that burns CPU over
// two windows of 100 ms and holds the sketch's marker, i.e. is at least
// half the marker larger than every other renderer of the group. Either
// alone can be fooled: a renderer starting for the next page burns CPU for
// a while (long enough for two windows on a slow host), and the last job's
// renderer keeps its marker, idle, until the tab leaves its page.
func sketchRunning(pgid int) bool {
	t0 := rendererStats(pgid)
	time.Sleep(100 * time.Millisecond)
	t1 := rendererStats(pgid)
	time.Sleep(100 * time.Millisecond)
	t2 := rendererStats(pgid)
	for pid, r := range t2 {
		a, ok0 := t0[pid]
		b, ok1 := t1[pid]
		if !ok0 || !ok1 || b.CPU-a.CPU < 3 || r.CPU-b.CPU < 3 { // clock ticks of 10 ms
			continue
		}
		marked := r.RSS >= chaosMarkerMiB<<20
		for other, o := range t2 {
			if other != pid && r.RSS-o.RSS < chaosMarkerMiB<<20/2 {
				marked = false
			}
		}
		if marked {
			return true
		}
	}
	return false
}

// rendererStats returns the CPU time and memory of each renderer process
// in process group pgid.
func rendererStats(pgid int) map[int]proc.Stat {
	out := map[int]proc.Stat{}
	for _, p := range proc.InGroup(pgid) {
		if cmdlineHas(p.PID, "--type=renderer") {
			out[p.PID] = p.Stat
		}
	}
	return out
}

// killWorker kill -9s a worker in the middle of a render and measures how long
// the job takes to leave the dead worker's in-flight list (the supervisor
// requeues it when it reaps the worker).
func (c *chaos) killWorker() bool {
	t := c.t
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		pid, _, wid, id, ok := c.victim()
		if !ok {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 worker %d: %v", pid, err)
		}
		killed := time.Now()
		c.workerKills++
		for {
			n, err := c.s.rc.Do(c.ctx, c.s.rc.B().Llen().Key(c.keys.Inflight(wid)).Build()).AsInt64()
			if err == nil && n == 0 {
				break
			}
			if time.Since(killed) > chaosRecoveryLimit {
				t.Fatalf("job %s still in the in-flight list of worker %s (pid %d) %v after kill -9", id, wid, pid, chaosRecoveryLimit)
			}
			time.Sleep(2 * time.Millisecond) // a fine poll: its resolution bounds the measured latency
		}
		lat := time.Since(killed)
		c.recovery = append(c.recovery, lat)
		where := "?"
		if j, err := c.admin.Inspect(c.ctx, id); err == nil {
			where = j.Where
			if j.Worker != "" {
				where += " on " + j.Worker
			}
		}
		t.Logf("chaos: kill -9 worker pid %d mid-render of %s; job back in the queue after %v (now %s)",
			pid, id, lat.Round(time.Millisecond), where)
		return true
	}
	return false
}

// killChromium kill -9s the process group of a worker's Chromium while the
// worker renders a sketch in it.
func (c *chaos) killChromium() bool {
	t := c.t
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		pid, browser, _, id, ok := c.victim()
		if !ok {
			continue
		}
		if err := syscall.Kill(-browser, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 Chromium group %d: %v", browser, err)
		}
		c.chromiumKills++
		c.chromiumVictims = append(c.chromiumVictims, id)
		t.Logf("chaos: kill -9 Chromium (process group %d) of worker pid %d mid-render of %s", browser, pid, id)
		return true
	}
	return false
}

type chaosSummary struct {
	completed, failed, dead, dupExec, dupResults, lost int
	pubMessages, pubMissed                             int
	chromiumRetried                                    int // Chromium kills that failed a render
}

// verify checks every job's records and the queue's state once all jobs
// have a result, with the workers still running.
func (c *chaos) verify() chaosSummary {
	t, rc, ctx := c.t, c.s.rc, c.ctx
	var sum chaosSummary
	c.pubMu.Lock()
	pub := make(map[string][]string, len(c.pub))
	for k, v := range c.pub {
		pub[k] = slices.Clone(v)
	}
	c.pubMu.Unlock()

	var executions []string
	claims, renderMs := map[string]int{}, map[string]float64{}
	for _, id := range c.ids {
		stored, err := rc.Do(ctx, rc.B().Get().Key(c.keys.Result(id)).Build()).ToString()
		if err != nil {
			sum.lost++
			t.Errorf("job %s has no stored result: %v", id, err)
			continue
		}
		var res empplay.Result
		if err := json.Unmarshal([]byte(stored), &res); err != nil || res.ID != id {
			t.Errorf("job %s: stored result is not its own: %v %s", id, err, stored)
		}
		writes, _ := rc.Do(ctx, rc.B().Llen().Key(c.keys.Done(id)).Build()).AsInt64()
		msgs := pub[id]
		sum.pubMessages += len(msgs)
		if len(msgs) == 0 {
			sum.pubMissed++
		}
		conflicting := 0
		for _, m := range msgs {
			if m != stored {
				conflicting++
			}
		}
		// The wake-up list expires after 10 minutes (DoneTTL): none left
		// is no evidence either way, more than one is.
		if writes > 1 || len(msgs) > 1 || conflicting > 0 {
			sum.dupResults++
			t.Errorf("job %s: %d result writes (done list), %d published results (%d differ from the stored one); want exactly one",
				id, writes, len(msgs), conflicting)
		}
		meta, _ := rc.Do(ctx, rc.B().Hgetall().Key(c.keys.Job(id)).Build()).AsStrMap()
		attempts, _ := strconv.Atoi(meta["attempts"])
		claims[id], renderMs[id] = attempts, res.Timings.RenderMs
		if res.Success {
			sum.completed++
		} else {
			sum.failed++
		}
		if id == c.poison {
			if res.Success || res.Attempts != chaosMaxAttempts || meta["state"] != "dead" ||
				(res.ErrorCode != empplay.CodeAssetUnavailable && res.ErrorCode != empplay.CodeMaxAttempts) {
				t.Errorf("poison job: result %s, state %q; want a failed result (asset_unavailable or max_attempts) after exactly %d attempts, state dead",
					stored, meta["state"], chaosMaxAttempts)
			}
			continue
		}
		if !res.Success || meta["state"] != "done" {
			t.Errorf("job %s failed (state %q): %s", id, meta["state"], stored)
		}
		if attempts > 1 {
			sum.dupExec += attempts - 1
			executions = append(executions, fmt.Sprintf("%s×%d", id[len(id)-4:], attempts))
		}
	}
	if len(executions) > 0 {
		t.Logf("jobs claimed more than once (id suffix × claims): %s", strings.Join(executions, " "))
	}
	// A Chromium killed while the sketch runs fails the render
	// (browser_error) and the job is retried; one killed while the worker
	// was still between pages (closing the last, preparing the next) is
	// restarted for the job, which then succeeds at the same attempt.
	var hits []string
	for _, id := range c.chromiumVictims {
		if claims[id] >= 2 {
			sum.chromiumRetried++
		}
		hits = append(hits, fmt.Sprintf("%s: %d claims, render %.0fms of which busy-wait %dms",
			id[len(id)-4:], claims[id], renderMs[id], c.busy[id]))
	}
	if len(hits) > 0 {
		t.Logf("jobs whose Chromium was killed: %s", strings.Join(hits, "; "))
	}

	dead, err := c.admin.Dead(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	sum.dead = len(dead)
	if len(dead) != 1 || dead[0].ID != c.poison || dead[0].Attempts != chaosMaxAttempts {
		t.Errorf("dead-letter list %+v; want only the poison job %s after exactly %d attempts", dead, c.poison, chaosMaxAttempts)
	} else {
		t.Logf("poison job dead-lettered after %d attempts: %s", dead[0].Attempts, dead[0].Error)
	}

	pending, _ := rc.Do(ctx, rc.B().Llen().Key(c.keys.Pending).Build()).AsInt64()
	retrying, _ := rc.Do(ctx, rc.B().Zcard().Key(c.keys.Retry()).Build()).AsInt64()
	if pending != 0 || retrying != 0 || c.inflight() != 0 {
		t.Errorf("left in the queue: %d pending, %d retrying, %d in flight; want none", pending, retrying, c.inflight())
	}
	// Every kill must have been followed by a restart. Extra restarts (a
	// worker whose Chromium did not start in time on a loaded host) are
	// the supervisor doing its job; they are logged, not failed: the
	// criterion is that no job was lost or answered twice.
	restarts, exits := 0, []string{}
	for _, sl := range c.slots() {
		restarts += sl.Restarts
		if sl.LastExit != "" {
			exits = append(exits, sl.LastExit)
		}
	}
	if restarts < c.workerKills {
		t.Errorf("workers restarted %d times; the test killed %d (last exits: %v)", restarts, c.workerKills, exits)
	} else if restarts > c.workerKills {
		t.Logf("workers restarted %d times, %d more than the test killed (last exits: %v)", restarts, restarts-c.workerKills, exits)
	}
	return sum
}

// inflight counts the jobs in every in-flight list.
func (c *chaos) inflight() int64 {
	rc := c.s.rc
	keys, _ := rc.Do(c.ctx, rc.B().Keys().Pattern(c.keys.InflightPattern()).Build()).AsStrSlice()
	var total int64
	for _, k := range keys {
		n, _ := rc.Do(c.ctx, rc.B().Llen().Key(k).Build()).AsInt64()
		total += n
	}
	return total
}

// stopSupervisor sends SIGTERM and checks that nothing is left: exit 0, no
// registered worker, no in-flight job, no process or dir of the profiles.
func (c *chaos) stopSupervisor() {
	t, rc := c.t, c.s.rc
	if err := c.sup.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.sup.done:
		if c.sup.err != nil {
			t.Errorf("supervisor exited with %v after SIGTERM; want 0", c.sup.err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("supervisor did not exit within 60s of SIGTERM")
	}
	registered, err := rc.Do(c.ctx, rc.B().Zcard().Key(c.keys.Workers()).Build()).AsInt64()
	if err != nil || registered != 0 || c.inflight() != 0 {
		t.Errorf("after stop: %d workers registered, %d jobs in flight (%v); want none", registered, c.inflight(), err)
	}
	if pids := proc.Naming(c.profiles); len(pids) > 0 {
		t.Errorf("processes still use the supervisor's profile dirs: %v", pids)
	}
	if ents, _ := os.ReadDir(c.profiles); len(ents) > 0 {
		t.Errorf("profile dirs left behind: %d", len(ents))
	}
}

// latencies returns the median and the maximum recovery latency.
func (c *chaos) latencies() (median, maximum time.Duration) {
	if len(c.recovery) == 0 {
		return 0, 0
	}
	l := slices.Clone(c.recovery)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	median = l[len(l)/2]
	if len(l)%2 == 0 {
		median = (l[len(l)/2-1] + l[len(l)/2]) / 2
	}
	return median, l[len(l)-1]
}

// diagnoseStall logs where each job without a result is.
func (c *chaos) diagnoseStall() {
	t, rc := c.t, c.s.rc
	shown := 0
	for _, id := range c.ids {
		if n, _ := rc.Do(c.ctx, rc.B().Exists().Key(c.keys.Result(id)).Build()).AsInt64(); n == 1 {
			continue
		}
		j, err := c.admin.Inspect(c.ctx, id)
		if err != nil {
			t.Logf("job %s without a result: %v", id, err)
		} else {
			t.Logf("job %s without a result: %s %s %v", id, j.Where, j.Worker, j.Meta)
		}
		if shown++; shown == 20 {
			break
		}
	}
	if st, err := c.admin.Stats(c.ctx); err == nil {
		t.Logf("queue: %+v", *st)
	}
	t.Logf("slots: %+v", c.slots())
}

// chaosSlot is a slot in /readyz, with the fields the chaos test needs.
type chaosSlot struct {
	PID        int
	State      string
	Restarts   int
	LastExit   string
	LastReport empplay.Report
	Slot       struct{ WorkerID, ProfileDir string }
}

// slots reads the supervisor's slots from /readyz (nil when it does not
// answer).
func (c *chaos) slots() []chaosSlot {
	var z struct {
		Slots []chaosSlot `json:"slots"`
	}
	resp, err := http.Get("http://" + c.sup.addr + "/readyz")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&z)
	return z.Slots
}

// cmdlineHas reports whether process pid's command line contains s.
func cmdlineHas(pid int, s string) bool {
	args, _ := proc.Cmdline(pid)
	return strings.Contains(strings.Join(args, "\x00"), s)
}

// pgrp returns the process group of pid, or -1.
func pgrp(pid int) int {
	if g, ok := proc.Group(pid); ok {
		return g
	}
	return -1
}
