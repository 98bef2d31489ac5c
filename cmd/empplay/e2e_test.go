package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

// binary returns the empplay binary under test: EMPPLAY_BIN (set by make
// test), else one built into the test's temp dir. Every test in this
// package runs the binary, so this is where -short skips them.
func binary(t *testing.T) string {
	t.Helper()
	testenv.SkipShort(t, "the built empplay binary")
	if b := os.Getenv("EMPPLAY_BIN"); b != "" {
		return b
	}
	out := filepath.Join(t.TempDir(), "empplay")
	cmd := exec.Command("go", "build", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

type stack struct {
	redis    *testenv.Redis
	azurite  *testenv.Azurite
	rc       rueidis.Client
	producer *queue.Client
	bin      string
	profiles string
	env      []string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	testenv.ChromiumPath(t)
	s := &stack{redis: testenv.StartRedis(t), azurite: testenv.StartAzurite(t), bin: binary(t), profiles: t.TempDir()}
	opt, err := queue.Options(s.redis.URL)
	if err != nil {
		t.Fatal(err)
	}
	if s.rc, err = rueidis.NewClient(opt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.rc.Close)
	s.producer = queue.NewClient(s.rc, "")
	s.env = append(os.Environ(),
		"REDIS_URL="+s.redis.URL,
		"AZURE_STORAGE_CONNECTION_STRING="+s.azurite.ConnStr,
		"CDN_URI="+s.azurite.Endpoint,
		"EMPPLAY_PROFILE_DIR="+s.profiles,
		"LOG_FORMAT=json",
	)
	if p := os.Getenv("EMPPLAY_CHROMIUM"); p != "" {
		s.env = append(s.env, "CHROMIUM_PATH="+p)
	}
	return s
}

// startWorker runs `empplay worker` with extra environment entries.
func (s *stack) startWorker(t *testing.T, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(s.bin, "worker")
	cmd.Env = append(append([]string(nil), s.env...), extra...)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker exited with %v after SIGINT; want 0\n%s", err, tail(logs.String()))
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("worker did not stop within 20s of SIGINT\n%s", tail(logs.String()))
		}
		if pids := proc.Naming(s.profiles); len(pids) > 0 {
			t.Errorf("processes still use the worker's Chromium profile dir after it stopped: %v", pids)
		}
		if t.Failed() {
			t.Logf("worker log:\n%s", tail(logs.String()))
		}
	})
	return cmd
}

