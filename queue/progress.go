package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// ProgressTTL is how long a job's progress is kept after its last update.
const ProgressTTL = time.Hour

// Progress returns the key of job id's progress: a hash with done, total
// (frames of a video), worker and updatedAt (Redis time, unix ms), kept
// ProgressTTL after its last update.
func (k Keys) Progress(id string) string { return k.tag + ":progress:" + id }

// Progress is how far a running job has come.
type Progress struct {
	Done      int    `json:"done"`
	Total     int    `json:"total"`
	Worker    string `json:"worker,omitempty"`
	UpdatedAt int64  `json:"updatedAt"` // unix ms, Redis time
}

// progressScript stores a progress update with Redis's time.
//
// KEYS: 1 progress ; ARGV: 1 done 2 total 3 worker 4 ttlMs
var progressScript = rueidis.NewLuaScriptRetryable(luaNow + `
redis.call('HSET', KEYS[1], 'done', ARGV[1], 'total', ARGV[2], 'worker', ARGV[3], 'updatedAt', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// Progress records that this worker has done done of total units (frames)
// of job id, for producers and `empplay queue inspect`.
func (q *Redis) Progress(ctx context.Context, id string, done, total int) error {
	err := progressScript.Exec(ctx, q.c, []string{q.keys.Progress(id)}, []string{
		strconv.Itoa(done), strconv.Itoa(total), q.wid, strconv.FormatInt(ProgressTTL.Milliseconds(), 10),
	}).Error()
	if err != nil {
		return fmt.Errorf("store the progress of job %s: %w", id, err)
	}
	return nil
}

// Progress reads job id's progress; nil when it has none (not a video,
// not started, or finished more than ProgressTTL ago).
func (a *Admin) Progress(ctx context.Context, id string) (*Progress, error) {
	return readProgress(ctx, a.c, a.keys.Progress(id))
}

// Progress reads job id's progress, as [Admin.Progress] does.
func (p *Client) Progress(ctx context.Context, id string) (*Progress, error) {
	return readProgress(ctx, p.c, p.keys.Progress(id))
}

func readProgress(ctx context.Context, c rueidis.Client, key string) (*Progress, error) {
	m, err := c.Do(ctx, c.B().Hgetall().Key(key).Build()).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("read progress %s: %w", key, err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	p := &Progress{Worker: m["worker"]}
	p.Done, _ = strconv.Atoi(m["done"])
	p.Total, _ = strconv.Atoi(m["total"])
	p.UpdatedAt, _ = strconv.ParseInt(m["updatedAt"], 10, 64)
	return p, nil
}
