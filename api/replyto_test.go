package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// POST /v1/jobs refuses a replyTo that names one of the queue's own keys,
// and takes any other list.
func TestSubmitReplyTo(t *testing.T) {
	s, err := New(Config{}, fakeQueue{}, nil, http.DefaultClient, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		replyTo string
		want    int
	}{
		{"my-replies", http.StatusAccepted},
		{"{app}:replies:42", http.StatusAccepted},
		{"playwright-jobs", http.StatusBadRequest},
		{"{playwright-jobs}:done:someone-else", http.StatusBadRequest},
		{"{playwright-jobs}:inflight:host:worker-1", http.StatusBadRequest},
	} {
		body, _ := json.Marshal(map[string]any{"type": "p5", "code": "function setup(){}", "width": 64, "height": 64, "bucket": "renders", "filename": "x.png", "replyTo": tc.replyTo})
		rec := serve(t, s, "POST", "/v1/jobs", body)
		if rec.Code != tc.want {
			t.Errorf("replyTo %q: %d %s; want %d", tc.replyTo, rec.Code, rec.Body, tc.want)
			continue
		}
		if tc.want == http.StatusBadRequest && (!strings.Contains(rec.Body.String(), "invalid_field") || !strings.Contains(rec.Body.String(), "replyTo")) {
			t.Errorf("replyTo %q: the answer does not name the field: %s", tc.replyTo, rec.Body)
		}
	}
}
