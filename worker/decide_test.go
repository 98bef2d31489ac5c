package worker

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/empplay/empplay"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	storage503 := empplay.Transient(empplay.CodeStorageError, errors.New("503"))
	for _, tc := range []struct {
		name     string
		err      error // nil: success
		attempt  int
		drained  bool
		want     action
		wantCode empplay.Code
	}{
		{"success", nil, 1, false, actionFinish, ""},
		{"success even while draining", nil, 1, true, actionFinish, ""},
		{"bad input is final", empplay.Errorf(empplay.CodeInvalidJSON, "x"), 1, false, actionFinish, empplay.CodeInvalidJSON},
		{"sketch error is final", empplay.Errorf(empplay.CodeSketchError, "x"), 1, false, actionFinish, empplay.CodeSketchError},
		{"render timeout is final", empplay.Errorf(empplay.CodeRenderTimeout, "x"), 1, false, actionFinish, empplay.CodeRenderTimeout},
		{"storage 5xx is retried", storage503, 1, false, actionRetry, empplay.CodeStorageError},
		{"wrapped transient is still transient", fmt.Errorf("upload: %w", storage503), 2, false, actionRetry, empplay.CodeStorageError},
		{"storage 5xx on the last attempt is final", storage503, 3, false, actionFinish, empplay.CodeStorageError},
		{"CDN not serving yet is retried", empplay.Transient(empplay.CodeCDNError, errors.New("404")), 1, false, actionRetry, empplay.CodeCDNError},
		{"browser crash is retried", empplay.Transient(empplay.CodeBrowserError, errors.New("crash")), 1, false, actionRetry, empplay.CodeBrowserError},
		{"an unclassified error is retried", errors.New("surprise"), 1, false, actionRetry, empplay.CodeInternal},
		{"a job cut short by shutdown goes back", empplay.Transient(empplay.CodeBrowserError, context.Canceled), 1, true, actionRequeue, empplay.CodeBrowserError},
		{"even a permanent failure during drain goes back", empplay.Errorf(empplay.CodeRenderTimeout, "x"), 1, true, actionRequeue, empplay.CodeRenderTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := &empplay.Result{Success: true}
			if tc.err != nil {
				res = empplay.Failed("id", tc.err)
			}
			if got := nextAction(res, tc.attempt, 3, tc.drained); got != tc.want {
				t.Errorf("decide = %v; want %v", got, tc.want)
			}
			if res.ErrorCode != tc.wantCode {
				t.Errorf("errorCode %q; want %q", res.ErrorCode, tc.wantCode)
			}
		})
	}
}