// run runs the binary with the stack's environment and returns stdout.
func (s *stack) run(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("empplay %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	return strings.Join(lines, "\n")
}

func (s *stack) submit(t *testing.T, ctx context.Context, raw string) *empplay.Result {
	t.Helper()
	id, err := s.producer.Submit(ctx, []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	res, err := s.producer.Wait(wctx, id)
	if err != nil {
		t.Fatalf("wait for %s: %v", id, err)
	}
	if res.ID != id {
		t.Fatalf("result id %s; want %s", res.ID, id)
	}
	return res
}

func (s *stack) assertQueueEmpty(t *testing.T, ctx context.Context) {
	t.Helper()
	k := queue.NewKeys("")
	n, _ := s.rc.Do(ctx, s.rc.B().Llen().Key(k.Pending).Build()).AsInt64()
	keys, _ := s.rc.Do(ctx, s.rc.B().Keys().Pattern(k.Inflight("*")).Build()).AsStrSlice()
	var inflight int64
	for _, key := range keys {
		m, _ := s.rc.Do(ctx, s.rc.B().Llen().Key(key).Build()).AsInt64()
		inflight += m
	}
	if n != 0 || inflight != 0 {
		t.Errorf("jobs left in Redis lists: %d pending, %d in flight; want none", n, inflight)
	}
}

func job(t *testing.T, fields map[string]any) string {
	t.Helper()
	j := map[string]any{
		"type": "p5", "width": 200, "height": 120, "bucket": "e2e", "prefix": "tests/run", "filename": "out.png",
		"usesWebGL": false, "gpuComplexity": "low",
	}
	for k, v := range fields {
		if v == nil {
			delete(j, k)
		} else {
			j[k] = v
		}
	}
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fetchPNG(t *testing.T, url string) (image.Image, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("Content-Type %q; want image/png", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control %q; want a long max-age", cc)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("decode PNG from %s: %v", url, err)
	}
	return img, body
}

func near(c color.Color, r, g, b uint8) bool {
	cr, cg, cb, _ := c.RGBA()
	d := func(x uint32, y uint8) bool { v := int(x>>8) - int(y); return v > -4 && v < 4 }
	return d(cr, r) && d(cg, g) && d(cb, b)
}

// A pushed job travels LPUSH -> worker -> Chromium -> Azurite -> CDN check
// -> result, and the output has the sketch's pixels.
func TestEndToEnd(t *testing.T) {
	s := newStack(t)
	ctx := testenv.Context(t, 5*time.Minute)
	s.startWorker(t, "BROWSER_TIMEOUT=5000")

	const sketch = `function setup(){ createCanvas(200,120); noLoop(); }
function draw(){ background(255,0,0); noStroke(); fill(0,0,255); rect(100,0,100,120); }`
	t.Run("p5 job renders the sketch's pixels", func(t *testing.T) {
		res := s.submit(t, ctx, job(t, map[string]any{"code": sketch}))
		if !res.Success {
			t.Fatalf("job failed: %s (%s)", res.Error, res.ErrorCode)
		}
		want := s.azurite.Endpoint + "/e2e/tests/run/out.png"
		if res.Src != want || res.MimeType != "image/png" {
			t.Fatalf("src %q mime %q; want %q image/png", res.Src, res.MimeType, want)
		}
		img, body := fetchPNG(t, res.Src)
		if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 120 {
			t.Fatalf("PNG is %v; want 200x120", b)
		}
		if c := img.At(20, 60); !near(c, 255, 0, 0) {
			t.Errorf("left half pixel %v; want red", c)
		}
		if c := img.At(180, 60); !near(c, 0, 0, 255) {
			t.Errorf("right half pixel %v; want blue", c)
		}
		if res.Bytes != int64(len(body)) || res.Timings.RenderMs <= 0 || res.Timings.TotalMs < res.Timings.RenderMs {
			t.Errorf("result bytes/timings inconsistent: %+v", res)
		}
	})

	t.Run("seeded sketch gives identical pixels twice", func(t *testing.T) {
		seeded := `function setup(){ createCanvas(160,160); randomSeed(99); noLoop(); }
function draw(){ background(240); for (let i=0;i<200;i++){ fill(random(255),random(255),random(255)); circle(random(width),random(height),random(5,40)); } }`
		var sums []string
		var imgs []image.Image
		for i := range 2 {
			// A different id per run (same sketch) so the second is rendered, not answered from the first result.
			res := s.submit(t, ctx, job(t, map[string]any{"code": seeded, "id": fmt.Sprintf("seeded-%d-%d", time.Now().UnixNano(), i), "filename": fmt.Sprintf("seeded-%d.png", i), "width": 160, "height": 160}))
			if !res.Success {
				t.Fatalf("run %d failed: %s", i, res.Error)
			}
			img, _ := fetchPNG(t, res.Src)
			imgs = append(imgs, img)
			sums = append(sums, res.SHA256)
		}
		a, b := imgs[0].(*image.NRGBA), imgs[1]
		if a == nil {
			t.Skip("unexpected PNG colour model")
		}
		diff := 0
		for y := 0; y < 160; y++ {
			for x := 0; x < 160; x++ {
				if a.At(x, y) != b.At(x, y) {
					diff++
				}
			}
		}
		if diff != 0 {
			t.Errorf("%d pixels differ between two runs of a seeded sketch", diff)
		}
		if sums[0] != sums[1] {
			t.Errorf("PNG bytes differ (sha256 %s vs %s)", sums[0], sums[1])
		}
	})

	t.Run("same payload twice gets one result", func(t *testing.T) {
		raw := job(t, map[string]any{"code": sketch, "filename": "dup.png"})
		r1 := s.submit(t, ctx, raw)
		r2 := s.submit(t, ctx, raw)
		if !r1.Success || r1.FinishedAt != r2.FinishedAt || r1.Src != r2.Src {
			t.Errorf("duplicate payload got two different results:\n%+v\n%+v", r1, r2)
		}
	})

	big := strings.Repeat("/", empplay.MaxCodeBytes+10)
	for _, tc := range []struct {
		name string
		raw  string
		code empplay.Code
		msg  string
	}{
		{"invalid JSON", `{"type":"p5",`, empplay.CodeInvalidJSON, "JSON"},
		{"unknown type", job(t, map[string]any{"type": "pdf", "code": sketch}), empplay.CodeUnknownType, "pdf"},
		{"missing code", job(t, map[string]any{}), empplay.CodeMissingField, "code"},
		{"wrong-typed width", job(t, map[string]any{"code": sketch, "width": "200"}), empplay.CodeInvalidField, "width"},
		{"height out of range", job(t, map[string]any{"code": sketch, "height": 99999}), empplay.CodeSizeOutOfRange, "height"},
		{"code over the limit", job(t, map[string]any{"code": big}), empplay.CodeCodeTooLarge, "limit"},
		{"container Azure rejects", job(t, map[string]any{"code": sketch, "bucket": "Bad_Bucket"}), empplay.CodeInvalidBucket, "Bad_Bucket"},
		{"prefix with ..", job(t, map[string]any{"code": sketch, "prefix": "../../etc"}), empplay.CodeInvalidPath, ".."},
		{"absolute prefix", job(t, map[string]any{"code": sketch, "prefix": "/abs"}), empplay.CodeInvalidPath, "relative"},
		{"backslash filename", job(t, map[string]any{"code": sketch, "filename": `a\b.png`}), empplay.CodeInvalidPath, "backslash"},
		{"control character", job(t, map[string]any{"code": sketch, "filename": "a\x01.png"}), empplay.CodeInvalidPath, "control"},
		{"sketch throws in setup", job(t, map[string]any{"code": `function setup(){ createCanvas(10,10); throw new Error("kaboom"); }`}), empplay.CodeSketchError, "kaboom"},
		{"sketch never finishes", job(t, map[string]any{"code": `function setup(){ createCanvas(10,10); while(true){} }`}), empplay.CodeRenderTimeout, ""},
	} {
		t.Run("bad input/"+tc.name, func(t *testing.T) {
			start := time.Now()
			res := s.submit(t, ctx, tc.raw)
			if res.Success {
				t.Fatalf("job succeeded; want %s", tc.code)
			}
			if res.ErrorCode != tc.code {
				t.Errorf("errorCode %q (%s); want %q", res.ErrorCode, res.Error, tc.code)
			}
			if res.Error == "" || !strings.Contains(res.Error, tc.msg) {
				t.Errorf("error %q does not mention %q", res.Error, tc.msg)
			}
			if res.Attempts != 1 {
				t.Errorf("attempts %d; bad input must fail at once", res.Attempts)
			}
			t.Logf("%s -> %s in %v", tc.name, res.ErrorCode, time.Since(start).Round(time.Millisecond))
			s.assertQueueEmpty(t, ctx)
		})
	}

	t.Run("worker still serves jobs after all that", func(t *testing.T) {
		res := s.submit(t, ctx, job(t, map[string]any{"code": sketch, "filename": "after.png"}))
		if !res.Success {
			t.Fatalf("job after bad input failed: %s", res.Error)
		}
		s.assertQueueEmpty(t, ctx)

		// The operator's view of the same queue.
		out := s.run(t, "queue", "stats", "--json")
		var st queue.Stats
		if err := json.Unmarshal(out, &st); err != nil {
			t.Fatalf("queue stats --json: %v\n%s", err, out)
		}
		if st.Pending != 0 || st.Dead != 0 || len(st.Workers) != 1 || !st.Workers[0].Registered {
			t.Errorf("queue stats %+v; want an empty queue and one registered worker", st)
		}
		text := string(s.run(t, "queue", "stats"))
		for _, want := range []string{"pending", "dead", "gpu lane", "0 (0 GPU workers)"} {
			if !strings.Contains(text, want) {
				t.Errorf("queue stats text lacks %q:\n%s", want, text)
			}
		}
		out = s.run(t, "queue", "inspect", res.ID, "--json")
		var j queue.Job
		if err := json.Unmarshal(out, &j); err != nil {
			t.Fatalf("queue inspect --json: %v\n%s", err, out)
		}
		if j.Where != "finished" || j.Result == nil || j.Result.Src != res.Src || j.Meta["state"] != "done" {
			t.Errorf("queue inspect %+v; want the finished job with its result", j)
		}
	})
}

// worker --once takes one job, prints its result and exits with the job's
// outcome.
func TestWorkerOnce(t *testing.T) {
	s := newStack(t)
	ctx := testenv.Context(t, 3*time.Minute)
	for _, tc := range []struct {
		name     string
		raw      string
		wantExit int
	}{
		{"success exits 0", job(t, map[string]any{"code": `function setup(){createCanvas(20,20);background(0,255,0);}`, "filename": "once.png", "allowBlank": true}), 0},
		{"failure exits 1", `not json`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.producer.Submit(ctx, []byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(ctx, s.bin, "worker", "--once", "--wait", "60s")
			cmd.Env = s.env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantExit {
				t.Fatalf("exit %d; want %d\n%s", code, tc.wantExit, tail(stderr.String()))
			}
			var res empplay.Result
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("stdout is not a result: %v\n%s", err, stdout.String())
			}
			if res.Success != (tc.wantExit == 0) || res.ID != empplay.IDFor([]byte(tc.raw)) {
				t.Errorf("printed result %+v", res)
			}
		})
	}
	if pids := proc.Naming(s.profiles); len(pids) > 0 {
		t.Errorf("Chromium left running after worker --once: %v", pids)
	}
}

// Configuration errors exit with the reserved code so a supervisor (and
// systemd) never restarts them.
func TestConfigErrorsExitConfig(t *testing.T) {
	bin := binary(t)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		msg  string
	}{
		{"bad log level", []string{"worker"}, []string{"LOG_LEVEL=loud"}, "LOG_LEVEL"},
		{"missing chromium", []string{"worker", "--chromium", "/nonexistent/chromium"}, nil, "CHROMIUM_PATH"},
		{"bad BROWSER_TIMEOUT", []string{"worker"}, []string{"BROWSER_TIMEOUT=soon"}, "BROWSER_TIMEOUT"},
		{"bad BROWSER_ISOLATION", []string{"worker"}, []string{"BROWSER_ISOLATION=none"}, "BROWSER_ISOLATION"},
		{"bad redis url", []string{"submit", "-", "--redis-url", "http://x"}, nil, "REDIS_URL"},
		{"bad CHROMIUM_SANDBOX", []string{"worker"}, []string{"CHROMIUM_SANDBOX=maybe"}, "CHROMIUM_SANDBOX"},
		{"BROWSER_JOB_MEMORY_MB too small", []string{"worker"}, []string{"BROWSER_JOB_MEMORY_MB=10"}, "BROWSER_JOB_MEMORY_MB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Env = append(os.Environ(), tc.env...)
			cmd.Stdin = strings.NewReader(`{}`)
			out, err := cmd.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != empplay.ExitConfig {
				t.Fatalf("exit %v; want %d\n%s", err, empplay.ExitConfig, out)
			}
			if !strings.Contains(string(out), tc.msg) {
				t.Errorf("output does not name %s:\n%s", tc.msg, out)
			}
		})
	}
}

