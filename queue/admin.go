package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
)

// Admin answers operators' questions about a queue and repairs it.
type Admin struct {
	c    rueidis.Client
	keys Keys
}

// NewAdmin returns the operator view of the queue called name.
func NewAdmin(c rueidis.Client, name string) *Admin {
	return &Admin{c: c, keys: NewKeys(name)}
}

// Stats is a snapshot of a queue.
type Stats struct {
	Queue    string `json:"queue"`
	Pending  int64  `json:"pending"`
	Retrying int64  `json:"retrying"`
	Dead     int64  `json:"dead"`
	// GPULane is how many jobs wait in the GPU lane for a GPU worker.
	GPULane int64 `json:"gpuLane"`
	// GPUWorkers is how many live workers take the GPU lane.
	GPUWorkers int64 `json:"gpuWorkers"`
	// OldestPendingAgeMs is how long the next job to run has been
	// waiting, as first seen by a worker's housekeeping (about a second
	// late; 0 when the queue is empty or nobody looked yet).
	OldestPendingAgeMs int64         `json:"oldestPendingAgeMs"`
	Workers            []WorkerStats `json:"workers"`
}

// WorkerStats is one registered worker or one in-flight list.
type WorkerStats struct {
	ID       string `json:"id"`
	InFlight int64  `json:"inFlight"`
	// Registered is false for an in-flight list with no registry entry.
	Registered bool `json:"registered"`
	// HeartbeatIn is the time until the worker's heartbeat expires
	// (negative: expired, awaiting a sweep).
	HeartbeatInMs int64 `json:"heartbeatInMs"`
	// Lane is "gpu" for a worker that takes the GPU lane, else "cpu".
	Lane string `json:"lane"`
}

// Stats reads the queue's depths and workers.
func (a *Admin) Stats(ctx context.Context) (*Stats, error) {
	k := a.keys
	s := &Stats{Queue: k.Pending}
	res := a.c.DoMulti(ctx,
		a.c.B().Llen().Key(k.Pending).Build(),
		a.c.B().Zcard().Key(k.Retry()).Build(),
		a.c.B().Llen().Key(k.Dead()).Build(),
		a.c.B().Time().Build(),
		a.c.B().Lindex().Key(k.Pending).Index(-1).Build(),
		a.c.B().Llen().Key(k.GPU()).Build(),
		a.c.B().Zrange().Key(k.GPUWorkers()).Min("0").Max("-1").Withscores().Build(),
	)
	var err error
	if s.Pending, err = res[0].AsInt64(); err != nil {
		return nil, fmt.Errorf("queue depth: %w", err)
	}
	s.Retrying, _ = res[1].AsInt64()
	s.Dead, _ = res[2].AsInt64()
	t, err := res[3].AsIntSlice()
	if err != nil || len(t) != 2 {
		return nil, fmt.Errorf("read Redis TIME: %w", err)
	}
	now := t[0]*1000 + t[1]/1000
	s.GPULane, _ = res[5].AsInt64()
	gpuWorkers := map[string]bool{}
	if zs, err := res[6].AsZScores(); err == nil {
		for _, z := range zs {
			gpuWorkers[z.Member] = true
			if int64(z.Score) > now {
				s.GPUWorkers++
			}
		}
	}
	if oldest, err := res[4].ToString(); err == nil {
		seen, err := a.c.Do(ctx, a.c.B().Hget().Key(k.Job(empplay.IDFor([]byte(oldest)))).Field("seenAt").Build()).AsInt64()
		if err == nil && seen > 0 {
			s.OldestPendingAgeMs = now - seen
		}
	}

	reg, err := a.c.Do(ctx, a.c.B().Zrange().Key(k.Workers()).Min("0").Max("-1").Withscores().Build()).AsZScores()
	if err != nil {
		return nil, fmt.Errorf("read worker registry: %w", err)
	}
	byID := map[string]*WorkerStats{}
	for _, z := range reg {
		lane := LaneCPU
		if gpuWorkers[z.Member] {
			lane = LaneGPU
		}
		byID[z.Member] = &WorkerStats{ID: z.Member, Registered: true, HeartbeatInMs: int64(z.Score) - now, Lane: lane}
	}
	var cursor uint64
	for {
		e, err := a.c.Do(ctx, a.c.B().Scan().Cursor(cursor).Match(k.InflightPattern()).Count(1000).Build()).AsScanEntry()
		if err != nil {
			return nil, fmt.Errorf("scan in-flight lists: %w", err)
		}
		for _, key := range e.Elements {
			n, _ := a.c.Do(ctx, a.c.B().Llen().Key(key).Build()).AsInt64()
			wid := k.WorkerOf(key)
			w := byID[wid]
			if w == nil {
				w = &WorkerStats{ID: wid, Lane: LaneCPU}
				byID[wid] = w
			}
			w.InFlight = n
		}
		if e.Cursor == 0 {
			break
		}
		cursor = e.Cursor
	}
	for _, w := range byID {
		s.Workers = append(s.Workers, *w)
	}
	sort.Slice(s.Workers, func(i, j int) bool { return s.Workers[i].ID < s.Workers[j].ID })
	return s, nil
}

// MarkSeen records when the next pending job was first seen (housekeeping
// calls it every second), for [Stats.OldestPendingAge].
func (m *Maintainer) MarkSeen(ctx context.Context, jobTTL time.Duration) error {
	raw, err := m.c.Do(ctx, m.c.B().Lindex().Key(m.keys.Pending).Index(-1).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("peek at the oldest job: %w", err)
	}
	id := empplay.IDFor([]byte(raw))
	if err := seenScript.Exec(ctx, m.c, []string{m.keys.Job(id)}, []string{ms(jobTTL)}).Error(); err != nil {
		return fmt.Errorf("mark job %s seen: %w", id, err)
	}
	return nil
}

