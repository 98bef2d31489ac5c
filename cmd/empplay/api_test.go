package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/schematest"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/storage"
)

const apiToken = "test-token-123"

// apiCall posts body to the supervisor's path with token and returns the
// status and the body.
func apiCall(t *testing.T, r *superviseRun, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		in = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+r.addr+path, in)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// apiData decodes a {data} answer.
func apiData(t *testing.T, status int, body []byte) []byte {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d; want 200: %s", status, body)
	}
	var d struct{ Data string }
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	b, err := base64.StdEncoding.DecodeString(d.Data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const apiSketch = `const hash = "0xabc"; const variables = {}; function getVariable(n) { return variables[n]; }
function setup() { createCanvas(512, 512); noLoop(); }
function draw() { background(255, 0, 0); noStroke(); fill(0, 0, 255); rect(256, 256, 256, 256); }`

// TestAPICompatible runs the platform's three calls, the native API, the
// status mapping and the token through a supervisor and its real worker.
func TestAPICompatible(t *testing.T) {
	s := newStack(t)
	sup := s.startSupervisor(t, 1, "API_TOKEN="+apiToken, "BROWSER_TIMEOUT=4000")
	sup.waitReady(t, 1, 60*time.Second)

	t.Run("token", func(t *testing.T) {
		for _, tok := range []string{"", "wrong"} {
			if st, body := apiCall(t, sup, "POST", "/api/screenshot", tok, map[string]string{"code": apiSketch}); st != http.StatusUnauthorized {
				t.Errorf("token %q: status %d; want 401: %s", tok, st, body)
			}
		}
	})
	t.Run("screenshot", func(t *testing.T) {
		st, body := apiCall(t, sup, "POST", "/api/screenshot", apiToken, map[string]string{"code": apiSketch})
		img, err := png.Decode(bytes.NewReader(apiData(t, st, body)))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
			t.Fatalf("picture %v; want 512x512", b)
		}
		for _, p := range []struct {
			x, y    int
			r, g, b uint32
		}{{10, 10, 255, 0, 0}, {400, 400, 0, 0, 255}, {255, 300, 255, 0, 0}, {300, 255, 255, 0, 0}} {
			r, g, b, _ := img.At(p.x, p.y).RGBA()
			if r>>8 != p.r || g>>8 != p.g || b>>8 != p.b {
				t.Errorf("pixel (%d,%d) is %d,%d,%d; want %d,%d,%d", p.x, p.y, r>>8, g>>8, b>>8, p.r, p.g, p.b)
			}
		}
	})
	t.Run("video", func(t *testing.T) {
		code := `function setup() { createCanvas(256, 256); } function draw() { background(frameCount % 255); }`
		st, body := apiCall(t, sup, "POST", "/api/video", apiToken, map[string]any{"id": "0x" + strings.Repeat("ab", 32), "code": code, "duration": 1000})
		f := filepath.Join(t.TempDir(), "v.mp4")
		if err := os.WriteFile(f, apiData(t, st, body), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
			"-show_entries", "stream=codec_name,nb_read_frames:format=duration,format_name", "-of", "json", f).Output()
		if err != nil {
			t.Fatalf("ffprobe: %v", err)
		}
		var p struct {
			Streams []struct {
				CodecName    string `json:"codec_name"`
				NbReadFrames string `json:"nb_read_frames"`
			}
			Format struct {
				Duration   string
				FormatName string `json:"format_name"`
			}
		}
		if err := json.Unmarshal(out, &p); err != nil || len(p.Streams) != 1 {
			t.Fatalf("ffprobe output %s: %v", out, err)
		}
		d, _ := strconv.ParseFloat(p.Format.Duration, 64)
		if p.Streams[0].CodecName != "h264" || !strings.Contains(p.Format.FormatName, "mp4") || d < 0.9 || d > 1.1 || p.Streams[0].NbReadFrames != "30" {
			t.Errorf("video: %s; want 30 frames of h264 in mp4, about 1 s", out)
		}
	})
	t.Run("execute", func(t *testing.T) {
		blob, err := storage.New(storage.Config{ConnectionString: s.azurite.ConnStr}, nil)
		if err != nil {
			t.Fatal(err)
		}
		page := `<!doctype html><html><body style="margin:0;background:rgb(0,255,0)"></body></html>`
		ctx := testenv.Context(t, 30*time.Second)
		if err := blob.Upload(ctx, "pages", "gen/page.html", []byte(page), "text/html"); err != nil {
			t.Fatal(err)
		}
		st, body := apiCall(t, sup, "POST", "/api/v2/execute", apiToken, map[string]any{
			"file": s.azurite.Endpoint + "/pages/gen/page.html", "width": 300, "height": 200, "output": "image/png"})
		img, err := png.Decode(bytes.NewReader(apiData(t, st, body)))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 300 || b.Dy() != 200 {
			t.Errorf("picture %v; want 300x200", b)
		}
		if r, g, b, _ := img.At(150, 100).RGBA(); r>>8 != 0 || g>>8 != 255 || b>>8 != 0 {
			t.Errorf("pixel %d,%d,%d; want green", r>>8, g>>8, b>>8)
		}
		st, body = apiCall(t, sup, "POST", "/api/v2/execute", apiToken, map[string]any{"file": "http://127.0.0.1:1/x.html", "output": "image/png"})
		if st != http.StatusBadRequest || !strings.Contains(string(body), "not allowed") {
			t.Errorf("page on another origin: %d %s; want 400 not allowed", st, body)
		}
	})
	t.Run("status mapping", func(t *testing.T) {
		for _, c := range []struct {
			name, code string
			want       int
			errCode    string
		}{
			{"bad job", "", http.StatusBadRequest, "missing_field"},
			{"sketch error", "function setup() { createCanvas(10, 10); undefinedThing(); }", http.StatusUnprocessableEntity, "sketch_error"},
			{"timeout", "function setup() { createCanvas(10, 10); while (true) {} }", http.StatusGatewayTimeout, "render_timeout"},
		} {
			st, body := apiCall(t, sup, "POST", "/api/screenshot", apiToken, map[string]string{"code": c.code})
			var e struct{ ErrorCode, Message string }
			_ = json.Unmarshal(body, &e)
			if st != c.want || e.ErrorCode != c.errCode || e.Message == "" {
				t.Errorf("%s: %d %s; want %d with errorCode %s and a message", c.name, st, body, c.want, c.errCode)
			}
		}
		if st, body := apiCall(t, sup, "POST", "/api/screenshot", apiToken, "not an object"); st != http.StatusBadRequest {
			t.Errorf("body not an object: %d %s; want 400", st, body)
		}
	})
	t.Run("native", func(t *testing.T) {
		j := map[string]any{"type": "p5", "code": apiSketch, "width": 600, "height": 600, "bucket": "inline", "filename": "n.png", "inline": true}
		st, body := apiCall(t, sup, "POST", "/v1/jobs", apiToken, j)
		var acc struct{ ID, Status string }
		if err := json.Unmarshal(body, &acc); st != http.StatusAccepted || err != nil || acc.ID == "" || acc.Status != "pending" {
			t.Fatalf("submit without wait: %d %s; want 202 with an id", st, body)
		}
		raw, _ := json.Marshal(j)
		if acc.ID != empplay.IDFor(raw) {
			t.Errorf("id %s; want the SHA-256 of the bytes, %s", acc.ID, empplay.IDFor(raw))
		}
		st, body = apiCall(t, sup, "POST", "/v1/jobs?wait=60s", apiToken, j)
		var res empplay.Result
		if err := json.Unmarshal(body, &res); st != http.StatusOK || err != nil || !res.Success || !res.Inline || res.ID != acc.ID {
			t.Fatalf("submit with wait: %d %s; want 200 with the inline result of %s", st, body, acc.ID)
		}
		schematest.CheckResult(t, body)
		st, body = apiCall(t, sup, "GET", "/v1/jobs/"+acc.ID, apiToken, nil)
		if err := json.Unmarshal(body, &res); st != http.StatusOK || err != nil || !res.Success {
			t.Errorf("result: %d %s", st, body)
		}
		st, body = apiCall(t, sup, "GET", "/v1/jobs/"+acc.ID+"/output", apiToken, nil)
		img, err := png.Decode(bytes.NewReader(body))
		if st != http.StatusOK || err != nil || img.Bounds().Dx() != 512 {
			t.Errorf("output: %d, %v; want the 512x512 PNG", st, err)
		}
		st, body = apiCall(t, sup, "GET", "/v1/jobs/nosuchjob", apiToken, nil)
		if st != http.StatusAccepted || !strings.Contains(string(body), "pending") {
			t.Errorf("unknown job: %d %s; want 202 pending", st, body)
		}
		if st, body = apiCall(t, sup, "GET", "/v1/jobs/nosuchjob/output", apiToken, nil); st != http.StatusNotFound {
			t.Errorf("output of an unknown job: %d %s; want 404", st, body)
		}
		bad := map[string]any{"type": "p5", "code": "x", "width": 0, "height": 10, "bucket": "b1b", "filename": "a.png"}
		if st, body = apiCall(t, sup, "POST", "/v1/jobs", apiToken, bad); st != http.StatusBadRequest || !strings.Contains(string(body), "missing_field") {
			t.Errorf("bad job: %d %s; want 400 missing_field", st, body)
		}
		// 150 frames in real time (about 2.5 s): on the virtual clock they
		// would take no longer than one.
		slow := map[string]any{"type": "p5", "code": "function setup() { createCanvas(10, 10); } function draw() { if (frameCount === 200) noLoop(); }", "captureFrames": 150,
			"clock": "real", "width": 10, "height": 10, "bucket": "inline", "filename": "s.png", "inline": true}
		if st, body = apiCall(t, sup, "POST", "/v1/jobs?wait=100ms", apiToken, slow); st != http.StatusAccepted {
			t.Errorf("wait shorter than the job: %d %s; want 202", st, body)
		}
	})
	if st, body := apiCall(t, sup, "GET", "/readyz", "", nil); st != http.StatusOK {
		t.Errorf("/readyz without a token: %d %s; want 200 (health stays open)", st, body)
	}
}

