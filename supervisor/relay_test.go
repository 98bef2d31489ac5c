package supervisor

import (
	"log/slog"
	"testing"
	"time"
)

func TestParseRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		line  string
		ok    bool
		level slog.Level
		msg   string
		keys  []string // attribute keys, in order
	}{
		{name: "slog JSON", line: `{"time":"2026-01-02T03:04:05Z","level":"WARN","msg":"hi","job_id":"j","n":3}`,
			ok: true, level: slog.LevelWarn, msg: "hi", keys: []string{"job_id", "n"}},
		{name: "slot and pid dropped, groups kept", line: `{"level":"INFO","msg":"m","slot":9,"pid":1,"g":{"a":1.5}}`,
			ok: true, level: slog.LevelInfo, msg: "m", keys: []string{"g"}},
		{name: "no level", line: `{"msg":"m"}`},
		{name: "no msg", line: `{"level":"INFO"}`},
		{name: "plain text", line: `panic: boom`},
		{name: "broken JSON", line: `{"level":"INFO","msg":`},
		{name: "blank", line: `   `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, ok := parseRecord([]byte(tc.line))
			if ok != tc.ok {
				t.Fatalf("parseRecord(%q) ok = %v; want %v", tc.line, ok, tc.ok)
			}
			if !ok {
				return
			}
			if rec.Level != tc.level || rec.Msg != tc.msg || rec.Time.IsZero() {
				t.Errorf("record %+v; want level %v, msg %q, a time", rec, tc.level, tc.msg)
			}
			var keys []string
			for _, a := range rec.Attrs {
				keys = append(keys, a.Key)
			}
			if len(keys) != len(tc.keys) {
				t.Fatalf("attributes %v; want %v", keys, tc.keys)
			}
			for i := range keys {
				if keys[i] != tc.keys[i] {
					t.Errorf("attributes %v; want %v", keys, tc.keys)
				}
			}
		})
	}
	rec, _ := parseRecord([]byte(`{"time":"2026-01-02T03:04:05Z","level":"INFO","msg":"m"}`))
	if want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC); !rec.Time.Equal(want) {
		t.Errorf("time %v; want %v", rec.Time, want)
	}
}