// The artist's tool renders a local sketch with no Redis and no Azure.
func TestRenderCommand(t *testing.T) {
	testenv.ChromiumPath(t)
	bin := binary(t)
	dir := t.TempDir()
	sketch := filepath.Join(dir, "s.js")
	if err := os.WriteFile(sketch, []byte(`function setup(){ createCanvas(90,60); noLoop(); }
function draw(){ background(empplay.hash === "0xabc" ? color(0,255,0) : color(255,0,0)); fill(255); noStroke(); rect(0,0,4,4); }`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		wantExit int
		check    func(t *testing.T, out string, png string)
	}{
		{"renders with the hash", []string{"--width", "90", "--height", "60", "--hash", "0xabc"}, 0, func(t *testing.T, out, png string) {
			b, err := os.ReadFile(png)
			if err != nil {
				t.Fatal(err)
			}
			img, err := pngDecode(b)
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != 90 || img.Bounds().Dy() != 60 || !near(img.At(45, 30), 0, 255, 0) {
				t.Errorf("PNG %v pixel %v; want 90x60 green (the sketch saw the hash)", img.Bounds(), img.At(45, 30))
			}
			if !strings.Contains(out, "90x60 PNG") || !strings.Contains(out, "trigger draw") {
				t.Errorf("summary %q", out)
			}
		}},
		{"p5 2.x", []string{"--width", "90", "--height", "60", "--p5", "2"}, 0, nil},
		{"bad p5 version is a usage error", []string{"--p5", "7"}, empplay.ExitConfig, nil},
		{"missing sketch file", []string{"--width", "10"}, empplay.ExitConfig, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			png := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".png")
			file := sketch
			if tc.name == "missing sketch file" {
				file = filepath.Join(dir, "nope.js")
			}
			cmd := exec.Command(bin, append([]string{"render", file, "-o", png}, tc.args...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != tc.wantExit {
				t.Fatalf("exit %d; want %d\n%s", code, tc.wantExit, stderr.String())
			}
			if tc.check != nil {
				tc.check(t, stdout.String(), png)
			}
		})
	}
}

// The artist's tool takes a whole job file, a context file and
// --capture-frames, and prints the warnings.
func TestRenderCommandJob(t *testing.T) {
	testenv.ChromiumPath(t)
	bin := binary(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Red until frame 5, then the variable's colour; the fetch is blocked.
	const code = `function setup() { createCanvas(30, 20); fetch("https://example.com/x").then(function () {}); }
function draw() { background(frameCount < 5 ? "#ff0000" : getVariable("color")); }`
	sketch := write("s.js", code)
	ctxFile := write("ctx.json", `{"hash":"0xabc","variables":{"color":"#00ff00"}}`)
	jobBody, _ := json.Marshal(map[string]any{"type": "p5", "code": code, "captureFrames": 5,
		"context": map[string]any{"variables": map[string]any{"color": "#0000ff"}}})
	jobFile := write("job.json", string(jobBody))
	for _, tc := range []struct {
		name    string
		args    []string
		r, g, b uint8
	}{
		{"sketch with --context and --capture-frames", []string{sketch, "--context", ctxFile, "--capture-frames", "5"}, 0, 255, 0},
		{"job file", []string{jobFile}, 0, 0, 255},
		{"--job with a flag on top", []string{"--job", jobFile, "--capture-frames", "1"}, 255, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			png := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".png")
			out, err := exec.Command(bin, append([]string{"render", "-o", png}, tc.args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			b, err := os.ReadFile(png)
			if err != nil {
				t.Fatal(err)
			}
			img, err := pngDecode(b)
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != 30 || img.Bounds().Dy() != 20 || !near(img.At(15, 10), tc.r, tc.g, tc.b) {
				t.Errorf("PNG %v pixel %v; want 30x20 (%d,%d,%d)", img.Bounds(), img.At(15, 10), tc.r, tc.g, tc.b)
			}
			if !strings.Contains(string(out), "one colour throughout") {
				t.Errorf("summary does not say the picture is one colour:\n%s", out)
			}
		})
	}
}

func pngDecode(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
