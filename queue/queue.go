package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
)

// Config tunes a [Redis] queue. Zero values take the defaults in brackets.
type Config struct {
	// Name is the producers' list (REDIS_QUEUE_NAME) [playwright-jobs].
	Name string
	// BlockTimeout is how long one BLMOVE waits server-side [2s]. It bounds
	// how quickly a worker notices shutdown.
	BlockTimeout time.Duration
	// MaxAttempts is how often a job may be claimed before it is
	// dead-lettered [3].
	MaxAttempts int
	// ResultTTL is how long a result is kept [24h].
	ResultTTL time.Duration
	// DoneTTL is how long the wake-up list of a job is kept [10m].
	DoneTTL time.Duration
	// JobTTL is how long per-job metadata is kept [7 days].
	JobTTL time.Duration
	// HeartbeatTTL is how long a worker counts as alive after its last
	// heartbeat [15s].
	HeartbeatTTL time.Duration
	// DeadCap caps the dead-letter list [10000].
	DeadCap int
	// Lane is where the worker takes jobs from first, [LaneCPU] or
	// [LaneGPU] [cpu]; [Redis.SetLane] changes it.
	Lane string
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.BlockTimeout <= 0 {
		c.BlockTimeout = 2 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.ResultTTL <= 0 {
		c.ResultTTL = 24 * time.Hour
	}
	if c.DoneTTL <= 0 {
		c.DoneTTL = 10 * time.Minute
	}
	if c.JobTTL <= 0 {
		c.JobTTL = 7 * 24 * time.Hour
	}
	if c.HeartbeatTTL <= 0 {
		c.HeartbeatTTL = 15 * time.Second
	}
	if c.DeadCap <= 0 {
		c.DeadCap = 10000
	}
}

// ErrFenced means the worker was written off as dead by another process;
// it must stop without writing results.
var ErrFenced = errors.New("worker was fenced: another process declared it dead")

// Redis is one worker's view of the queue: it fetches jobs into its own
// in-flight list and finishes them.
type Redis struct {
	c      rueidis.Client
	cfg    Config
	keys   Keys
	wid    string
	logger *slog.Logger

	// suspect is set after a connection error in a fetch or claim, or a
	// failed release of the job in hand (leftInFlight): a job
	// may then sit in our in-flight list with nobody working on it (the
	// worker is alive, so no sweep would recover it).
	suspect atomic.Bool
	// gpu is true while the worker takes the GPU lane (see Lane).
	gpu atomic.Bool
}

// New returns the queue view of worker wid. Use [NewWorkerID] for wid.
func New(c rueidis.Client, cfg Config, wid string, logger *slog.Logger) *Redis {
	cfg.defaults()
	q := &Redis{c: c, cfg: cfg, keys: NewKeys(cfg.Name), wid: wid, logger: logger}
	q.gpu.Store(cfg.Lane == LaneGPU)
	return q
}

// NewWorkerID returns an id unique to this process incarnation:
// host:pid:random, prefixed with label when it is not empty.
func NewWorkerID(label string) string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	id := host + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(b[:])
	if label != "" {
		id = label + ":" + id
	}
	return id
}

// WorkerID returns the id this queue view fetches under.
func (q *Redis) WorkerID() string { return q.wid }

// Keys returns the queue's key names.
func (q *Redis) Keys() Keys { return q.keys }

// Register adds the worker to the heartbeat registry.
func (q *Redis) Register(ctx context.Context) error {
	return q.heartbeat(ctx, true)
}

// Heartbeat refreshes the worker's registry entry. It returns [ErrFenced]
// when the worker was removed by someone else.
func (q *Redis) Heartbeat(ctx context.Context) error {
	return q.heartbeat(ctx, false)
}

func (q *Redis) heartbeat(ctx context.Context, first bool) error {
	f := "0"
	if first {
		f = "1"
	}
	s, err := heartbeatScript.Exec(ctx, q.c, []string{q.keys.Workers(), q.keys.GPUWorkers()},
		[]string{q.wid, ms(q.cfg.HeartbeatTTL), f, q.Lane()}).ToString()
	if err != nil {
		return fmt.Errorf("heartbeat %s: %w", q.wid, err)
	}
	if s == "FENCED" {
		return ErrFenced
	}
	return nil
}

// Deregister removes the worker from the registry. Its in-flight list must
// be empty (finished or requeued) before.
func (q *Redis) Deregister(ctx context.Context) error {
	for _, r := range q.c.DoMulti(ctx,
		q.c.B().Zrem().Key(q.keys.GPUWorkers()).Member(q.wid).Build(),
		q.c.B().Zrem().Key(q.keys.Workers()).Member(q.wid).Build()) {
		if err := r.Error(); err != nil {
			return fmt.Errorf("deregister %s: %w", q.wid, err)
		}
	}
	return nil
}

