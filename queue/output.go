package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"
)

// OutputTTL is how long the output of an inline job is kept: long enough
// for the waiting HTTP request to read it, short enough that Redis does
// not become a blob store.
const OutputTTL = 10 * time.Minute

// Output is the key holding the bytes of inline job id's main output.
func (k Keys) Output(id string) string { return k.tag + ":output:" + id }

// StoreOutput keeps the main output of inline job id for [OutputTTL]. The
// worker calls it before it stores the result, so a result that says
// inline always has its bytes.
func (q *Redis) StoreOutput(ctx context.Context, id string, body []byte) error {
	cmd := q.c.B().Set().Key(q.keys.Output(id)).Value(rueidis.BinaryString(body)).Px(OutputTTL).Build()
	if err := q.c.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("store the output of job %s: %w", id, err)
	}
	return nil
}

// Output returns the bytes of inline job id's main output, or
// [ErrNoResult] when there are none (not inline, or expired).
func (p *Client) Output(ctx context.Context, id string) ([]byte, error) {
	b, err := p.c.Do(ctx, p.c.B().Get().Key(p.keys.Output(id)).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, ErrNoResult
	}
	if err != nil {
		return nil, fmt.Errorf("read the output of job %s: %w", id, err)
	}
	return b, nil
}
