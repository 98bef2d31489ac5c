package render

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
)

func TestMessageBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		m            message
		wantWarnings int
		lastWarning  string
	}{
		{name: "within limits", m: message{Message: "boom", Warnings: []string{"a"}}, wantWarnings: 1, lastWarning: "a"},
		{name: "as many as prelude.js keeps", m: message{Warnings: make([]string, maxWarnings-1)}, wantWarnings: maxWarnings - 1},
		{name: "a page that reports itself", m: message{Message: strings.Repeat("m", 1<<20), Trigger: strings.Repeat("t", 1<<20),
			Renderer: strings.Repeat("r", 1<<20), Warnings: make([]string, 100_000)},
			wantWarnings: maxWarnings - 1, lastWarning: fmt.Sprintf("%d more warnings were dropped", 100_000-(maxWarnings-2))},
		{name: "long warnings", m: message{Warnings: []string{strings.Repeat("w", 1<<20)}}, wantWarnings: 1, lastWarning: "..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := tc.m
			m.bound()
			if len(m.Message) > maxMessageLen || len(m.Trigger) > maxFieldLen || len(m.Renderer) > maxFieldLen {
				t.Errorf("message %d, trigger %d, renderer %d bytes", len(m.Message), len(m.Trigger), len(m.Renderer))
			}
			if len(m.Warnings) != tc.wantWarnings {
				t.Errorf("%d warnings; want %d", len(m.Warnings), tc.wantWarnings)
			}
			for _, w := range m.Warnings {
				if len(w) > maxWarningLen {
					t.Errorf("a warning of %d bytes", len(w))
				}
			}
			if tc.lastWarning != "" && !strings.HasSuffix(m.Warnings[len(m.Warnings)-1], tc.lastWarning) {
				t.Errorf("last warning %q; want %q", m.Warnings[len(m.Warnings)-1], tc.lastWarning)
			}
		})
	}
}

// A page that makes requests without end costs the worker a bounded record:
// maxSeen distinct URLs, maxBlocked named, the rest counted.
func TestBlockedRecordBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		requests int
		seen     int
		more     string // in blockedList
	}{
		{"one", 1, 1, ""},
		{"a few", maxBlocked + 5, maxBlocked + 5, "and 5 more"},
		{"endless", 50_000, maxSeen, fmt.Sprintf("and %d more", 50_000-maxBlocked)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tb := &tab{}
			for i := range tc.requests {
				tb.attempt("GET", fmt.Sprintf("https://example.com/%d/%s", i, strings.Repeat("x", 500)))
			}
			if len(tb.seen) != tc.seen || len(tb.blocked) > maxBlocked {
				t.Errorf("seen %d, blocked %d; want %d and at most %d", len(tb.seen), len(tb.blocked), tc.seen, maxBlocked)
			}
			list := tb.blockedList()
			if tc.more != "" && !strings.HasSuffix(list, tc.more) {
				t.Errorf("list ends %q; want %q", list[max(len(list)-40, 0):], tc.more)
			}
			if len(list) > maxBlocked*(maxBlockedURL+10)+40 {
				t.Errorf("list of %d bytes", len(list))
			}
		})
	}
}

// A page that calls the recorder's binding faster than the encoder takes
// its messages fills at most maxVideoQueue, then the job fails.
func TestVideoQueueBound(t *testing.T) {
	t.Parallel()
	tb := &tab{logger: slog.New(slog.DiscardHandler)}
	tb.mainWorld.Store(&execContext{id: 7, uniqueID: "u7"})
	r := &recording{tb: tb, notify: make(chan struct{}, 1)}
	chunk := strings.Repeat("f", 1<<20)
	for range maxVideoQueue>>20 + 10 {
		r.listen(&runtime.EventBindingCalled{Name: videoBinding, Payload: chunk, ExecutionContextID: 7})
	}
	msgs, flood := r.take()
	if !flood || len(msgs) != maxVideoQueue>>20 {
		t.Errorf("flood %v with %d messages queued; want true with %d", flood, len(msgs), maxVideoQueue>>20)
	}
	r = &recording{tb: tb, notify: make(chan struct{}, 1)}
	r.listen(&runtime.EventBindingCalled{Name: videoBinding, Payload: chunk, ExecutionContextID: 7})
	if msgs, flood := r.take(); flood || len(msgs) != 1 {
		t.Errorf("flood %v with %d messages; want false with 1", flood, len(msgs))
	}
}

// The recorder tells the page what it has handled once an eighth of the
// queue's limit more is handled, not at every message.
func TestVideoQueueCredit(t *testing.T) {
	t.Parallel()
	tb := &tab{logger: slog.New(slog.DiscardHandler)}
	tb.mainWorld.Store(&execContext{id: 7, uniqueID: "u7"})
	r := &recording{tb: tb, notify: make(chan struct{}, 1), tell: make(chan struct{}, 1), opts: VideoOptions{queueMax: 16 << 10}}
	chunk := strings.Repeat("f", 1<<10)
	for range 5 {
		r.listen(&runtime.EventBindingCalled{Name: videoBinding, Payload: chunk, ExecutionContextID: 7})
	}
	msgs, flood := r.take()
	if flood || len(msgs) != 5 {
		t.Fatalf("flood %v, %d messages", flood, len(msgs))
	}
	told := func() bool {
		select {
		case <-r.tell:
			r.told = r.taken // what tellPage does
			return true
		default:
			return false
		}
	}
	// 16 KiB / 8 = 2 KiB: a word after the 2nd and the 4th message.
	for i, want := range []bool{false, true, false, true, false} {
		r.dequeued(len(msgs[i]))
		if got := told(); got != want {
			t.Errorf("after message %d: told %v, want %v", i+1, got, want)
		}
	}
	if r.queued != 0 || r.taken != 5<<10 {
		t.Errorf("queued %d, taken %d; want 0 and %d", r.queued, r.taken, 5<<10)
	}
}
