package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
)

// Options turns a REDIS_URL into rueidis options with empplay's defaults.
// It accepts redis://, rediss://, unix:// URLs; several `addr` query
// parameters for a Cluster; `master_set=NAME` for Sentinel (then the
// addresses are the sentinels').
func Options(redisURL string) (rueidis.ClientOption, error) {
	opt, err := rueidis.ParseURL(redisURL)
	if err != nil {
		return opt, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	// Client-side caching needs RESP3 CLIENT TRACKING; the queue reads
	// nothing worth caching, so stay compatible with every server.
	opt.DisableCache = true
	if opt.Dialer.Timeout == 0 {
		opt.Dialer.Timeout = 3 * time.Second
	}
	if opt.ConnWriteTimeout == 0 {
		opt.ConnWriteTimeout = 5 * time.Second
	}
	return opt, nil
}

// Client is the producer side: push jobs and wait for their results.
type Client struct {
	c    rueidis.Client
	keys Keys
}

// NewClient returns a producer for the queue called name ("" is the
// default queue).
func NewClient(c rueidis.Client, name string) *Client {
	return &Client{c: c, keys: NewKeys(name)}
}

// doneRepushTTL bounds a wake-up a waiter puts back for other waiters.
const doneRepushTTL = 10 * time.Minute

// ErrNoResult means no result arrived before the context ended.
var ErrNoResult = errors.New("no result yet")

// Submit pushes raw exactly as the platform does (LPUSH) and returns the
// job's id ([empplay.IDFor]).
func (p *Client) Submit(ctx context.Context, raw []byte) (string, error) {
	if err := p.c.Do(ctx, p.c.B().Lpush().Key(p.keys.Pending).Element(string(raw)).Build()).Error(); err != nil {
		return "", fmt.Errorf("push job to %s: %w", p.keys.Pending, err)
	}
	return empplay.IDFor(raw), nil
}

// Owns reports whether key is one of the queue's own keys ([Keys.Owns]),
// which a job's replyTo may not name.
func (p *Client) Owns(key string) bool { return p.keys.Owns(key) }

// Result returns the stored result of job id, or [ErrNoResult].
func (p *Client) Result(ctx context.Context, id string) (*empplay.Result, error) {
	s, err := p.c.Do(ctx, p.c.B().Get().Key(p.keys.Result(id)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return nil, ErrNoResult
	}
	if err != nil {
		return nil, fmt.Errorf("read result of %s: %w", id, err)
	}
	return decodeResult(id, s)
}

// Wait blocks until job id has a result or ctx ends ([ErrNoResult]). Any
// number of waiters may wait for one job: each wakes on the per-job list
// and reads the stored result.
func (p *Client) Wait(ctx context.Context, id string) (*empplay.Result, error) {
	for {
		r, err := p.Result(ctx, id)
		if err != nil && !errors.Is(err, ErrNoResult) && expired(ctx, err) {
			// The deadline ran out during the read: that is "no result yet".
			return nil, fmt.Errorf("wait for job %s: %w", id, ErrNoResult)
		}
		if !errors.Is(err, ErrNoResult) {
			return r, err
		}
		wait := time.Second
		if dl, ok := ctx.Deadline(); ok {
			if left := time.Until(dl); left < wait {
				wait = left
			}
		}
		if wait <= 0 || ctx.Err() != nil {
			return nil, fmt.Errorf("wait for job %s: %w", id, ErrNoResult)
		}
		bctx, cancel := context.WithTimeout(ctx, wait+2*time.Second)
		arr, err := p.c.Do(bctx, p.c.B().Blpop().Key(p.keys.Done(id)).Timeout(wait.Seconds()).Build()).AsStrSlice()
		cancel()
		switch {
		case rueidis.IsRedisNil(err):
		case err != nil && expired(ctx, err):
			return nil, fmt.Errorf("wait for job %s: %w", id, ErrNoResult)
		case err != nil:
			return nil, fmt.Errorf("wait for job %s: %w", id, err)
		case len(arr) == 2:
			// The result is read from its key, the source of truth: only
			// the writer of the one result sets it, while anything may
			// push to a list. A wake-up without a result is dropped.
			r, err := p.Result(ctx, id)
			if errors.Is(err, ErrNoResult) {
				continue
			}
			// Put the wake-up back for other waiters.
			done := p.keys.Done(id)
			p.c.DoMulti(ctx,
				p.c.B().Rpush().Key(done).Element(arr[1]).Build(),
				p.c.B().Pexpire().Key(done).Milliseconds(doneRepushTTL.Milliseconds()).Build())
			return r, err
		}
	}
}

// SubmitAndWait pushes raw and waits for its result.
func (p *Client) SubmitAndWait(ctx context.Context, raw []byte) (*empplay.Result, error) {
	id, err := p.Submit(ctx, raw)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx, id)
}

// expired reports whether err comes from ctx's deadline. rueidis may fail a
// command with DeadlineExceeded a moment before ctx's own timer fires.
func expired(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)
}

func decodeResult(id, s string) (*empplay.Result, error) {
	var r empplay.Result
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("decode result of %s: %w", id, err)
	}
	return &r, nil
}
