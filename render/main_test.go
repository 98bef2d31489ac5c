package render

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/empplay/empplay/assets"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
)

var debugLogs = flag.Bool("render.debug", false, "log the renderer (and chromedp) at Debug level to stderr")

// testRoot holds the profile directories of every browser the tests start,
// so that TestMain can check nothing is left behind.
var testRoot string

var shared struct {
	once sync.Once
	b    *Browser
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "empplay-render-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testRoot = dir
	code := m.Run()
	if shared.b != nil {
		if err := shared.b.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close the shared browser:", err)
			code = 1
		}
	}
	if pids := proc.Naming(dir); len(pids) > 0 {
		fmt.Fprintf(os.Stderr, "processes still use %s after the tests: %v\n", dir, pids)
		code = 1
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		fmt.Fprintf(os.Stderr, "profile directories left in %s: %d\n", dir, len(ents))
		code = 1
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func testLogger() *slog.Logger {
	if *debugLogs {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newTestBrowser starts a browser of the test's own, closed at the end of
// the test.
func newTestBrowser(t testing.TB, opts Options) *Browser {
	t.Helper()
	opts.ChromiumPath = testenv.ChromiumPath(t)
	opts.ProfileDir = testRoot
	b := New(opts, assets.Embedded(), testLogger())
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return b
}

// sharedBrowser is the one browser most tests use, started once and closed
// by TestMain. It is never restarted for the number of jobs it served
// (RecycleAfter is out of reach): the suite runs a few hundred jobs in it,
// and a restart at job 200 would land in whichever test ran that job,
// moving from test to test as tests are added, where a short deadline or
// a check of the browser's pid would then fail for a reason that is not
// the test's. Recycling has tests of its own, with browsers of their own.
func sharedBrowser(t testing.TB) *Browser {
	t.Helper()
	path := testenv.ChromiumPath(t)
	shared.once.Do(func() {
		shared.b = New(Options{ChromiumPath: path, ProfileDir: testRoot, RecycleAfter: math.MaxInt32}, assets.Embedded(), testLogger())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shared.err = shared.b.Start(ctx)
	})
	if shared.err != nil {
		t.Fatalf("start the shared browser: %v", shared.err)
	}
	return shared.b
}

// isHeadlessShell reports whether path is Chromium's headless shell rather
// than the full browser.
func isHeadlessShell(path string) bool {
	return strings.Contains(filepath.Base(path), "headless-shell")
}
