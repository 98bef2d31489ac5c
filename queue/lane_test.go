package queue_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

const (
	webglJob = `{"type":"p5","code":"function setup(){createCanvas(64,64,WEBGL)}","width":64,"height":64}`
	flagJob  = `{"type":"p5","code":"function setup(){}","usesWebGL":true,"id":"flagged"}`
	flatJob  = `{"type":"p5","code":"function setup(){createCanvas(64,64)}","width":64,"height":64}`
)

func newLaneQueue(t *testing.T, c rueidis.Client, lane string, cfg queue.Config) *queue.Redis {
	t.Helper()
	cfg.Lane = lane
	if cfg.BlockTimeout == 0 {
		cfg.BlockTimeout = time.Second
	}
	q := queue.New(c, cfg, queue.NewWorkerID(lane), slog.New(slog.DiscardHandler))
	if err := q.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q
}

// where counts a job's copies in every list it could be in.
func where(t *testing.T, c rueidis.Client, k queue.Keys, workers ...*queue.Redis) map[string]int64 {
	t.Helper()
	m := map[string]int64{"pending": llen(t, c, k.Pending), "gpu": llen(t, c, k.GPU())}
	for _, w := range workers {
		m[w.Lane()+":"+w.WorkerID()] = llen(t, c, k.Inflight(w.WorkerID()))
	}
	return m
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// fetchWithin fetches until a delivery comes or d passes.
func fetchWithin(t *testing.T, q *queue.Redis, d time.Duration) *empplay.Delivery {
	t.Helper()
	ctx := testenv.Context(t, d+10*time.Second)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		got, err := q.Fetch(ctx)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if got != nil {
			return got
		}
	}
	return nil
}

// With no GPU worker alive, a CPU worker renders WebGL jobs itself; with
// one alive, it moves them to the GPU lane (uncharged) and keeps 2D jobs,
// and the GPU worker takes them from there.
func TestWebGLJobsReachGPUWorkers(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	k := queue.NewKeys("")
	cpu := newLaneQueue(t, c, queue.LaneCPU, queue.Config{})

	// No GPU worker: the CPU worker claims the WebGL job.
	if _, err := prod.Submit(ctx, []byte(webglJob)); err != nil {
		t.Fatal(err)
	}
	d, err := cpu.Fetch(ctx)
	if err != nil || d == nil {
		t.Fatalf("CPU Fetch without GPU workers = %v, %v; want the WebGL job", d, err)
	}
	if n := llen(t, c, k.GPU()); n != 0 {
		t.Fatalf("GPU lane holds %d with no GPU worker; want 0", n)
	}
	if _, err := cpu.Finish(ctx, d, &empplay.Result{Success: true, Renderer: "SwiftShader"}); err != nil {
		t.Fatal(err)
	}

	// A GPU worker appears.
	gpuq := newLaneQueue(t, c, queue.LaneGPU, queue.Config{})
	for _, raw := range []string{flagJob, flatJob, webglJob + " "} {
		if _, err := prod.Submit(ctx, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	// Oldest first: the flagged WebGL job is routed, the 2D job claimed.
	if d, err := cpu.Fetch(ctx); err != nil || d != nil {
		t.Fatalf("CPU Fetch of a WebGL job = %+v, %v; want it routed (nil, nil)", d, err)
	}
	if m := where(t, c, k, cpu, gpuq); m["gpu"] != 1 || total(m) != 3 {
		t.Fatalf("after routing: %v; want 1 in the GPU lane and 3 jobs in all", m)
	}
	d2, err := cpu.Fetch(ctx)
	if err != nil || d2 == nil || string(d2.Raw) != flatJob {
		t.Fatalf("CPU Fetch = %+v, %v; want the 2D job", d2, err)
	}
	if d, err := cpu.Fetch(ctx); err != nil || d != nil {
		t.Fatalf("CPU Fetch of the second WebGL job = %+v, %v; want it routed", d, err)
	}
	if m := where(t, c, k, cpu, gpuq); m["gpu"] != 2 || m["pending"] != 0 || total(m) != 3 {
		t.Fatalf("after routing both: %v", m)
	}

	for _, want := range []string{flagJob, webglJob + " "} {
		g, err := gpuq.Fetch(ctx)
		if err != nil || g == nil {
			t.Fatalf("GPU Fetch = %v, %v; want %s", g, err, want)
		}
		if string(g.Raw) != want || g.Attempt != 1 {
			t.Fatalf("GPU worker got %s at attempt %d; want %s at attempt 1 (routing is not an attempt)", g.Raw, g.Attempt, want)
		}
		if _, err := gpuq.Finish(ctx, g, &empplay.Result{Success: true}); err != nil {
			t.Fatal(err)
		}
	}
	if m := where(t, c, k, cpu, gpuq); total(m) != 1 {
		t.Fatalf("after the GPU jobs: %v; want only the 2D job in flight", m)
	}

	a := queue.NewAdmin(c, "")
	st, err := a.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.GPUWorkers != 1 || st.GPULane != 0 {
		t.Errorf("Stats: %d GPU workers, GPU lane %d; want 1, 0", st.GPUWorkers, st.GPULane)
	}
	lanes := map[string]string{}
	for _, w := range st.Workers {
		lanes[w.ID] = w.Lane
	}
	if lanes[gpuq.WorkerID()] != queue.LaneGPU || lanes[cpu.WorkerID()] != queue.LaneCPU {
		t.Errorf("worker lanes %v", lanes)
	}
}

// Idle workers block where their jobs come from: a 2D job goes to the idle
// CPU worker, not the idle GPU worker; a WebGL job reaches the GPU worker
// through the CPU worker at once, not after a block timeout.
func TestLanesWakeUp(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 60*time.Second)
	prod := queue.NewClient(c, "")
	const block = 4 * time.Second
	cpu := newLaneQueue(t, c, queue.LaneCPU, queue.Config{BlockTimeout: block})
	gpuq := newLaneQueue(t, c, queue.LaneGPU, queue.Config{BlockTimeout: block})

	type got struct {
		who string
		d   *empplay.Delivery
		at  time.Time
	}
	out := make(chan got, 16)
	// The loops stop when loopCtx ends; a Fetch blocked in Redis is
	// unblocked rather than waited for until its block timeout.
	loopCtx, stop := context.WithCancel(ctx)
	loop := func(who string, q *queue.Redis) {
		for {
			d, err := q.Fetch(loopCtx)
			if loopCtx.Err() != nil {
				return
			}
			if err != nil {
				t.Errorf("%s Fetch: %v", who, err)
				return
			}
			if d != nil {
				out <- got{who, d, time.Now()}
				if _, err := q.Finish(ctx, d, &empplay.Result{Success: true}); err != nil {
					t.Errorf("%s Finish: %v", who, err)
				}
			}
		}
	}
	done := make(chan struct{}, 2)
	go func() { loop("cpu", cpu); done <- struct{}{} }()
	go func() { loop("gpu", gpuq); done <- struct{}{} }()
	defer func() {
		stop()
		unblockAll(t, c) // a blocked command outlives its context
		<-done
		<-done
	}()
	waitBlocked(t, c, 2)

	for i, tc := range []struct {
		raw, who string
	}{{flatJob, "cpu"}, {webglJob, "gpu"}, {flatJob + " ", "cpu"}, {flagJob, "gpu"}} {
		start := time.Now()
		if _, err := prod.Submit(ctx, []byte(tc.raw)); err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-out:
			if g.who != tc.who {
				t.Errorf("job %d (%s) went to the %s worker; want %s", i, tc.raw, g.who, tc.who)
			}
			if lat := g.at.Sub(start); lat > block/2 {
				t.Errorf("job %d took %v to reach the %s worker; want well under the block timeout %v", i, lat, g.who, block)
			}
		case <-time.After(3 * block):
			t.Fatalf("job %d (%s) was never fetched", i, tc.raw)
		}
	}
}