// TestAPITokenRequiredBeyondLoopback: listening on every interface
// without API_TOKEN is a configuration error (exit 78).
func TestAPITokenRequiredBeyondLoopback(t *testing.T) {
	s := newStack(t)
	cmd := exec.Command(s.bin, "supervise", "--workers", "playwright:1", "--http-addr", "0.0.0.0:"+strconv.Itoa(testenv.FreePort(t)))
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != empplay.ExitConfig || !strings.Contains(string(out), "API_TOKEN") {
		t.Errorf("supervise on 0.0.0.0 without a token: %v\n%s\nwant exit 78 naming API_TOKEN", err, out)
	}
}

// TestAPILatency compares /api/screenshot with the Redis path (LPUSH and
// wait) for the same job, the median of 20 each (EMPPLAY_API_BENCH=1).
func TestAPILatency(t *testing.T) {
	if os.Getenv("EMPPLAY_API_BENCH") != "1" {
		t.Skip("set EMPPLAY_API_BENCH=1")
	}
	s := newStack(t)
	sup := s.startSupervisor(t, 1, "API_TOKEN="+apiToken)
	sup.waitReady(t, 1, 60*time.Second)
	median := func(f func(i int)) time.Duration {
		var d []time.Duration
		for i := range 21 {
			t0 := time.Now()
			f(i)
			if i > 0 { // the first warms the browser up
				d = append(d, time.Since(t0))
			}
		}
		sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
		return (d[9] + d[10]) / 2
	}
	code := func(i int) string { return apiSketch + "\n// " + strconv.Itoa(i) }
	httpMed := median(func(i int) {
		st, body := apiCall(t, sup, "POST", "/api/screenshot", apiToken, map[string]string{"code": code(i)})
		apiData(t, st, body)
	})
	ctx := context.Background()
	redisMed := median(func(i int) {
		res := s.submit(t, ctx, job(t, map[string]any{"code": code(i), "width": 1024, "height": 1024, "filename": "lat" + strconv.Itoa(i) + ".png"}))
		if !res.Success {
			t.Fatalf("redis path: %+v", res)
		}
	})
	redisInline := median(func(i int) {
		res := s.submit(t, ctx, job(t, map[string]any{"code": code(i), "width": 1024, "height": 1024, "bucket": "inline", "filename": "i" + strconv.Itoa(i) + ".png", "inline": true}))
		if !res.Success {
			t.Fatalf("redis inline path: %+v", res)
		}
	})
	t.Logf("median of 20: /api/screenshot %v, Redis path (upload + CDN check) %v, Redis path inline %v", httpMed, redisMed, redisInline)
}
