//go:build linux

package supervisor

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
)

// The test binary doubles as the supervised worker, as in os/exec's own
// tests: with EMPPLAY_FAKE_CHILD set, TestMain runs a fake child instead of
// the tests.
const (
	envFakeMode    = "EMPPLAY_FAKE_CHILD"   // the fake child's mode
	envFakeProfile = "EMPPLAY_FAKE_PROFILE" // Slot.ProfileDir
	envFakeWorker  = "EMPPLAY_FAKE_WORKER"  // Slot.WorkerID, sent in reports
	envFakePIDFile = "EMPPLAY_FAKE_PIDFILE" // where grandchild writes its children's pids
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envFakeMode); mode != "" {
		os.Exit(fakeChild(mode))
	}
	// Panic on a started exec.Cmd that is never waited for, as os/exec's
	// tests do; fake children inherit it harmlessly.
	godebug := os.Getenv("GODEBUG")
	if godebug != "" {
		godebug += ","
	}
	if err := os.Setenv("GODEBUG", godebug+"execwait=2"); err != nil {
		fmt.Fprintln(os.Stderr, "set GODEBUG:", err)
		os.Exit(1)
	}
	// Race-enabled fake children would otherwise sleep 1s at exit.
	gorace := os.Getenv("GORACE")
	if gorace != "" {
		gorace += " "
	}
	if err := os.Setenv("GORACE", gorace+"atexit_sleep_ms=0"); err != nil {
		fmt.Fprintln(os.Stderr, "set GORACE:", err)
		os.Exit(1)
	}
	code := m.Run()
	// Run the finalizers that GODEBUG=execwait=2 installs.
	runtime.GC()
	runtime.GC()
	os.Exit(code)
}

// fakeChild runs a fake worker and returns its exit code. Modes:
//
//	ok           report idle every 100ms; exit 0 on SIGTERM
//	log          write a slog JSON line, plain lines and a garbage report, then ok
//	crash        exit 1 after 50ms
//	config       exit 78 (empplay.ExitConfig)
//	panic        panic, as a Go program with a bug does (exit 2), then ok
//	             from its second start on
//	ignore-term  on SIGTERM report "stopping" once, then keep reporting idle
//	grandchild   start two `hang` children naming the profile dir (one in
//	             the process group, one in a session of its own), write
//	             their pids to EMPPLAY_FAKE_PIDFILE, exit 1
//	hang         sleep
//	supervise    run a Supervisor of one ok child, write the child's pid
//	             to EMPPLAY_FAKE_PIDFILE, and run until killed
//	silent       never report
//	stall        report idle once, then nothing
//	wedged       report idle with a LastFetch an hour old
//	overrun      report busy with a JobDeadline an hour past
func fakeChild(mode string) int {
	switch mode {
	case "hang":
		time.Sleep(time.Hour) // the behaviour: a grandchild that outlives its parent

		return 0
	case "supervise":
		return fakeSupervisor()
	}
	if fd := os.Getenv(ReportFDEnv); fd != "3" {
		fmt.Fprintf(os.Stderr, "%s=%q; want 3\n", ReportFDEnv, fd)
		return 7
	}
	reports := os.NewFile(3, "reports")
	worker := os.Getenv(envFakeWorker)
	report := func(r empplay.Report) {
		r.Worker = worker
		b, _ := json.Marshal(r)
		_, _ = reports.Write(append(b, '\n'))
	}
	idle := func() empplay.Report {
		return empplay.Report{State: "idle", LastFetch: time.Now().UnixMilli()}
	}
	every := func(r func() empplay.Report) int {
		for {
			report(r())
			time.Sleep(100 * time.Millisecond) // the fake worker's report cadence
		}
	}
	hour := time.Now().Add(-time.Hour).UnixMilli()

	switch mode {
	case "ok":
		return reportUntilTerm(report, idle)
	case "log":
		logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
		logger.Warn("fake child json line", "answer", 42, slog.Group("req", "id", "r1"), "slot", 99)
		fmt.Fprintln(os.Stderr, "fake child plain line")
		fmt.Fprintln(os.Stdout, "fake child stdout line")
		_, _ = reports.WriteString("this is not json\n{\"no\":\"state\"}\n")
		return reportUntilTerm(report, idle)
	case "crash":
		time.Sleep(50 * time.Millisecond) // the behaviour: a worker that runs briefly, then fails
		return 1
	case "config":
		fmt.Fprintln(os.Stderr, "fake configuration error")
		return empplay.ExitConfig
	case "panic":
		panic("fake worker bug")
	case "ignore-term":
		// Ignore SIGTERM, but say it arrived, so that a test can wait for
		// the graceful stop to have begun.
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		go func() {
			<-term
			report(empplay.Report{State: empplay.StateStopping})
		}()
		return every(idle)
	case "grandchild":
		return spawnGrandchildren()
	case "silent":
		time.Sleep(time.Hour) // the behaviour: a worker that never reports
		return 0
	case "stall":
		report(idle())
		time.Sleep(time.Hour) // the behaviour: a worker that stops reporting
		return 0
	case "wedged":
		return every(func() empplay.Report { return empplay.Report{State: "idle", LastFetch: hour} })
	case "overrun":
		return every(func() empplay.Report {
			return empplay.Report{State: "busy", Job: "job-1", JobDeadline: hour, LastFetch: time.Now().UnixMilli()}
		})
	default:
		fmt.Fprintf(os.Stderr, "unknown fake child mode %q\n", mode)
		return 8
	}
}

func reportUntilTerm(report func(empplay.Report), r func() empplay.Report) int {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		report(r())
		select {
		case <-term:
			report(empplay.Report{State: "stopping"})
			return 0
		case <-tick.C:
		}
	}
}

func spawnGrandchildren() int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 9
	}
	var pids []string
	for _, escape := range []bool{false, true} {
		cmd := exec.Command(exe, "--user-data-dir="+os.Getenv(envFakeProfile))
		cmd.Env = append(os.Environ(), envFakeMode+"=hang")
		if escape {
			// Like Chromium can: leave the process group, and hold the
			// worker's output open.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			cmd.Stderr = os.Stderr
		}
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 9
		}
		pids = append(pids, strconv.Itoa(cmd.Process.Pid))
	}
	if err := os.WriteFile(os.Getenv(envFakePIDFile), []byte(strings.Join(pids, "\n")), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 9
	}
	return 1
}

func fakeSupervisor() int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 9
	}
	sup := New(Config{
		Logger:      slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Slots:       1,
		ProfileRoot: os.Getenv(envFakeProfile),
		Command: func(Slot) *exec.Cmd {
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), envFakeMode+"=ok")
			return cmd
		},
	})
	go func() {
		var st []SlotStatus
		testenv.Poll(time.Hour, 10*time.Millisecond, func() bool { st = sup.Status(); return st[0].Ready })
		// Retire OS threads, as the runtime does with those of locked
		// goroutines that exit: the thread that forked the worker must not
		// be one of them.
		for range 20 {
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					runtime.LockOSThread()
					// Hold the thread so the 8 run on threads of their own.
					time.Sleep(time.Millisecond)
				})
			}
			wg.Wait()
		}
		_ = os.WriteFile(os.Getenv(envFakePIDFile), []byte(strconv.Itoa(st[0].PID)), 0o600)
	}()
	if err := sup.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
