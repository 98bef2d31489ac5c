package queue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

func TestProgress(t *testing.T) {
	c := newRedis(t)
	ctx := testenv.Context(t, 30*time.Second)
	q := newQueue(c, queue.Config{})
	admin := queue.NewAdmin(c, "")
	producer := queue.NewClient(c, "")

	if p, err := admin.Progress(ctx, "job-1"); err != nil || p != nil {
		t.Fatalf("progress of an unknown job: %+v, %v; want nil, nil", p, err)
	}
	for _, done := range []int{0, 30, 90} {
		if err := q.Progress(ctx, "job-1", done, 90); err != nil {
			t.Fatal(err)
		}
	}
	for name, read := range map[string]func() (*queue.Progress, error){
		"admin":    func() (*queue.Progress, error) { return admin.Progress(ctx, "job-1") },
		"producer": func() (*queue.Progress, error) { return producer.Progress(ctx, "job-1") },
	} {
		p, err := read()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p == nil || p.Done != 90 || p.Total != 90 || p.Worker != q.WorkerID() || p.UpdatedAt == 0 {
			t.Errorf("%s: progress %+v; want 90/90 by %s with a time", name, p, q.WorkerID())
		}
	}
	key := q.Keys().Progress("job-1")
	if !strings.HasPrefix(key, "{playwright-jobs}:progress:") {
		t.Errorf("key %q is not under the queue's hash tag", key)
	}
	ttl, err := c.Do(ctx, c.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil || ttl <= 0 || ttl > queue.ProgressTTL.Milliseconds() {
		t.Errorf("PTTL %d (%v); want (0, %d]", ttl, err, queue.ProgressTTL.Milliseconds())
	}
}