// Fetch waits up to the block timeout for a job and claims it. It returns
// (nil, nil) when no job arrived. Jobs that already have a result, and
// jobs that ran out of attempts (their failed result is written here), are
// handled inside and never returned.
//
// A worker on [LaneCPU] moves a job that wants a GPU to the GPU lane
// instead of claiming it, while a GPU worker is alive, and returns (nil,
// nil); one on [LaneGPU] takes the GPU lane first. See [LaneCPU].
func (q *Redis) Fetch(ctx context.Context) (*empplay.Delivery, error) {
	if q.suspect.Load() {
		raw, err := q.recoverOwn(ctx)
		if err != nil {
			return nil, fmt.Errorf("check own in-flight list: %w", err)
		}
		q.suspect.Store(false)
		if raw != nil {
			q.logger.WarnContext(ctx, "found a job left in our in-flight list after a connection error; claiming it")
			return q.claim(ctx, raw)
		}
	}
	raw, from, err := q.next(ctx)
	if err != nil || raw == nil {
		return nil, err
	}
	if from == q.keys.Pending && !q.gpu.Load() {
		if routed, err := q.route(ctx, raw); err != nil || routed {
			return nil, err
		}
	}
	return q.claim(ctx, raw)
}

// move waits up to the block timeout to move the oldest job of list src
// into the worker's in-flight list.
func (q *Redis) move(ctx context.Context, src string) ([]byte, error) {
	inflight := q.keys.Inflight(q.wid)
	// The context outlives the server-side timeout, so an idle queue ends
	// the call in Redis, not by cancelling the connection.
	bctx, cancel := context.WithTimeout(ctx, q.cfg.BlockTimeout+5*time.Second)
	defer cancel()
	cmd := q.c.B().Blmove().Source(src).Destination(inflight).Right().Left().
		Timeout(q.cfg.BlockTimeout.Seconds()).Build()
	s, err := q.c.Do(bctx, cmd).ToString()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	if err != nil {
		if _, isRedis := rueidis.IsRedisErr(err); !isRedis {
			// The reply may be lost while the move happened: look in our
			// own in-flight list before giving up.
			if got, lerr := q.recoverOwn(ctx); lerr == nil && got != nil {
				return got, nil
			}
			q.suspect.Store(true)
		}
		return nil, fmt.Errorf("fetch from %s: %w", src, err)
	}
	return []byte(s), nil
}

// leftInFlight notes that a call meant to release the job in hand (its
// result, retry or requeue) failed: the job may still be in the worker's
// in-flight list, where no sweep looks while the worker is alive, so the
// next Fetch claims it from there first and it is rendered again.
func (q *Redis) leftInFlight() { q.suspect.Store(true) }

