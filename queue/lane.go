package queue

import (
	"context"
	"fmt"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
)

// Lanes a worker takes jobs from ([Config.Lane]).
const (
	// LaneCPU workers block on the producers' list. A job there that wants
	// a GPU ([gpu.ClassifyJob]) is moved to the GPU lane while a GPU
	// worker is alive, and rendered on the CPU (software WebGL) otherwise.
	LaneCPU = "cpu"
	// LaneGPU workers take the GPU lane first, then whatever waits in the
	// producers' list that no idle CPU worker took.
	LaneGPU = "gpu"
)

// routeScript moves a job a CPU worker fetched into the GPU lane, if a GPU
// worker is alive to take it. The job goes from one list to the other in
// one step, unclaimed: no attempt is charged.
//
// KEYS: 1 inflight 2 gpu lane 3 gpu-workers 4 job ; ARGV: 1 raw
// Returns 1 when moved, 0 when no GPU worker is alive (the job stays),
// -1 when the job is no longer in the in-flight list.
var routeScript = rueidis.NewLuaScriptRetryable(luaNow + `
if redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf') == 0 then return 0 end
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return -1 end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[4], 'lane', 'gpu')
return 1
`)

// gpuFetchScript is the non-blocking part of a GPU worker's fetch: the
// oldest job of the GPU lane, else the oldest job of the producers' list
// (one no idle CPU worker took: Redis hands a pushed job to a client
// blocked on the list at once, so this only finds a backlog). With both
// empty it says which list to block on: the GPU lane while a CPU worker
// is alive to route jobs into it, else the producers' list.
//
// KEYS: 1 gpu lane 2 pending 3 inflight 4 workers 5 gpu-workers
// Returns {'gpu', raw}, {'pending', raw}, {'block', 'gpu'} or
// {'block', 'pending'}.
var gpuFetchScript = rueidis.NewLuaScript(luaNow + `
local raw = redis.call('LMOVE', KEYS[1], KEYS[3], 'RIGHT', 'LEFT')
if raw then return {'gpu', raw} end
raw = redis.call('LMOVE', KEYS[2], KEYS[3], 'RIGHT', 'LEFT')
if raw then return {'pending', raw} end
local all = redis.call('ZCOUNT', KEYS[4], '(' .. now, '+inf')
local gpus = redis.call('ZCOUNT', KEYS[5], '(' .. now, '+inf')
if all > gpus then return {'block', 'gpu'} end
return {'block', 'pending'}
`)

// drainGPUScript gives the jobs of the GPU lane back to the producers'
// list when no GPU worker is alive to take them, oldest first at the end
// workers take from, at most 1000 per call. It also forgets GPU workers
// whose heartbeat expired.
//
// KEYS: 1 gpu lane 2 pending 3 gpu-workers
// Returns the number of jobs moved.
var drainGPUScript = rueidis.NewLuaScriptRetryable(luaNow + `
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) > 0 then return 0 end
local n = 0
while n < 1000 and redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do n = n + 1 end
return n
`)

// Lane returns the lane the worker takes jobs from, [LaneCPU] or
// [LaneGPU].
func (q *Redis) Lane() string {
	if q.gpu.Load() {
		return LaneGPU
	}
	return LaneCPU
}

// SetLane moves the worker to lane, [LaneCPU] or [LaneGPU], and updates
// its registry entry at once: a GPU worker that finds its browser renders
// in software leaves the GPU lane so no more GPU jobs are routed to it.
// The worker must be registered ([ErrFenced] otherwise).
func (q *Redis) SetLane(ctx context.Context, lane string) error {
	switch lane {
	case LaneCPU, LaneGPU:
	default:
		return fmt.Errorf("set lane of %s: unknown lane %q: want %s or %s", q.wid, lane, LaneCPU, LaneGPU)
	}
	q.gpu.Store(lane == LaneGPU)
	return q.heartbeat(ctx, false)
}

// next moves the next job into the in-flight list and returns it with the
// list it came from; nil when none came within the block timeout.
func (q *Redis) next(ctx context.Context) ([]byte, string, error) {
	k := q.keys
	if !q.gpu.Load() {
		raw, err := q.move(ctx, k.Pending)
		return raw, k.Pending, err
	}
	res, err := gpuFetchScript.Exec(ctx, q.c,
		[]string{k.GPU(), k.Pending, k.Inflight(q.wid), k.Workers(), k.GPUWorkers()}, nil).ToArray()
	if err != nil {
		if _, isRedis := rueidis.IsRedisErr(err); !isRedis {
			// The script may have moved a job whose reply was lost.
			q.suspect.Store(true)
		}
		return nil, "", fmt.Errorf("fetch from %s or %s: %w", k.GPU(), k.Pending, err)
	}
	if len(res) != 2 {
		return nil, "", fmt.Errorf("fetch from %s: unexpected reply of %d elements", k.GPU(), len(res))
	}
	kind, _ := res[0].ToString()
	val, _ := res[1].ToString()
	switch {
	case kind == "gpu":
		return []byte(val), k.GPU(), nil
	case kind == "pending":
		return []byte(val), k.Pending, nil
	case val == "gpu":
		raw, err := q.move(ctx, k.GPU())
		return raw, k.GPU(), err
	}
	raw, err := q.move(ctx, k.Pending)
	return raw, k.Pending, err
}

// route moves raw, fetched from the producers' list by a CPU worker, to
// the GPU lane when the job wants a GPU and a GPU worker is alive. It
// reports whether the job left this worker.
func (q *Redis) route(ctx context.Context, raw []byte) (bool, error) {
	// Decoded only to route: the worker that renders the job decodes it
	// itself (see [empplay.Parse]); validation errors are its to report.
	job, _ := empplay.Parse(raw)
	need := gpu.ClassifyJob(job)
	if !need.Wants {
		return false, nil
	}
	k := q.keys
	n, err := routeScript.Exec(ctx, q.c,
		[]string{k.Inflight(q.wid), k.GPU(), k.GPUWorkers(), k.Job(empplay.IDFor(raw))}, []string{string(raw)}).AsInt64()
	if err != nil {
		if _, isRedis := rueidis.IsRedisErr(err); !isRedis {
			q.suspect.Store(true)
		}
		return false, fmt.Errorf("route job %s to the GPU lane: %w", empplay.IDFor(raw), err)
	}
	if n == 1 {
		q.logger.DebugContext(ctx, "moved a job to the GPU lane", "job_id", empplay.IDFor(raw), "reason", need.Reason)
	}
	return n != 0, nil
}

// DrainGPU gives the GPU lane's jobs back to the producers' list when no
// GPU worker is alive (registered, heartbeat not expired), so that CPU
// workers render them; none waits for a lane nobody reads. It returns how
// many jobs moved. Every worker's housekeeping calls it each second.
func (m *Maintainer) DrainGPU(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := drainGPUScript.Exec(ctx, m.c, []string{m.keys.GPU(), m.keys.Pending, m.keys.GPUWorkers()}, nil).AsInt64()
		if err != nil {
			return total, fmt.Errorf("drain the GPU lane: %w", err)
		}
		total += int(n)
		if n < 1000 {
			return total, nil
		}
	}
}
