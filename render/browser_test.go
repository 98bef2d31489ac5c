package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
)

func TestChromiumSwitches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		extra   []string
		sandbox bool
		heapMiB int64
		want    []string // in the output
		notWant []string
		wantErr bool
	}{
		{
			name: "base without the sandbox", sandbox: false,
			want: []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-extensions", "--hide-scrollbars", "--mute-audio", "--force-color-profile=srgb",
				"--host-resolver-rules=MAP * ~NOTFOUND", "--webrtc-ip-handling-policy=disable_non_proxied_udp",
				"--force-webrtc-ip-handling-policy=disable_non_proxied_udp", "--site-per-process",
				"--font-render-hinting=slight", "--accept-lang=en-US,en", "--enable-automation",
				"--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"},
		},
		{name: "sandbox on", sandbox: true, notWant: []string{"--no-sandbox"}},
		{name: "V8 heap limit", sandbox: true, heapMiB: 768, want: []string{"--js-flags=--max-old-space-size=768"}},
		// Switches that hold lists add to empplay's, so that an operator's
		// flag does not silently drop a feature empplay turns off, the
		// heap limit, or the rule that no other name resolves.
		{name: "extra js-flags add to the heap limit", heapMiB: 768, extra: []string{"--js-flags=--expose-gc"},
			want: []string{"--js-flags=--max-old-space-size=768 --expose-gc"}},
		{name: "extra disabled features add to empplay's", extra: []string{"--disable-features=Translate,ScriptStreaming"},
			want: []string{"--disable-features=LocalNetworkAccessChecks,BackForwardCache,ScriptStreaming,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,StorageBuckets,Fledge,AdInterestGroupAPI,Translate"}},
		{name: "extra resolver rules come before the last", extra: []string{"--host-resolver-rules=MAP assets.test 127.0.0.1:9, MAP * ~NOTFOUND", "--host-resolver-rules=MAP cdn.test 127.0.0.1:8"},
			want: []string{"--host-resolver-rules=MAP assets.test 127.0.0.1:9, MAP cdn.test 127.0.0.1:8, MAP * ~NOTFOUND"}},
		{
			name: "extra flags add and override", extra: []string{"--use-angle=gl-egl", "--force-color-profile=display-p3", "--enable-unsafe-swiftshader"},
			want:    []string{"--use-angle=gl-egl", "--force-color-profile=display-p3", "--enable-unsafe-swiftshader"},
			notWant: []string{"--force-color-profile=srgb"},
		},
		{name: "bad extra flag", extra: []string{"disable-gpu"}, wantErr: true},
		{name: "empty extra flag", extra: []string{"--"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			list, err := chromiumSwitches("", tc.extra, tc.sandbox, tc.heapMiB)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error for %q", tc.extra)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := args(list)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("%q missing from %q", w, got)
				}
			}
			for _, w := range tc.notWant {
				if slices.Contains(got, w) {
					t.Errorf("%q present in %q", w, got)
				}
			}
			seen := map[string]bool{}
			for _, s := range list {
				if seen[s.name] {
					t.Errorf("switch %q twice", s.name)
				}
				seen[s.name] = true
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	b := New(Options{DefaultTimeout: 10 * time.Second}, nil, nil)
	long, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	short, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	for _, tc := range []struct {
		name      string
		ctx       context.Context
		timeoutMs int
		want      time.Duration
	}{
		{"default", context.Background(), 0, 10 * time.Second},
		{"later ctx deadline", long, 0, 10 * time.Second},
		{"job timeout", long, 3000, 3 * time.Second},
		{"job timeout over the default", long, 60000, 10 * time.Second},
		{"earlier ctx deadline", short, 5000, 2 * time.Second},
	} {
		got := time.Until(b.deadline(tc.ctx, &empplay.Job{TimeoutMs: tc.timeoutMs}))
		if got > tc.want || got < tc.want-time.Second {
			t.Errorf("%s: deadline in %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNewPage(t *testing.T) {
	t.Parallel()
	j := job("function setup() {}", 10, 20)
	j.P5Version = "2"
	j.Context = &empplay.SketchContext{
		Hash:      "</script><script>alert(1)</script>",
		Variables: []byte(`{"s":"</script>"}`),
	}
	pg, err := newPage(j, []byte("/* p5 */"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(pg.resources[pg.path].body)
	if n := strings.Count(doc, "</script>"); n != 4 {
		t.Errorf("the document has %d </script> tags, want 4 (p5, prelude, job, sketch):\n%s", n, doc)
	}
	for _, want := range []string{`<meta charset="utf-8">`, `src="https://p5.empplay.invalid/p5@2.min.js" crossorigin="anonymous"`, `src="` + jobPath + `"`, `src="` + sketchPath + `"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks %s", want)
		}
	}
	order := []string{"p5@2.min.js", "window.empplay", `src="` + jobPath, `src="` + sketchPath}
	for i := 1; i < len(order); i++ {
		if strings.Index(doc, order[i-1]) > strings.Index(doc, order[i]) {
			t.Errorf("want p5, then the prelude, then job.js, then the sketch")
		}
	}
	// The document is the shell every p5 2.x job shares; the job's
	// settings are in job.js.
	if shell := string(warmPage("2", nil).resources[docPath].body); shell != doc {
		t.Errorf("the job's document is not the shell page")
	}
	start := string(pg.resources[jobPath].body)
	for _, want := range []string{startName, `"width":10`, `"height":20`, `"url":"/?fxcontext=capture`} {
		if !strings.Contains(start, want) {
			t.Errorf("job.js lacks %s:\n%s", want, start)
		}
	}
	if got := string(pg.resources[sketchPath].body); got != j.Code {
		t.Errorf("sketch.js = %q", got)
	}
	if got := string(pg.resources[p5URL("2")].body); got != "/* p5 */" {
		t.Errorf("p5 = %q", got)
	}

	j.Context.Variables = []byte(`{not json`)
	if _, err := newPage(j, nil); empplay.ErrorCode(err) != empplay.CodeInvalidField {
		t.Errorf("invalid variables: error %v, want %s", err, empplay.CodeInvalidField)
	}
}

// groupOf returns the process group of pid.
func groupOf(t *testing.T, pid int) int {
	t.Helper()
	g, err := syscall.Getpgid(pid)
	if err != nil {
		t.Fatalf("getpgid %d: %v", pid, err)
	}
	return g
}

func cmdline(t *testing.T, pid int) []string {
	t.Helper()
	args, ok := proc.Cmdline(pid)
	if !ok {
		t.Fatalf("no command line for pid %d", pid)
	}
	return args
}

func TestBrowserProcesses(t *testing.T) {
	b := newTestBrowser(t, Options{ExtraFlags: []string{"--lang=en-US"}})
	pid, dir := b.PID(), b.ProfileDir()
	if pid <= 0 || filepath.Dir(dir) != testRoot {
		t.Fatalf("PID %d, ProfileDir %q; want a pid and a directory in %s", pid, dir, testRoot)
	}
	if groupOf(t, pid) != pid {
		t.Errorf("chromium %d is not the leader of its own process group", pid)
	}
	args := cmdline(t, pid)
	// One name resolves, to the asset server; every other name to nothing.
	rules := fmt.Sprintf("--host-resolver-rules=MAP %s 127.0.0.1:%d, MAP * ~NOTFOUND", assetHost, b.assets.port())
	for _, want := range []string{"--headless=new", "--site-per-process", "--font-render-hinting=slight", "--force-webrtc-ip-handling-policy=disable_non_proxied_udp", "--disable-gpu", rules, "--disable-features=LocalNetworkAccessChecks,BackForwardCache,ScriptStreaming,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,StorageBuckets,Fledge,AdInterestGroupAPI",
		"--user-data-dir=" + dir, "--lang=en-US", "--remote-debugging-pipe=cbor"} {
		if !slices.Contains(args, want) {
			t.Errorf("chromium runs without %s: %q", want, args)
		}
	}
	if (os.Geteuid() == 0) != slices.Contains(args, "--no-sandbox") {
		t.Errorf("--no-sandbox must be there exactly when running as root: %q", args)
	}
	// Render something, so that renderer and GPU processes exist too.
	if _, err := render(t, b, flatJob("function setup() { createCanvas(10, 10, WEBGL); }", 10, 10)); err != nil {
		t.Fatal(err)
	}
	procs := proc.Naming(dir)
	if len(procs) < 2 {
		t.Errorf("only %d processes use the profile directory", len(procs))
	}
	crashpad := 0
	for _, p := range procs {
		args := cmdline(t, p)
		if strings.HasSuffix(args[0], "chrome_crashpad_handler") {
			// Crashpad daemonizes out of the group; it finds its way into
			// the profile directory through XDG_CONFIG_HOME.
			crashpad++
			continue
		}
		if g, err := syscall.Getpgid(p); err == nil && g != pid {
			t.Errorf("process %d (%q) is in group %d, not chromium's %d", p, args[0], g, pid)
		}
	}
	t.Logf("%d processes use the profile directory, %d of them crashpad handlers", len(procs), crashpad)
	// The full browser's singleton socket lives outside the profile, in
	// $TMPDIR; the headless shell has none.
	sock, err := os.Readlink(filepath.Join(dir, "SingletonSocket"))
	if shell := isHeadlessShell(b.opts.ChromiumPath); shell != (err != nil) {
		t.Fatalf("SingletonSocket link in the profile: %q, %v; headless shell %v", sock, err, shell)
	}

	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if sock != "" {
		if _, err := os.Stat(filepath.Dir(sock)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Chromium's socket directory %s still there after Close: %v", filepath.Dir(sock), err)
		}
	}
	if left := proc.Naming(dir); len(left) > 0 {
		t.Errorf("processes left after Close: %v", left)
	}
	for _, p := range proc.InGroup(pid) {
		// A zombie holds nothing; its new parent reaps it.
		if proc.Alive(p.PID) {
			t.Errorf("process %d left in chromium's group %d after Close", p.PID, pid)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("profile directory %s still there after Close: %v", dir, err)
	}
	if b.PID() != 0 || b.ProfileDir() != "" {
		t.Errorf("after Close: PID %d, ProfileDir %q", b.PID(), b.ProfileDir())
	}
	if !errors.Is(b.Healthy(context.Background()), ErrNotRunning) {
		t.Errorf("Healthy after Close did not report ErrNotRunning")
	}
	if _, err := render(t, b, job("function setup() {}", 10, 10)); !errors.Is(err, ErrClosed) {
		t.Errorf("Render after Close: %v, want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestBrowserRecycle(t *testing.T) {
	b := newTestBrowser(t, Options{RecycleAfter: 2})
	ok := flatJob("function setup() { createCanvas(10, 10); background(0, 255, 0); }", 10, 10)
	var pids []int
	var dirs []string
	for range 5 {
		// The recycle happens in the background after a job.
		if err := b.settle(context.Background()); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, b.PID())
		dirs = append(dirs, b.ProfileDir())
		_, img := mustRender(t, b, ok)
		checkPixels(t, img, []px{{5, 5, green}})
	}
	// Jobs 1-2 on the first browser, 3-4 on the second, 5 on the third.
	if pids[0] != pids[1] || pids[1] == pids[2] || pids[2] != pids[3] || pids[3] == pids[4] {
		t.Errorf("pids %v; want a new browser every 2 jobs", pids)
	}
	if dirs[0] == dirs[2] || dirs[2] == dirs[4] {
		t.Errorf("profile directories %v; want a new one per browser", dirs)
	}
	for i := range 2 {
		select {
		case why := <-b.Restarts():
			if why != "recycled" {
				t.Errorf("restart %d reason %q; want recycled", i, why)
			}
		default:
			t.Errorf("restart %d was not reported on Restarts()", i)
		}
	}
	for _, d := range []string{dirs[0], dirs[2]} {
		if left := proc.Naming(d); len(left) > 0 {
			t.Errorf("processes of a recycled browser left: %v", left)
		}
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("profile directory %s of a recycled browser still there", d)
		}
	}
}

func TestBrowserCrash(t *testing.T) {
	b := newTestBrowser(t, Options{})
	pid, dir := b.PID(), b.ProfileDir()
	// The next job's tab is being prepared: let it be, so that the kill
	// below lands in the middle of the job, not before it.
	if err := b.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Kill our own Chromium's process group in the middle of a job.
	timer := time.AfterFunc(700*time.Millisecond, func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
	defer timer.Stop()
	j := job("function setup() { createCanvas(10, 10); }\nfunction draw() { while (true) {} }", 10, 10)
	j.TimeoutMs = 10000
	start := time.Now()
	_, err := render(t, b, j)
	if code := empplay.ErrorCode(err); code != empplay.CodeBrowserError || !empplay.IsRetryable(err) {
		t.Fatalf("error %v (code %s); want a retryable %s", err, code, empplay.CodeBrowserError)
	}
	// Noticed, not timed out (10 s).
	if elapsed := time.Since(start); elapsed > 8*time.Second {
		t.Errorf("took %v to notice the crash", elapsed)
	}
	// The next job starts a new browser.
	_, img := mustRender(t, b, flatJob("function setup() { createCanvas(10, 10); background(0, 255, 0); }", 10, 10))
	checkPixels(t, img, []px{{5, 5, green}})
	if b.PID() == pid || b.PID() == 0 {
		t.Errorf("pid %d after the crash of %d", b.PID(), pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("profile directory %s of the crashed browser still there", dir)
	}
}

func TestBrowserStartFails(t *testing.T) {
	names := func() map[string]bool {
		m := map[string]bool{}
		ents, _ := os.ReadDir(testRoot)
		for _, e := range ents {
			m[e.Name()] = true
		}
		return m
	}
	before := names()
	for _, path := range []string{"/nonexistent/chromium", "/bin/true"} {
		b := New(Options{ChromiumPath: path, ProfileDir: testRoot, StartTimeout: 5 * time.Second}, nil, testLogger())
		if err := b.Start(context.Background()); err == nil {
			t.Errorf("Start with %s succeeded", path)
		}
		_ = b.Close()
	}
	for name := range names() {
		if !before[name] {
			t.Errorf("a failed start left %s behind", name)
		}
	}
	if err := New(Options{}, nil, nil).Start(context.Background()); err == nil || !strings.Contains(err.Error(), "ChromiumPath") {
		t.Errorf("Start without ChromiumPath: %v", err)
	}
}

func TestBrowserCloseDuringRender(t *testing.T) {
	b := newTestBrowser(t, Options{})
	dir := b.ProfileDir()
	time.AfterFunc(500*time.Millisecond, func() { _ = b.Close() })
	j := job("function setup() { while (true) {} }", 10, 10)
	j.TimeoutMs = 20000
	start := time.Now()
	_, err := render(t, b, j)
	if err == nil {
		t.Fatal("Render succeeded")
	}
	// Close waits for background work (the next tab's prewarm) and
	// tries a graceful close for up to 3 s before it kills; the job's
	// own deadline is 20 s.
	if elapsed := time.Since(start); elapsed > 12*time.Second {
		t.Errorf("Render took %v to give up after Close", elapsed)
	}
	t.Logf("Render during Close: %v", err)
	if err := b.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Known issue: under heavy load a few Chromium processes of a browser
	// closed mid-render can outlive Close by a moment; they must be gone
	// shortly after.
	var left []int
	if !testenv.Poll(5*time.Second, 50*time.Millisecond, func() bool { left = proc.Naming(dir); return len(left) == 0 }) {
		t.Errorf("processes left 5s after Close: %v", left)
	}
	if _, err := render(t, b, j); !errors.Is(err, ErrClosed) {
		t.Errorf("Render after Close: %v, want ErrClosed", err)
	}
}

// TestBrowserRecycleOnMemory restarts Chromium once a job's cleanup found
// it using more memory than RecycleMemory (here: any): before the next job
// that starts after that cleanup (one that starts alongside it still runs
// in the old browser, see finish).
func TestBrowserRecycleOnMemory(t *testing.T) {
	b := newTestBrowser(t, Options{RecycleMemory: 1})
	ok := flatJob("function setup() { createCanvas(10, 10); background(0, 255, 0); }", 10, 10)
	first := b.PID()
	mustRender(t, b, ok)
	if err := b.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b.PID() != first {
		t.Errorf("chromium %d was restarted before the next job", first)
	}
	_, img := mustRender(t, b, ok)
	checkPixels(t, img, []px{{5, 5, green}})
	if b.PID() == first {
		t.Errorf("chromium %d was not restarted though it was over its memory limit", first)
	}
	select {
	case reason := <-b.Restarts():
		if reason != "recycled" {
			t.Errorf("restart reason %q, want recycled", reason)
		}
	default:
		t.Error("no restart reported")
	}
}
