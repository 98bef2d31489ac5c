package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
)

// sasVerifier serves the output at a URL that carries a SAS signature, as
// a CDN_URI in front of a private container could.
type sasVerifier struct{}

func (sasVerifier) Verify(_ context.Context, bucket, name string, _ int64, _ string) (string, error) {
	// The behaviour: a check that takes time. Timings are kept in whole
	// microseconds, and one that took none is left out of stages_ms.
	time.Sleep(time.Millisecond)
	return "https://acct.blob.core.windows.net/" + bucket + "/" + name + "?sv=2024-05-04&sig=SECRETSIG%2Babc", nil
}

// TestJobLog: each attempt's end is one "job finished" line with the
// job's id, type, outcome, attempt, stages, renderer and size, and no
// secret from the error or the URLs.
func TestJobLog(t *testing.T) {
	t.Parallel()
	render := func(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
		empplay.RecordStage(ctx, empplay.StageBrowserAcquire, 3*time.Millisecond)
		empplay.RecordStage(ctx, empplay.StageReady, 20*time.Millisecond)
		out, err := okRender(ctx, job)
		out.Renderer = "ANGLE (NVIDIA)"
		return out, err
	}
	failing := func(ctx context.Context, _ *empplay.Job) (*empplay.Output, error) {
		empplay.RecordStage(ctx, empplay.StageBrowserAcquire, time.Millisecond)
		return nil, empplay.Errorf(empplay.CodeSketchError,
			"sketch error: fetch https://acct.blob.core.windows.net/c/x?sig=SECRETSIG2 and redis://:hunter2@redis:6379 and AccountKey=S3CR3T==; failed")
	}
	transient := func(ctx context.Context, _ *empplay.Job) (*empplay.Output, error) {
		empplay.RecordStage(ctx, empplay.StageBrowserAcquire, time.Millisecond)
		return nil, empplay.Transient(empplay.CodeCDNError,
			errors.New("verify https://user:hunter2@cdn.test/c/x?sig=SECRETSIG3 with AccountKey=S3CR3T==: 503"))
	}
	queueDown := errors.New("redis: connection refused")
	for _, tc := range []struct {
		name     string
		render   func(context.Context, *empplay.Job) (*empplay.Output, error)
		outcome  string
		level    string
		want     []string // keys that must be set
		stages   []string
		renderer string
		queued   time.Duration // the queue's Delivery.Queued
		queueErr error         // what the queue answers Finish and Retry
		stored   bool          // the job had a result already
	}{
		{name: "success", render: render, outcome: "success", level: "INFO", want: []string{"bytes", "src", "trigger"},
			stages: []string{"browser_acquire", "ready", "upload", "verify"}, renderer: "ANGLE (NVIDIA)"},
		{name: "failure", render: failing, outcome: "failed", level: "WARN", want: []string{"error_code", "err"}, stages: []string{"browser_acquire"}},
		{name: "queue wait known", render: failing, outcome: "failed", level: "WARN", want: []string{"error_code"},
			stages: []string{"queue_wait", "browser_acquire"}, queued: 1500 * time.Millisecond},
		{name: "transient failure retried", render: transient, outcome: "retry", level: "WARN", want: []string{"error_code", "err"},
			stages: []string{"browser_acquire"}},
		{name: "retry not taken by the queue", render: transient, outcome: "unstored", level: "WARN", want: []string{"error_code", "err"},
			stages: []string{"browser_acquire"}, queueErr: queueDown},
		{name: "result not taken by the queue", render: failing, outcome: "unstored", level: "WARN", want: []string{"error_code", "err"},
			stages: []string{"browser_acquire"}, queueErr: queueDown},
		{name: "result already stored", render: render, outcome: "dropped", level: "WARN", want: []string{"bytes", "src"},
			stages: []string{"browser_acquire", "ready", "upload", "verify"}, renderer: "ANGLE (NVIDIA)", stored: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, nil))
			pending := delivery(goodJob)
			pending.Queued = tc.queued
			q := &fakeQueue{finishErr: tc.queueErr}
			if tc.stored {
				q.finished = map[string]*empplay.Result{pending.ID: {ID: pending.ID, Success: true}}
			}
			w := New(Config{ID: "w1", RenderTimeout: time.Second, MaxAttempts: 3}, q, fakeRenderer{tc.render},
				&fakeUploader{took: time.Millisecond}, sasVerifier{}, logger)
			w.handle(context.Background(), pending)
			var ev empplay.JobEvent
			select { // handle emits before it returns
			case ev = <-w.Events():
			default:
				t.Fatal("the attempt emitted no job event")
			}
			if ev.ID != pending.ID || ev.Outcome != tc.outcome {
				t.Errorf("job event %+v; want id %s, outcome %s", ev, pending.ID, tc.outcome)
			}
			if wantSrc := slices.Contains(tc.want, "src"); (ev.Src != "") != wantSrc || strings.Contains(ev.Src, "SECRETSIG") ||
				wantSrc && !strings.Contains(ev.Src, "sig=REDACTED") {
				t.Errorf("job event src %q; want the output URL with its signature redacted", ev.Src)
			}
			var lines []map[string]any
			for l := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				if m["msg"] == "job finished" {
					lines = append(lines, m)
				}
			}
			if len(lines) != 1 {
				t.Fatalf("%d job lines; want 1:\n%s", len(lines), buf.String())
			}
			l := lines[0]
			d := delivery(goodJob)
			for k, v := range map[string]any{"job_id": d.ID, "type": "p5", "outcome": tc.outcome, "attempt": 1.0, "level": tc.level} {
				if l[k] != v {
					t.Errorf("%s = %v; want %v", k, l[k], v)
				}
			}
			for _, k := range tc.want {
				if l[k] == nil {
					t.Errorf("no %s in %v", k, l)
				}
			}
			if tc.renderer != "" && l["renderer"] != tc.renderer {
				t.Errorf("renderer = %v; want %s", l["renderer"], tc.renderer)
			}
			st, _ := l["stages_ms"].(map[string]any)
			if len(st) != len(tc.stages) {
				t.Errorf("stages_ms %v; want exactly %v", st, tc.stages)
			}
			for _, s := range tc.stages {
				if v, ok := st[s].(float64); !ok || v <= 0 {
					t.Errorf("stages_ms.%s = %v; want a positive duration", s, st[s])
				}
			}
			for _, secret := range []string{"SECRETSIG", "hunter2", "S3CR3T"} {
				if strings.Contains(buf.String(), secret) {
					t.Errorf("the log shows the secret %q:\n%s", secret, buf.String())
				}
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://a.blob.core.windows.net/c/b?sv=1&sig=abc%2B%3D&se=2": "https://a.blob.core.windows.net/c/b?sv=1&sig=REDACTED&se=2",
		"BlobEndpoint=http://x;SharedAccessSignature=sv=1&sig=abc/+=": "BlobEndpoint=http://x;SharedAccessSignature=sv=1&sig=REDACTED",
		"AccountName=a;AccountKey=Zm9v+/==;EndpointSuffix=core":       "AccountName=a;AccountKey=REDACTED;EndpointSuffix=core",
		"dial redis://:pa55@10.0.0.1:6379/0 failed":                   "dial redis://:REDACTED@10.0.0.1:6379/0 failed",
		"redis://user:pa55@h:1":                                       "redis://user:REDACTED@h:1",
		"nothing secret at https://cdn.test/a.png":                    "nothing secret at https://cdn.test/a.png",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q; want %q", in, got, want)
		}
	}
}
