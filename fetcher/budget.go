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

// Get returns the file at u within the job's budget. Files fetched at the
// same time share it: each is charged as its bytes arrive, so together
// they never hold more than the budget.
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
	b.mu.Unlock()

	dctx, cancel := context.WithDeadline(ctx, b.deadline)
	ft.file, ft.err = b.f.get(dctx, u, b)
	cancel()
	if ft.err == nil {
		b.mu.Lock()
		if ft.file.Cached {
			b.hits++
		} else {
			b.miss++
		}
		b.mu.Unlock()
	}
	close(ft.done)
	return ft.file, ft.err
}

func (b *Budget) charge(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *Budget) refund(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

func (b *Budget) limit() int64 { return b.max }

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
