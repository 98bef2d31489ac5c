package supervisor

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay"
)

func TestParseReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		line    string
		ok      bool
		wantErr bool
		state   string
	}{
		{name: "blank", line: "  \t", ok: false},
		{name: "idle", line: `{"state":"idle","worker":"w1","lastFetch":5}`, ok: true, state: empplay.StateIdle},
		{name: "busy with spaces around", line: `  {"state":"busy","job":"j"}  `, ok: true, state: empplay.StateBusy},
		{name: "no state", line: `{"worker":"w1"}`, ok: true, wantErr: true},
		{name: "not JSON", line: `panic: oops`, ok: true, wantErr: true},
		{name: "wrong type", line: `{"state":1}`, ok: true, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, ok, err := parseReport([]byte(tc.line))
			if ok != tc.ok || (err != nil) != tc.wantErr || (err == nil && r.State != tc.state) {
				t.Errorf("parseReport(%q) = %+v, %v, %v; want state %q, ok %v, error %v", tc.line, r, ok, err, tc.state, tc.ok, tc.wantErr)
			}
		})
	}
}

func TestReportFD(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v       string
		wantNil bool
		wantErr bool
	}{
		{v: "", wantNil: true},
		{v: "x", wantNil: true, wantErr: true},
		{v: "2", wantNil: true, wantErr: true},
		{v: "-1", wantNil: true, wantErr: true},
	} {
		f, err := ReportFD(tc.v)
		if (f == nil) != tc.wantNil || (err != nil) != tc.wantErr {
			t.Errorf("ReportFD(%q) = %v, %v; want nil file %v, error %v", tc.v, f, err, tc.wantNil, tc.wantErr)
		}
		if err != nil && empplay.ExitCode(err) != empplay.ExitConfig {
			t.Errorf("ReportFD(%q): exit code %d; want ExitConfig", tc.v, empplay.ExitCode(err))
		}
	}

	// A descriptor of our own, as a child inherits fd 3.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fd, err := syscall.Dup(int(w.Fd()))
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReportFD(strconv.Itoa(fd))
	if err != nil || f == nil {
		t.Fatalf("ReportFD(%d) = %v, %v", fd, f, err)
	}
	if _, err := f.WriteString("x\n"); err != nil {
		t.Fatalf("write to the report descriptor: %v", err)
	}
	f.Close()
	if b, _ := io.ReadAll(r); string(b) != "x\n" {
		t.Errorf("read %q through the pipe; want x", b)
	}
}

// TestReporter drives a Reporter with short intervals and reads what a
// supervisor would: the first report at once, the periodic ones, one per
// finished job and browser restart, and the last "stopping" one.
func TestReporter(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	events := make(chan empplay.JobEvent)
	restarts := make(chan string)
	var mu sync.Mutex
	status := JobStatus{LastFetch: time.UnixMilli(1000)}
	measured := 0
	rep := &Reporter{
		Out: pw, Worker: "w1",
		Status:     func() JobStatus { mu.Lock(); defer mu.Unlock(); return status },
		BrowserPID: func() int { return 42 },
		Events:     events, Restarts: restarts,
		Fill:        func(r *empplay.Report) { r.Backend = "cpu" },
		Every:       20 * time.Millisecond,
		MemoryEvery: time.Hour,
		Memory:      func(pid int) int64 { measured++; return int64(pid) * 100 },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rep.Run(ctx)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	next := func() empplay.Report {
		t.Helper()
		if !sc.Scan() {
			t.Fatalf("no report: %v", sc.Err())
		}
		var r empplay.Report
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("report %q: %v", sc.Text(), err)
		}
		return r
	}

	r := next()
	if r.State != empplay.StateIdle || r.Worker != "w1" || r.BrowserPID != 42 || r.RSS != 4200 || r.LastFetch != 1000 || r.Backend != "cpu" {
		t.Errorf("first report %+v", r)
	}
	mu.Lock()
	status.Job, status.Deadline = "j1", time.UnixMilli(9000)
	mu.Unlock()
	for r = next(); r.State != empplay.StateBusy; r = next() {
	}
	if r.Job != "j1" || r.JobDeadline != 9000 {
		t.Errorf("busy report %+v", r)
	}
	events <- empplay.JobEvent{Type: "p5", Outcome: "success"}
	for r = next(); r.Done == nil; r = next() {
	}
	if r.Done.Outcome != "success" {
		t.Errorf("job report %+v", r)
	}
	restarts <- "recycled"
	for r = next(); r.BrowserRestart == ""; r = next() {
	}
	if r.BrowserRestart != "recycled" {
		t.Errorf("restart report %+v", r)
	}
	cancel()
	for r = next(); r.State != empplay.StateStopping; r = next() {
	}
	<-done
	if sc.Scan() {
		t.Errorf("a report after stopping: %s", sc.Text())
	}
	if measured != 1 {
		t.Errorf("memory measured %d times within MemoryEvery; want once", measured)
	}
}
