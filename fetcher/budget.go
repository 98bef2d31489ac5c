package fetcher

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Budget is one job's share of a [Fetcher]: a cap on the bytes of all its
// files together and a deadline for all its fetches. A file asked for twice
// is fetched once. It is safe for concurrent use.
type Budget struct {
	f        *Fetcher
	max      int64
	deadline time.Time

	mu    sync.Mutex
	used  int64
	files map[string]*fetch
	hits  int
	miss  int
}

// fetch is one file of a job, fetched once.
type fetch struct {
	done chan struct{}
	file File
	err  error
}

// Budget starts the budget of one job: at most max bytes in all (default
// [DefaultMaxJob]) within timeout (default [DefaultJobTimeout]) from now.
func (f *Fetcher) Budget(max int64, timeout time.Duration) *Budget {
	if max <= 0 {
		max = DefaultMaxJob
	}
	if timeout <= 0 {
		timeout = DefaultJobTimeout
	}
	return &Budget{f: f, max: max, deadline: time.Now().Add(timeout), files: make(map[string]*fetch)}
}

// Get returns the file at u within the job's budget.
func (b *Budget) Get(ctx context.Context, u string) (File, error) {
	b.mu.Lock()
	if ft, ok := b.files[u]; ok {
		b.mu.Unlock()
		select {
		case <-ft.done:
			return ft.file, ft.err
		case <-ctx.Done():
			return File{}, unavailable(u, true, "%v", ctx.Err())
		}
	}
	ft := &fetch{done: make(chan struct{})}
	b.files[u] = ft
	left := b.max - b.used
	b.mu.Unlock()

	ft.file, ft.err = b.get(ctx, u, left)
	b.mu.Lock()
	if ft.err == nil {
		b.used += int64(len(ft.file.Body))
		if ft.file.Cached {
			b.hits++
		} else {
			b.miss++
		}
	}
	b.mu.Unlock()
	close(ft.done)
	return ft.file, ft.err
}

func (b *Budget) get(ctx context.Context, u string, left int64) (File, error) {
	ctx, cancel := context.WithDeadline(ctx, b.deadline)
	defer cancel()
	var jobMax int64
	limit := b.f.maxFile
	if left < limit {
		limit, jobMax = max(left, 0), b.max
	}
	file, err := b.f.get(ctx, u, limit, jobMax)
	return file, err
}

// Stats returns the files the job got from the cache and from the
// network, and their bytes.
func (b *Budget) Stats() (hits, misses int, bytes int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits, b.miss, b.used
}

// String describes the budget for logs.
func (b *Budget) String() string {
	h, m, n := b.Stats()
	return fmt.Sprintf("%d cached, %d fetched, %d bytes", h, m, n)
}
