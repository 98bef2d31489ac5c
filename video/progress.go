package video

import "context"

// ProgressFunc receives the frames done out of total while a video job
// runs. It is called from the renderer's goroutine and must not block.
type ProgressFunc func(done, total int)

type progressKey struct{}

// WithProgress returns a context that carries f: a renderer given that
// context reports a video job's progress to it (see [ReportProgress]). The
// way net/http/httptrace hooks into a request, it keeps the renderer's
// interface one method wide.
func WithProgress(ctx context.Context, f ProgressFunc) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

// ReportProgress calls the ProgressFunc of ctx, if it has one.
func ReportProgress(ctx context.Context, done, total int) {
	if f, ok := ctx.Value(progressKey{}).(ProgressFunc); ok && f != nil {
		f(done, total)
	}
}