// DeadJob is one entry of the dead-letter list.
type DeadJob struct {
	ID       string `json:"id"`
	Raw      string `json:"raw"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
	At       int64  `json:"at"` // unix ms
	envelope string
}

// Dead lists up to limit dead-lettered jobs, newest first.
func (a *Admin) Dead(ctx context.Context, limit int) ([]DeadJob, error) {
	if limit <= 0 {
		limit = 100
	}
	items, err := a.c.Do(ctx, a.c.B().Lrange().Key(a.keys.Dead()).Start(0).Stop(int64(limit-1)).Build()).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("read dead-letter list: %w", err)
	}
	out := make([]DeadJob, 0, len(items))
	for _, it := range items {
		var d DeadJob
		if json.Unmarshal([]byte(it), &d) != nil {
			d = DeadJob{Error: "unreadable dead-letter entry"}
		}
		d.envelope = it
		out = append(out, d)
	}
	return out, nil
}

// RequeueDead queues dead-lettered jobs again with fresh attempts: the one
// with id, or all of them when id is "". It returns how many were queued.
func (a *Admin) RequeueDead(ctx context.Context, id string) (int, error) {
	all, err := a.Dead(ctx, 10000)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range all {
		if id != "" && d.ID != id {
			continue
		}
		k := a.keys
		moved, err := requeueDeadScript.Exec(ctx, a.c,
			[]string{k.Dead(), k.Pending, k.Job(d.ID), k.Result(d.ID), k.Done(d.ID)},
			[]string{d.envelope}).AsInt64()
		if err != nil {
			return n, fmt.Errorf("requeue dead job %s: %w", d.ID, err)
		}
		n += int(moved)
	}
	if id != "" && n == 0 {
		return 0, fmt.Errorf("job %s is not in the dead-letter list", id)
	}
	return n, nil
}

// Job is everything the queue knows about one job.
type Job struct {
	ID string `json:"id"`
	// Where is pending, gpu-lane, in-flight, retry, dead, finished or
	// unknown.
	Where    string            `json:"where"`
	Worker   string            `json:"worker,omitempty"`
	Meta     map[string]string `json:"meta,omitempty"`
	RetryAt  int64             `json:"retryAt,omitempty"`
	Result   *empplay.Result   `json:"result,omitempty"`
	Position int64             `json:"position,omitempty"` // in the pending list, 0 = next
}

// Inspect reports on job id.
func (a *Admin) Inspect(ctx context.Context, id string) (*Job, error) {
	k := a.keys
	j := &Job{ID: id, Where: "unknown"}
	meta, err := a.c.Do(ctx, a.c.B().Hgetall().Key(k.Job(id)).Build()).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("read job %s: %w", id, err)
	}
	raw := meta["raw"]
	delete(meta, "raw") // the payload can be megabytes; inspect shows metadata
	if len(meta) > 0 {
		j.Meta = meta
	}
	if r, err := NewClient(a.c, k.Pending).Result(ctx, id); err == nil {
		j.Result, j.Where = r, "finished"
	}
	switch meta["state"] {
	case "active":
		if w := meta["worker"]; w != "" {
			if n, _ := a.c.Do(ctx, a.c.B().Lpos().Key(k.Inflight(w)).Element(raw).Build()).AsInt64(); raw != "" && n >= 0 {
				j.Where, j.Worker = "in-flight", w
			}
		}
	case "retry":
		if sc, err := a.c.Do(ctx, a.c.B().Zscore().Key(k.Retry()).Member(id).Build()).AsFloat64(); err == nil {
			j.Where, j.RetryAt = "retry", int64(sc)
		}
	case "dead":
		j.Where = "dead"
	}
	if j.Where == "unknown" || meta["state"] == "queued" {
		if pos, err := a.position(ctx, k.Pending, id); err != nil {
			return nil, err
		} else if pos >= 0 {
			j.Where, j.Position = "pending", pos
		}
	}
	if j.Where == "unknown" || meta["lane"] == LaneGPU && meta["state"] != "active" {
		if pos, err := a.position(ctx, k.GPU(), id); err != nil {
			return nil, err
		} else if pos >= 0 {
			j.Where, j.Position = "gpu-lane", pos
		}
	}
	if j.Where == "unknown" && j.Meta == nil {
		return nil, fmt.Errorf("job %s: %w", id, ErrUnknownJob)
	}
	return j, nil
}

// position finds job id in list (the pending list or the GPU lane; 0 =
// next to run, -1 = not there). Producers push bare payloads, so it hashes
// each one: fine for an operator command, not for a hot path.
func (a *Admin) position(ctx context.Context, list, id string) (int64, error) {
	const chunk = 1000
	for start := int64(0); ; start += chunk {
		// Index -1 is the next job to run, so walk from the right.
		items, err := a.c.Do(ctx, a.c.B().Lrange().Key(list).Start(-start-chunk).Stop(-start-1).Build()).AsStrSlice()
		if err != nil {
			return -1, fmt.Errorf("read jobs of %s: %w", list, err)
		}
		for i := len(items) - 1; i >= 0; i-- {
			if empplay.IDFor([]byte(items[i])) == id {
				return start + int64(len(items)-1-i), nil
			}
		}
		if len(items) < chunk {
			return -1, nil
		}
	}
}

// ErrUnknownJob means Redis holds nothing about a job id.
var ErrUnknownJob = errors.New("no such job (never seen, or its records expired)")
