package empplay

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
)

func TestErrorfKeepsEveryCause(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		format  string
		args    []any
		msg     string
		is      []error // every one must be found
		isNot   error
		noCause bool
	}{
		{name: "no cause", format: "field %q is bad", args: []any{"x"}, msg: `field "x" is bad`, isNot: io.EOF, noCause: true},
		{name: "%v does not wrap", format: "read: %v", args: []any{io.EOF}, msg: "read: EOF", isNot: io.EOF, noCause: true},
		{name: "one %w", format: "read: %w", args: []any{io.EOF}, msg: "read: EOF", is: []error{io.EOF}, isNot: fs.ErrNotExist},
		{name: "two %w", format: "read: %w, then close: %w", args: []any{io.EOF, fs.ErrNotExist},
			msg: "read: EOF, then close: file does not exist", is: []error{io.EOF, fs.ErrNotExist}, isNot: fs.ErrClosed},
		{name: "three %w", format: "%w; %w; %w", args: []any{io.EOF, fs.ErrNotExist, fs.ErrClosed},
			msg: "EOF; file does not exist; file already closed", is: []error{io.EOF, fs.ErrNotExist, fs.ErrClosed}, isNot: io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Errorf(CodeInternal, tc.format, tc.args...)
			if err.Error() != tc.msg {
				t.Errorf("Error() = %q; want %q", err.Error(), tc.msg)
			}
			if ErrorCode(err) != CodeInternal || IsRetryable(err) {
				t.Errorf("code %q, retryable %v; want %q, permanent", ErrorCode(err), IsRetryable(err), CodeInternal)
			}
			for _, want := range tc.is {
				if !errors.Is(err, want) {
					t.Errorf("errors.Is(err, %v) = false", want)
				}
			}
			if errors.Is(err, tc.isNot) {
				t.Errorf("errors.Is(err, %v) = true", tc.isNot)
			}
			if got := errors.Unwrap(err) == nil; got != tc.noCause {
				t.Errorf("Unwrap() == nil is %v; want %v", got, tc.noCause)
			}
		})
	}
}

func TestErrorfOneCauseIsTheCause(t *testing.T) {
	t.Parallel()
	// With a single %w the cause is kept as it is, not joined.
	var e *Error
	if !errors.As(Errorf(CodeInternal, "x: %w", io.EOF), &e) || e.Err != io.EOF {
		t.Fatalf("Err = %v; want io.EOF itself", e.Err)
	}
}

// A failure whose message is written for the artist keeps what failed
// underneath for the worker's log, and never stores or sends it.
func TestFailedKeepsCauseForTheLog(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.5:6379: connect: connection refused")
	for _, tc := range []struct {
		name      string
		err       error
		msg, keep string
	}{
		{"message and cause", &Error{Code: CodeStorageError, Retryable: true, Msg: "the output could not be kept", Err: cause}, "the output could not be kept", cause.Error()},
		{"cause only", Transient(CodeBrowserError, cause), cause.Error(), ""},
		{"message only", Errorf(CodeSketchError, "sketch error: x"), "sketch error: x", ""},
		{"plain error", cause, cause.Error(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Failed("id", tc.err)
			if r.Error != tc.msg || r.Cause != tc.keep {
				t.Fatalf("Failed: error %q, cause %q; want %q, %q", r.Error, r.Cause, tc.msg, tc.keep)
			}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if tc.keep != "" && strings.Contains(string(b), "10.0.0.5") {
				t.Errorf("the stored result carries the cause: %s", b)
			}
		})
	}
}
