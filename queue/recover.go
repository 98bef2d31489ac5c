package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
)

// Retry releases a job that failed transiently and schedules it to run
// again after delay. The attempt stays charged.
func (q *Redis) Retry(ctx context.Context, d *empplay.Delivery, delay time.Duration, cause error) error {
	k := q.keys
	msg := ""
	if cause != nil {
		msg = cause.Error()
	}
	if err := retryScript.Exec(ctx, q.c, []string{k.Inflight(q.wid), k.Job(d.ID), k.Retry()},
		[]string{string(d.Raw), d.ID, strconv.FormatInt(delay.Milliseconds(), 10), msg}).Error(); err != nil {
		q.leftInFlight()
		return fmt.Errorf("schedule retry of %s: %w", d.ID, err)
	}
	return nil
}

// Maintainer does the queue's housekeeping: promoting due retries and
// recovering the jobs of dead workers. Any number of processes may run
// one; sweeps are elected by a lock.
type Maintainer struct {
	c    rueidis.Client
	keys Keys
	me   string
}

// NewMaintainer returns the housekeeper of the queue called name; me
// identifies the caller in the sweep lock.
func NewMaintainer(c rueidis.Client, name, me string) *Maintainer {
	return &Maintainer{c: c, keys: NewKeys(name), me: me}
}

// Promote moves retries that are due back to the queue and returns how
// many moved.
func (m *Maintainer) Promote(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := promoteScript.Exec(ctx, m.c, []string{m.keys.Retry(), m.keys.Pending},
			[]string{m.keys.JobPrefix()}).AsInt64()
		if err != nil {
			return total, fmt.Errorf("promote retries: %w", err)
		}
		total += int(n)
		if n < 100 {
			return total, nil
		}
	}
}

// Recover gives the jobs of worker wid back to the queue and fences it.
// Without force, a worker whose heartbeat has not expired is left alone
// and Recover returns -1. The supervisor forces it for a child it reaped.
func (m *Maintainer) Recover(ctx context.Context, wid string, force bool) (int, error) {
	f := "0"
	if force {
		f = "1"
	}
	n, err := recoverScript.Exec(ctx, m.c, []string{m.keys.Workers(), m.keys.Inflight(wid), m.keys.Pending, m.keys.GPUWorkers()},
		[]string{wid, f}).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("recover jobs of %s: %w", wid, err)
	}
	return int(n), nil
}

// SweepResult says what one [Maintainer.Sweep] did.
type SweepResult struct {
	Elected   bool // this process held the sweep lock
	Workers   int  // dead workers fenced
	Recovered int  // jobs given back to the queue
}

// Sweep recovers workers whose heartbeat expired (a dead host) and
// in-flight lists no registered worker owns. Only the holder of the sweep
// lock sweeps; others return at once.
func (m *Maintainer) Sweep(ctx context.Context, lockTTL time.Duration) (SweepResult, error) {
	var r SweepResult
	err := m.c.Do(ctx, m.c.B().Set().Key(m.keys.SweepLock()).Value(m.me).Nx().Px(lockTTL).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("take sweep lock: %w", err)
	}
	r.Elected = true
	now, err := m.redisNow(ctx)
	if err != nil {
		return r, err
	}
	expired, err := m.c.Do(ctx, m.c.B().Zrangebyscore().Key(m.keys.Workers()).Min("-inf").
		Max(strconv.FormatInt(now, 10)).Build()).AsStrSlice()
	if err != nil {
		return r, fmt.Errorf("list expired workers: %w", err)
	}
	seen := map[string]bool{}
	for _, wid := range expired {
		seen[wid] = true
		n, err := m.Recover(ctx, wid, false)
		if err != nil {
			return r, err
		}
		if n >= 0 {
			r.Workers++
			r.Recovered += n
		}
	}
	// In-flight lists of workers that are not registered at all (for
	// example removed by hand, or written before a registry was lost).
	var cursor uint64
	for {
		e, err := m.c.Do(ctx, m.c.B().Scan().Cursor(cursor).Match(m.keys.InflightPattern()).Count(1000).Build()).AsScanEntry()
		if err != nil {
			return r, fmt.Errorf("scan in-flight lists: %w", err)
		}
		for _, key := range e.Elements {
			wid := m.keys.WorkerOf(key)
			if seen[wid] {
				continue
			}
			n, err := m.Recover(ctx, wid, false)
			if err != nil {
				return r, err
			}
			if n > 0 {
				r.Workers++
				r.Recovered += n
			}
		}
		if e.Cursor == 0 {
			return r, nil
		}
		cursor = e.Cursor
	}
}

func (m *Maintainer) redisNow(ctx context.Context) (int64, error) {
	t, err := m.c.Do(ctx, m.c.B().Time().Build()).AsIntSlice()
	if err != nil || len(t) != 2 {
		return 0, fmt.Errorf("read Redis TIME: %w", err)
	}
	return t[0]*1000 + t[1]/1000, nil
}
