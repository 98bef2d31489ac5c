package worker

import (
	"context"
	"log/slog"
	"regexp"
	"time"

	"github.com/empplay/empplay"
)

// logJob writes the one line that says how a job's attempt ended: outcome
// success or failed when its result was stored, retry or requeued when it
// goes back to the queue, dropped when another result was stored first,
// unstored when the queue took neither (see [ending]). Its fields are the job's id, type, outcome,
// error code, attempt, stage durations, renderer and output size; text
// that may quote a URL (the error, src) goes through [redact], and
// nothing else of the payload or the configuration is logged.
func (w *Worker) logJob(ctx context.Context, d *empplay.Delivery, typ, outcome string, res *empplay.Result, stages *empplay.StageTimes, took time.Duration) {
	level := slog.LevelInfo
	if outcome != "success" {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("job_id", d.ID),
		slog.String("type", typ),
		slog.String("outcome", outcome),
		slog.Int("attempt", d.Attempt),
		slog.Int("max_attempts", w.cfg.MaxAttempts),
		slog.Float64("total_ms", float64(took.Microseconds())/1000),
	}
	var ms []any
	secs := stages.Seconds()
	for _, st := range append([]empplay.Stage{empplay.StageQueueWait}, empplay.Stages...) { // in job order, not map order
		if sec, ok := secs[string(st)]; ok {
			ms = append(ms, slog.Float64(string(st), sec*1000))
		}
	}
	if len(ms) > 0 {
		attrs = append(attrs, slog.Group("stages_ms", ms...))
	}
	if res != nil {
		if res.ErrorCode != "" {
			attrs = append(attrs, slog.String("error_code", string(res.ErrorCode)), slog.String("err", redact(res.Error)))
			if res.Cause != "" {
				attrs = append(attrs, slog.String("cause", redact(res.Cause)))
			}
		}
		if res.Renderer != "" {
			attrs = append(attrs, slog.String("renderer", res.Renderer))
		}
		if res.Trigger != "" {
			attrs = append(attrs, slog.String("trigger", res.Trigger))
		}
		if res.Bytes > 0 {
			attrs = append(attrs, slog.Int64("bytes", res.Bytes))
		}
		if res.Src != "" {
			attrs = append(attrs, slog.String("src", redact(res.Src)))
		}
		if res.Inline {
			attrs = append(attrs, slog.Bool("inline", true))
		}
	}
	w.logger.LogAttrs(ctx, level, "job finished", attrs...)
}

// secretPatterns match what must never reach a log line: a SAS
// signature, an account key in a connection string, a password in a URL.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(\bsig=)[^&;\s"']+`),
	regexp.MustCompile(`(?i)(\bAccountKey=)[^;\s"']+`),
	regexp.MustCompile(`(://[^:/@\s"']*:)[^@/\s"']+(@)`),
}

// Redact replaces what looks like a secret in s (a SAS signature, an
// account key, a URL password) with REDACTED: for text an operator's view
// shows, such as a dead letter's error.
func Redact(s string) string { return redact(s) }

// redact replaces the secrets [secretPatterns] find in s with REDACTED.
func redact(s string) string {
	for _, re := range secretPatterns {
		s = re.ReplaceAllString(s, "${1}REDACTED${2}")
	}
	return s
}