// A GPU worker alone (no CPU worker to route for it) blocks on the
// producers' list and renders everything, 2D jobs too.
func TestGPUWorkerAlone(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	const block = 4 * time.Second
	gpuq := newLaneQueue(t, c, queue.LaneGPU, queue.Config{BlockTimeout: block})
	res := make(chan *empplay.Delivery, 1)
	start := time.Now()
	go func() {
		d, err := gpuq.Fetch(ctx)
		if err != nil {
			t.Errorf("Fetch: %v", err)
		}
		res <- d
	}()
	waitBlocked(t, c, 1)
	if _, err := prod.Submit(ctx, []byte(flatJob)); err != nil {
		t.Fatal(err)
	}
	d := <-res
	if d == nil || string(d.Raw) != flatJob {
		t.Fatalf("GPU worker alone fetched %+v; want the 2D job", d)
	}
	if lat := time.Since(start); lat > block/2 {
		t.Errorf("took %v; want the job at once, not after the block timeout", lat)
	}
}

// Jobs in the GPU lane go back to the producers' list once no GPU worker
// is alive: its heartbeat expired, it deregistered, it was recovered, or
// it left the lane because its browser renders in software. Then a CPU
// worker renders them.
func TestGPULaneDrainsBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		gone func(t *testing.T, ctx context.Context, c rueidis.Client, m *queue.Maintainer, g *queue.Redis)
	}{
		{"heartbeat expired", func(t *testing.T, _ context.Context, c rueidis.Client, _ *queue.Maintainer, g *queue.Redis) {
			waitExpired(t, c, g.Keys(), g.WorkerID()) // HeartbeatTTL is 300ms
		}},
		{"deregistered", func(t *testing.T, ctx context.Context, _ rueidis.Client, _ *queue.Maintainer, g *queue.Redis) {
			if err := g.Deregister(ctx); err != nil {
				t.Fatal(err)
			}
		}},
		{"recovered by its supervisor", func(t *testing.T, ctx context.Context, _ rueidis.Client, m *queue.Maintainer, g *queue.Redis) {
			if _, err := m.Recover(ctx, g.WorkerID(), true); err != nil {
				t.Fatal(err)
			}
		}},
		{"left the lane (software renderer)", func(t *testing.T, ctx context.Context, _ rueidis.Client, _ *queue.Maintainer, g *queue.Redis) {
			if err := g.SetLane(ctx, queue.LaneCPU); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newRedis(t)
			ctx := testenv.Context(t, 30*time.Second)
			prod := queue.NewClient(c, "")
			k := queue.NewKeys("")
			m := queue.NewMaintainer(c, "", "test")
			cpu := newLaneQueue(t, c, queue.LaneCPU, queue.Config{})
			gpuq := newLaneQueue(t, c, queue.LaneGPU, queue.Config{HeartbeatTTL: 300 * time.Millisecond})
			if _, err := prod.Submit(ctx, []byte(webglJob)); err != nil {
				t.Fatal(err)
			}
			if d, err := cpu.Fetch(ctx); err != nil || d != nil {
				t.Fatalf("CPU Fetch = %v, %v; want the job routed", d, err)
			}
			// While the GPU worker lives, the lane keeps its job.
			if n, err := m.DrainGPU(ctx); err != nil || n != 0 {
				t.Fatalf("DrainGPU with a live GPU worker = %d, %v; want 0", n, err)
			}
			tc.gone(t, ctx, c, m, gpuq)
			n, err := m.DrainGPU(ctx)
			if err != nil || n != 1 {
				t.Fatalf("DrainGPU = %d, %v; want 1", n, err)
			}
			if mm := where(t, c, k, cpu); mm["pending"] != 1 || total(mm) != 1 {
				t.Fatalf("after draining: %v; want the job back in pending", mm)
			}
			d := fetchWithin(t, cpu, 3*time.Second)
			if d == nil || string(d.Raw) != webglJob || d.Attempt != 1 {
				t.Fatalf("CPU worker fetched %+v after the drain; want the WebGL job at attempt 1", d)
			}
			if n := llen(t, c, k.GPU()); n != 0 {
				t.Fatalf("the job was routed again with no GPU worker (lane holds %d)", n)
			}
		})
	}
}

