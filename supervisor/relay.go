// This file relays a worker child's output into the supervisor's log:
// slog JSON records keep their level, time and attributes.

package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
)

// readLogs relays the child's output lines until its pipe closes.
func (s *Supervisor) readLogs(slot, pid int, r io.Reader) {
	sc := newLineScanner(r)
	for sc.Scan() {
		s.relay(slot, pid, sc.Bytes())
	}
	if err := sc.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		s.log.Debug("read worker output", "slot", slot, "pid", pid, "err", err)
	}
}

// relay logs one line of a child's output: a slog JSON record keeps its
// level, time, message and attributes; anything else is logged at Info.
// Both get slot and pid attributes.
func (s *Supervisor) relay(slot, pid int, line []byte) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	ctx := context.Background()
	h := s.cfg.Logger.Handler()
	ids := []slog.Attr{slog.Int("slot", slot), slog.Int("pid", pid)}
	if rec, ok := parseRecord(line); ok {
		if !h.Enabled(ctx, rec.Level) {
			return
		}
		r := slog.NewRecord(rec.Time, rec.Level, rec.Msg, 0)
		r.AddAttrs(ids...)
		r.AddAttrs(rec.Attrs...)
		_ = h.Handle(ctx, r) // a handler that cannot write has nowhere to say so
		return
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, string(line), ids...)
}

// record is a parsed slog JSON line.
type record struct {
	Time  time.Time
	Level slog.Level
	Msg   string
	Attrs []slog.Attr
}

// parseRecord parses a line written by slog's JSON handler: an object with
// string "level" and "msg" and, optionally, an RFC 3339 "time". The other
// keys become attributes in their order, nested objects groups; "slot" and
// "pid" are dropped, since relay sets its own.
func parseRecord(line []byte) (record, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' || !json.Valid(line) {
		return record{}, false
	}
	attrs, err := decodeObject(line)
	if err != nil {
		return record{}, false
	}
	rec := record{Time: time.Now()}
	var haveLevel, haveMsg bool
	for _, a := range attrs {
		switch a.Key {
		case slog.TimeKey:
			if a.Value.Kind() == slog.KindString {
				if t, err := time.Parse(time.RFC3339Nano, a.Value.String()); err == nil {
					rec.Time = t
					continue
				}
			}
		case slog.LevelKey:
			if a.Value.Kind() == slog.KindString && rec.Level.UnmarshalText([]byte(a.Value.String())) == nil {
				haveLevel = true
				continue
			}
		case slog.MessageKey:
			if a.Value.Kind() == slog.KindString {
				rec.Msg, haveMsg = a.Value.String(), true
				continue
			}
		case "slot", "pid":
			continue
		}
		rec.Attrs = append(rec.Attrs, a)
	}
	return rec, haveLevel && haveMsg
}

// decodeObject decodes a JSON object into attributes, keeping key order.
func decodeObject(data []byte) ([]slog.Attr, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var attrs []slog.Attr
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key %v is not a string", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		v, err := decodeValue(raw)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, slog.Attr{Key: key, Value: v})
	}
	return attrs, nil
}

// decodeValue turns a JSON value into a slog value: objects become groups,
// integers Int64, other numbers Float64.
func decodeValue(raw json.RawMessage) (slog.Value, error) {
	if len(raw) > 0 && raw[0] == '{' {
		attrs, err := decodeObject(raw)
		if err != nil {
			return slog.Value{}, err
		}
		return slog.GroupValue(attrs...), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return slog.Value{}, err
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return slog.Int64Value(i), nil
		}
		if f, err := n.Float64(); err == nil {
			return slog.Float64Value(f), nil
		}
		return slog.StringValue(n.String()), nil
	}
	return slog.AnyValue(v), nil
}
