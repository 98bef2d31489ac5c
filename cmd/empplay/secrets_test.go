package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// accountSAS signs an account SAS for Azurite's development account, the
// query a SharedAccessSignature connection string carries.
func accountSAS(t *testing.T) sas.QueryParameters {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(testenv.AzuriteAccount, testenv.AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	qp, err := sas.AccountSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    time.Now().Add(time.Hour).UTC(),
		Permissions:   (&sas.AccountPermissions{Read: true, Write: true, Create: true, Add: true, List: true}).String(),
		ResourceTypes: (&sas.AccountResourceTypes{Service: true, Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	return qp
}

// dumpRedis returns every key and value in Redis as text.
func dumpRedis(t *testing.T, ctx context.Context, rc rueidis.Client) string {
	t.Helper()
	var b strings.Builder
	keys, err := rc.Do(ctx, rc.B().Keys().Pattern("*").Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		typ, _ := rc.Do(ctx, rc.B().Type().Key(k).Build()).ToString()
		var v any
		switch typ {
		case "string":
			v, _ = rc.Do(ctx, rc.B().Get().Key(k).Build()).ToString()
		case "hash":
			v, _ = rc.Do(ctx, rc.B().Hgetall().Key(k).Build()).AsStrMap()
		case "list":
			v, _ = rc.Do(ctx, rc.B().Lrange().Key(k).Start(0).Stop(-1).Build()).AsStrSlice()
		case "set":
			v, _ = rc.Do(ctx, rc.B().Smembers().Key(k).Build()).AsStrSlice()
		case "zset":
			v, _ = rc.Do(ctx, rc.B().Zrange().Key(k).Min("0").Max("-1").Build()).AsStrSlice()
		default:
			v = "(type " + typ + ")"
		}
		fmt.Fprintf(&b, "%s (%s): %v\n", k, typ, v)
	}
	return b.String()
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// jobLines returns the "job finished" lines of a JSON log.
func jobLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.SplitSeq(logs, "\n") {
		if !strings.Contains(l, `"job finished"`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("job line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestJobLogSecrets runs real jobs through `empplay supervise` and
// `empplay worker --once` with a Redis password, a SAS connection string,
// an account key and an API token in their environment, at debug level,
// and checks that each job's log line is there and that none of those
// secrets (nor any sig= value), nor the admin token, shows in the logs,
// the results and everything else in Redis, /readyz, /metrics or the
// status page.
func TestJobLogSecrets(t *testing.T) {
	testenv.ChromiumPath(t)
	password, token, adminToken := randomHex(t, 16), randomHex(t, 16), randomHex(t, 16)
	redis := testenv.StartRedis(t, "--requirepass", password)
	az := testenv.StartAzurite(t)
	redisURL := "redis://:" + password + "@" + redis.Addr + "/0"
	qp := accountSAS(t)
	sig := qp.Signature()
	if sig == "" {
		t.Fatal("the SAS has no signature")
	}
	s := &stack{redis: redis, azurite: az, bin: binary(t), profiles: t.TempDir()}
	opt, err := queue.Options(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	if s.rc, err = rueidis.NewClient(opt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.rc.Close)
	s.producer = queue.NewClient(s.rc, "")
	base := append(os.Environ(),
		"REDIS_URL="+redisURL,
		"CDN_URI="+az.Endpoint,
		"EMPPLAY_PROFILE_DIR="+s.profiles,
		"LOG_FORMAT=json",
		"LOG_LEVEL=debug",
		"API_TOKEN="+token,
	)
	if p := os.Getenv("EMPPLAY_CHROMIUM"); p != "" {
		base = append(base, "CHROMIUM_PATH="+p)
	}
	// The supervisor's workers authenticate with the SAS (the key is set
	// too, and loses to the connection string); the --once worker with the
	// key.
	s.env = append(append([]string(nil), base...),
		"AZURE_STORAGE_CONNECTION_STRING=BlobEndpoint="+az.Endpoint+";SharedAccessSignature="+qp.Encode(),
		"AZURE_STORAGE_ACCOUNT="+testenv.AzuriteAccount, "AZURE_STORAGE_KEY="+testenv.AzuriteKey)
	keyEnv := append(append([]string(nil), base...),
		"AZURE_STORAGE_ACCOUNT="+testenv.AzuriteAccount, "AZURE_STORAGE_KEY="+testenv.AzuriteKey,
		"AZURE_STORAGE_ENDPOINT="+az.Endpoint)
	ctx := testenv.Context(t, 4*time.Minute)

	sup := s.startSupervisor(t, 1, "BROWSER_TIMEOUT=20000", "ADMIN_TOKEN="+adminToken)
	sup.waitReady(t, 1, 90*time.Second)
	jobs := map[string]struct {
		raw     string
		success bool
	}{
		"p5":     {job(t, map[string]any{"code": "function setup(){createCanvas(40,30);background(200,20,20);}", "filename": "secret-p5.png"}), true},
		"js":     {job(t, map[string]any{"type": "js", "code": nil, "html": "<canvas id=c width=40 height=30></canvas>", "javascript": "c.getContext('2d').fillRect(0,0,9,9)", "outputType": "both", "filename": "secret-js.png"}), true},
		"failed": {job(t, map[string]any{"code": "function setup(){ undefinedFunction(); }", "filename": "secret-fail.png"}), false},
	}
	ids := map[string]string{}
	for name, j := range jobs {
		res := s.submit(t, ctx, j.raw)
		if res.Success != j.success {
			t.Fatalf("%s job: %+v; want success=%v", name, res, j.success)
		}
		ids[res.ID] = name
	}
	// The supervisor's views, once the last job's report is in.
	// No Eventually: on a timeout the checks below say what is missing.
	var metrics string
	testenv.Poll(15*time.Second, 100*time.Millisecond, func() bool {
		metrics = httpGet(t, "http://"+sup.addr+"/metrics")
		return strings.Contains(metrics, `empplay_jobs_total{error_code="sketch_error",outcome="failed",type="p5"} 1`) &&
			strings.Contains(metrics, `empplay_jobs_total{error_code="",outcome="success",type="js"} 1`) &&
			strings.Contains(metrics, `empplay_jobs_total{error_code="",outcome="success",type="p5"} 1`)
	})
	readyz := httpGet(t, "http://"+sup.addr+"/readyz")
	status := httpGet(t, "http://"+sup.addr+"/status.json")
	page := httpGet(t, "http://"+sup.addr+"/")
	if err := sup.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sup.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the supervisor did not stop within 60s")
	}

	// One job through a worker that authenticates with the account key.
	onceJob := job(t, map[string]any{"code": "function setup(){createCanvas(20,20);background(0,90,200);}", "filename": "secret-once.png"})
	if _, err := s.producer.Submit(ctx, []byte(onceJob)); err != nil {
		t.Fatal(err)
	}
	once := exec.CommandContext(ctx, s.bin, "worker", "--once", "--wait", "60s")
	once.Env = keyEnv
	var onceOut, onceErr bytes.Buffer
	once.Stdout, once.Stderr = &onceOut, &onceErr
	if err := once.Run(); err != nil {
		t.Fatalf("worker --once with the account key: %v\n%s", err, tail(onceErr.String()))
	}
	var onceRes empplay.Result
	if err := json.Unmarshal(onceOut.Bytes(), &onceRes); err != nil || !onceRes.Success {
		t.Fatalf("worker --once result %s: %v", onceOut.String(), err)
	}

	t.Run("one job line per job", func(t *testing.T) {
		lines := jobLines(t, sup.logs.String())
		if len(lines) != len(jobs) {
			t.Fatalf("%d job lines in the supervisor's log; want %d", len(lines), len(jobs))
		}
		for _, l := range lines {
			name := ids[fmt.Sprint(l["job_id"])]
			if name == "" {
				t.Errorf("job line for an unknown job: %v", l)
				continue
			}
			want := map[string]string{"p5": "success", "js": "success", "failed": "failed"}[name]
			if l["outcome"] != want || l["slot"] == nil || l["worker"] == nil {
				t.Errorf("%s job line %v; want outcome %s with slot and worker", name, l, want)
			}
			st, _ := l["stages_ms"].(map[string]any)
			for _, stage := range []string{"browser_acquire", "page_load", "ready"} {
				if v, ok := st[stage].(float64); !ok || v <= 0 {
					t.Errorf("%s job line: stages_ms.%s = %v; want it measured", name, stage, st[stage])
				}
			}
			if want == "success" && (st["upload"] == nil || st["verify"] == nil || l["bytes"] == nil) {
				t.Errorf("%s job line %v; want upload, verify and bytes", name, l)
			}
			if name == "failed" && l["error_code"] != "sketch_error" {
				t.Errorf("failed job line %v; want error_code sketch_error", l)
			}
		}
		if n := len(jobLines(t, onceErr.String())); n != 1 {
			t.Errorf("%d job lines in the --once worker's log; want 1", n)
		}
	})

	t.Run("stage metrics", func(t *testing.T) {
		for _, typ := range []string{"p5", "js"} {
			for _, stage := range empplay.Stages {
				series := fmt.Sprintf(`empplay_job_stage_duration_seconds_count{outcome="success",stage="%s",type="%s"} 1`, stage, typ)
				// A js page is a screenshot: nothing encodes in the page.
				want := typ == "p5" || stage != empplay.StageEncode
				if strings.Contains(metrics, series) != want {
					t.Errorf("/metrics has %s: %v; want %v", series, !want, want)
				}
			}
		}
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			testenv.Missing(t, "promtool (Debian package prometheus)")
		}
		check := exec.Command(promtool, "check", "metrics")
		check.Stdin = strings.NewReader(metrics)
		if out, err := check.CombinedOutput(); err != nil {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	})

	t.Run("no secret anywhere", func(t *testing.T) {
		places := map[string]string{
			"supervisor log":    sup.logs.String(),
			"--once worker log": onceErr.String(),
			"--once result":     onceOut.String(),
			"redis":             dumpRedis(t, ctx, s.rc),
			"/readyz":           readyz,
			"/metrics":          metrics,
			"/status.json":      status,
			"the status page":   page,
		}
		secrets := map[string]string{
			"the Redis password":         password,
			"the account key":            testenv.AzuriteKey,
			"the SAS signature":          sig,
			"the SAS signature, escaped": url.QueryEscape(sig),
			"the API token":              token,
			"the admin token":            adminToken,
		}
		sigValue := regexp.MustCompile(`(?i)\bsig=([^&;\s"'\\]+)`)
		for where, text := range places {
			if len(text) < 20 {
				t.Errorf("%s is nearly empty (%q): nothing was checked", where, text)
			}
			for what, secret := range secrets {
				if i := strings.Index(text, secret); i >= 0 {
					t.Errorf("%s shows %s: ...%s...", where, what, text[max(0, i-200):min(len(text), i+len(secret)+50)])
				}
			}
			for _, m := range sigValue.FindAllStringSubmatch(text, -1) {
				if m[1] != "REDACTED" {
					t.Errorf("%s shows a sig= value: %s", where, m[0])
				}
			}
		}
	})
}