// Drained jobs keep their order: the oldest runs first.
func TestGPULaneDrainKeepsOrder(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	m := queue.NewMaintainer(c, "", "test")
	cpu := newLaneQueue(t, c, queue.LaneCPU, queue.Config{})
	gpuq := newLaneQueue(t, c, queue.LaneGPU, queue.Config{})
	var jobs []string
	for i := range 5 {
		raw := `{"type":"p5","usesWebGL":true,"code":"x","id":"j` + string(rune('0'+i)) + `"}`
		jobs = append(jobs, raw)
		if _, err := prod.Submit(ctx, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		if d, err := cpu.Fetch(ctx); err != nil || d != nil {
			t.Fatalf("Fetch = %v, %v; want routed", d, err)
		}
	}
	if err := gpuq.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := m.DrainGPU(ctx); n != 5 || err != nil {
		t.Fatalf("DrainGPU = %d, %v", n, err)
	}
	for i, want := range jobs {
		d := fetchWithin(t, cpu, 3*time.Second)
		if d == nil || string(d.Raw) != want {
			t.Fatalf("fetch %d = %+v; want %s", i, d, want)
		}
		if _, err := cpu.Finish(ctx, d, &empplay.Result{Success: true}); err != nil {
			t.Fatal(err)
		}
	}
}

// Inspect finds a job waiting in the GPU lane.
func TestInspectGPULane(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	prod := queue.NewClient(c, "")
	cpu := newLaneQueue(t, c, queue.LaneCPU, queue.Config{})
	newLaneQueue(t, c, queue.LaneGPU, queue.Config{})
	id, err := prod.Submit(ctx, []byte(flagJob))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := cpu.Fetch(ctx); err != nil || d != nil {
		t.Fatalf("Fetch = %v, %v; want routed", d, err)
	}
	j, err := queue.NewAdmin(c, "").Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.Where != "gpu-lane" || j.Position != 0 {
		t.Fatalf("Inspect = %+v; want gpu-lane at 0", j)
	}
	st, _ := queue.NewAdmin(c, "").Stats(ctx)
	if st.GPULane != 1 || st.Pending != 0 {
		t.Fatalf("Stats: GPU lane %d, pending %d; want 1, 0", st.GPULane, st.Pending)
	}
}

func TestSetLaneRejectsUnknown(t *testing.T) {
	c := newRedis(t)
	q := newLaneQueue(t, c, queue.LaneGPU, queue.Config{})
	if err := q.SetLane(context.Background(), "tpu"); err == nil {
		t.Fatal("SetLane(tpu) succeeded")
	}
	if q.Lane() != queue.LaneGPU {
		t.Fatalf("lane %s after a rejected change", q.Lane())
	}
}