func (q *Redis) recoverOwn(ctx context.Context) ([]byte, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	s, err := q.c.Do(rctx, q.c.B().Lindex().Key(q.keys.Inflight(q.wid)).Index(-1).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

func (q *Redis) claim(ctx context.Context, raw []byte) (*empplay.Delivery, error) {
	id := empplay.IDFor(raw)
	k := q.keys
	res, err := claimScript.Exec(ctx, q.c,
		[]string{k.Inflight(q.wid), k.Job(id), k.Result(id), k.Dead(), k.Done(id), k.Channel(), k.Workers()},
		[]string{string(raw), id, q.wid, strconv.Itoa(q.cfg.MaxAttempts), ms(q.cfg.JobTTL),
			ms(q.cfg.ResultTTL), ms(q.cfg.DoneTTL), strconv.Itoa(q.cfg.DeadCap)}).ToArray()
	if err != nil {
		if _, isRedis := rueidis.IsRedisErr(err); !isRedis {
			q.suspect.Store(true)
		}
		return nil, fmt.Errorf("claim job %s: %w", id, err)
	}
	if len(res) < 2 {
		return nil, fmt.Errorf("claim job %s: unexpected reply of %d elements", id, len(res))
	}
	status, _ := res[0].ToString()
	attempts, _ := res[1].AsInt64()
	switch status {
	case "OK":
		var queued int64
		if len(res) > 2 {
			queued, _ = res[2].AsInt64()
		}
		return &empplay.Delivery{Raw: raw, ID: id, Attempt: int(attempts), Queued: time.Duration(max(queued, 0)) * time.Millisecond}, nil
	case "CACHED":
		q.logger.InfoContext(ctx, "job already has a result; not rendering it again", "job_id", id)
	case "DEAD":
		q.logger.ErrorContext(ctx, "job ran out of attempts; dead-lettered", "job_id", id, "attempts", attempts)
		// The script wrote the failed result; it goes to replyTo as well.
		if body, err := q.c.Do(ctx, q.c.B().Get().Key(k.Result(id)).Build()).AsBytes(); err == nil {
			q.replyTo(ctx, &empplay.Delivery{Raw: raw, ID: id}, body)
		}
	case "GONE":
		q.logger.WarnContext(ctx, "fetched job is no longer ours", "job_id", id)
	case "DUPLICATE":
		q.logger.InfoContext(ctx, "another worker is rendering this job; dropped this copy of it", "job_id", id)
	default:
		return nil, fmt.Errorf("claim job %s: unexpected status %q", id, status)
	}
	return nil, nil
}

// Finish stores res as the job's one result and releases the job. It
// reports whether this call wrote the result; false means a result
// existed already (a duplicate delivery), or the job is no longer this
// worker's (it was fenced, and its jobs given back), and res was dropped.
func (q *Redis) Finish(ctx context.Context, d *empplay.Delivery, res *empplay.Result) (bool, error) {
	res.ID = d.ID
	res.Attempts = d.Attempt
	// What the job's code put in it (messages, warnings) is bounded.
	res.Limit(empplay.MaxResultBytes)
	body, err := json.Marshal(res)
	if err != nil {
		return false, fmt.Errorf("encode result of %s: %w", d.ID, err)
	}
	state, dead := "done", ""
	if !res.Success {
		state = "failed"
	}
	if !res.Success && res.Retryable {
		// Transient failures that ran out of attempts go to the dead list
		// too: unlike bad input, they may succeed when requeued later.
		state = "dead"
		env, err := json.Marshal(DeadJob{ID: d.ID, Raw: string(d.Raw), Attempts: d.Attempt, Error: res.Error})
		if err != nil {
			return false, fmt.Errorf("encode dead-letter entry of %s: %w", d.ID, err)
		}
		dead = string(env)
	}
	k := q.keys
	n, err := completeScript.Exec(ctx, q.c,
		[]string{k.Inflight(q.wid), k.Job(d.ID), k.Result(d.ID), k.Done(d.ID), k.Channel(), k.Dead()},
		[]string{string(d.Raw), string(body), ms(q.cfg.ResultTTL), ms(q.cfg.DoneTTL), state, dead, strconv.Itoa(q.cfg.DeadCap)}).AsInt64()
	if err != nil {
		q.leftInFlight()
		return false, fmt.Errorf("store result of %s: %w", d.ID, err)
	}
	switch n {
	case 1:
		q.replyTo(ctx, d, body)
	case -1:
		q.logger.WarnContext(ctx, "the job is not in this worker's in-flight list (written off and given back to the queue, or already finished); its result was not stored", "job_id", d.ID)
	}
	return n == 1, nil
}

// replyTo pushes the result onto the list a job names in "replyTo", as a
// second step: that list may live in another Cluster slot than the
// queue's keys, so it cannot join the completion script. Only the writer
// of the result pushes, so it is pushed at most once.
func (q *Redis) replyTo(ctx context.Context, d *empplay.Delivery, body []byte) {
	var j struct {
		ReplyTo string `json:"replyTo"`
	}
	if json.Unmarshal(d.Raw, &j) != nil || j.ReplyTo == "" {
		return
	}
	key := j.ReplyTo
	if q.keys.Owns(key) {
		q.logger.WarnContext(ctx, "not pushing the result to the job's replyTo list: it names one of the queue's own keys", "job_id", d.ID, "reply_to", key)
		return
	}
	if err := replyScript.Exec(ctx, q.c, []string{key}, []string{string(body), ms(q.cfg.ResultTTL)}).Error(); err != nil {
		q.logger.WarnContext(ctx, "could not push the result to the job's replyTo list", "job_id", d.ID, "reply_to", key, "err", err)
	}
}

// Requeue puts a job back at the front of the queue without charging the
// attempt, for a worker that stops before finishing it.
func (q *Redis) Requeue(ctx context.Context, d *empplay.Delivery) error {
	k := q.keys
	if err := requeueScript.Exec(ctx, q.c, []string{k.Inflight(q.wid), k.Pending, k.Job(d.ID)},
		[]string{string(d.Raw)}).Error(); err != nil {
		q.leftInFlight()
		return fmt.Errorf("requeue job %s: %w", d.ID, err)
	}
	return nil
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
