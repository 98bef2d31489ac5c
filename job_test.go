package empplay

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// parseCase is one row of TestParse; FuzzParse seeds its corpus with them.
type parseCase struct {
	name string
	raw  string
	code Code // "" means valid
	msg  string
}

func parseCases() []parseCase {
	const ok = `"type":"p5","code":"function setup(){createCanvas(10,10)}","width":10,"height":10,"bucket":"renders","prefix":"a/b","filename":"x.png"`
	const vid = `"type":"video","code":"function draw(){}","duration":2,"fps":30,"width":10,"height":10,"bucket":"renders","prefix":"a","filename":"v.mp4"`
	big := strings.Repeat("a", MaxCodeBytes+1)
	return []parseCase{
		{"valid p5", `{` + ok + `}`, "", ""},
		{"invalid UTF-8 in code", "{\"type\":\"p5\",\"code\":\"a\xffb\",\"width\":10,\"height\":10,\"bucket\":\"renders\",\"filename\":\"x.png\"}", CodeInvalidField, `"code" is not valid UTF-8`},
		{"invalid UTF-8 in css", "{\"type\":\"js\",\"html\":\"x\",\"css\":\"\xc3\",\"width\":10,\"height\":10,\"bucket\":\"renders\",\"filename\":\"x.png\"}", CodeInvalidField, `"css" is not valid UTF-8`},
		{"escaped non-ASCII is fine", `{` + ok + `,"context":{"hash":"\u00e9t\u00e9 ✓"}}`, "", ""},
		{"valid with context and unknown fields", `{` + ok + `,"context":{"hash":"0xabc","variables":{"a":1}},"futureField":[1,2]}`, "", ""},
		{"valid js", `{"type":"js","html":"<p>hi</p>","width":10,"height":10,"bucket":"renders","prefix":"","filename":"x.png","outputType":"both"}`, "", ""},
		{"empty prefix", `{"type":"p5","code":"x","width":10,"height":10,"bucket":"renders","filename":"x.png"}`, "", ""},
		{"dots inside a name are fine", `{` + ok + `,"prefix":"a..b/c","filename":"..v2.png"}`, "", ""},
		{"capture settings", `{` + ok + `,"captureFrames":30,"captureSelector":"#main","deviceScaleFactor":2,"allowBlank":true}`, "", ""},
		{"capture delay", `{` + ok + `,"captureDelayMs":500}`, "", ""},
		{"capture frames and delay", `{` + ok + `,"captureFrames":3,"captureDelayMs":500}`, CodeInvalidField, "exclusive"},
		{"capture frames negative", `{` + ok + `,"captureFrames":-1}`, CodeInvalidField, `"captureFrames"`},
		{"capture frames too many", `{` + ok + `,"captureFrames":100001}`, CodeInvalidField, `"captureFrames"`},
		{"capture delay too long", `{` + ok + `,"captureDelayMs":600001}`, CodeInvalidField, `"captureDelayMs"`},
		{"capture frames on js", `{"type":"js","html":"x","width":10,"height":10,"bucket":"renders","filename":"x.png","captureFrames":2}`, CodeInvalidField, "for p5 jobs"},
		{"selector on js", `{"type":"js","html":"x","width":10,"height":10,"bucket":"renders","filename":"x.png","captureSelector":"canvas"}`, CodeInvalidField, "for p5 jobs"},
		{"scale factor too small", `{` + ok + `,"deviceScaleFactor":0.5}`, CodeInvalidField, `"deviceScaleFactor"`},
		{"scale factor too big", `{` + ok + `,"deviceScaleFactor":5}`, CodeInvalidField, `"deviceScaleFactor"`},
		{"scaled output too big", `{` + ok + `,"width":4096,"deviceScaleFactor":3}`, CodeSizeOutOfRange, "8192"},
		{"assets", `{` + ok + `,"assets":{"data/tile.png":"https://cdn.example.com/t.png","/fonts/a.otf":"https://cdn.example.com/a.otf","https://x.example/y.json":"https://cdn.example.com/y.json"}}`, "", ""},
		{"component sources", `{` + ok + `,"context":{"components":[{"id":1,"nodeName":"comfy","nodeAlias":"base","nodeResponse":{"src":"https://cdn.example.com/base.png"}},{"id":2,"nodeResponse":{}}]}}`, "", ""},
		{"assets as a list", `{` + ok + `,"assets":["a.png"]}`, CodeInvalidField, `"assets"`},
		{"asset source not http", `{` + ok + `,"assets":{"a.png":"file:///etc/passwd"}}`, CodeInvalidField, `must be an http(s) URL, got "file:///etc/passwd"`},
		{"asset source relative", `{` + ok + `,"assets":{"a.png":"b.png"}}`, CodeInvalidField, `must be an http(s) URL`},
		{"asset source with user info", `{` + ok + `,"assets":{"a.png":"https://u:p@cdn.example.com/a.png"}}`, CodeInvalidField, `must be an http(s) URL`},
		{"asset name empty", `{` + ok + `,"assets":{" ":"https://cdn.example.com/a.png"}}`, CodeInvalidField, `not a usable name`},
		{"asset name with another scheme", `{` + ok + `,"assets":{"data:image/png,x":"https://cdn.example.com/a.png"}}`, CodeInvalidField, `must be a path or an http(s) URL`},
		{"component source not http is the worker's to refuse", `{` + ok + `,"context":{"components":[{"nodeResponse":{"src":"javascript:alert(1)"}}]}}`, "", ""},
		{"asset name with a colon later", `{` + ok + `,"assets":{"a/b:c.png":"https://cdn.example.com/a.png"}}`, "", ""},
		{"asset name as an http URL", `{` + ok + `,"assets":{"HTTPS://x.example/a.png":"https://cdn.example.com/a.png"}}`, "", ""},
		{"asset name as an http URL with user info", `{` + ok + `,"assets":{"https://u@x.example/a.png":"https://cdn.example.com/a.png"}}`, CodeInvalidField, `must be a path or an http(s) URL`},
		{"asset source with spaces in the host", `{` + ok + `,"assets":{"a.png":"https://a b/a.png"}}`, CodeInvalidField, `must be an http(s) URL`},
		{"not json", `hello`, CodeInvalidJSON, "not a JSON object"},
		{"truncated json", `{"type":"p5"`, CodeInvalidJSON, "not valid JSON"},
		{"json array", `[1,2]`, CodeInvalidJSON, "not a JSON object"},
		{"empty", ``, CodeInvalidJSON, "not a JSON object"},
		{"unknown type", `{"type":"pdf","width":10,"height":10}`, CodeUnknownType, `"pdf"`},
		{"missing type", `{"code":"x"}`, CodeMissingField, `"type"`},
		{"width as string", `{` + ok + `,"width":"10"}`, CodeInvalidField, `"width" must be a number`},
		{"width fractional", `{` + ok + `,"width":10.5}`, CodeInvalidField, `"width"`},
		{"code as number", `{` + ok + `,"code":5}`, CodeInvalidField, `"code" must be a string`},
		{"context as string", `{` + ok + `,"context":"x"}`, CodeInvalidField, `"context"`},
		{"missing width", `{"type":"p5","code":"x","height":10,"bucket":"renders","filename":"x.png"}`, CodeMissingField, `"width"`},
		{"width too big", `{` + ok + `,"width":100000}`, CodeSizeOutOfRange, "between 1 and 4096"},
		{"negative height", `{` + ok + `,"height":-5}`, CodeSizeOutOfRange, `"height"`},
		{"missing code", `{` + ok + `,"code":""}`, CodeMissingField, `"code"`},
		{"code too large", `{` + ok + `,"code":"` + big + `"}`, CodeCodeTooLarge, "limit"},
		{"missing bucket", `{` + ok + `,"bucket":""}`, CodeMissingField, `"bucket"`},
		{"bucket uppercase", `{` + ok + `,"bucket":"Renders"}`, CodeInvalidBucket, "lowercase"},
		{"bucket too short", `{` + ok + `,"bucket":"ab"}`, CodeInvalidBucket, "3-63"},
		{"bucket double hyphen", `{` + ok + `,"bucket":"a--b"}`, CodeInvalidBucket, "consecutive"},
		{"bucket trailing hyphen", `{` + ok + `,"bucket":"abc-"}`, CodeInvalidBucket, "start and end"},
		{"bucket underscore", `{` + ok + `,"bucket":"a_bc"}`, CodeInvalidBucket, "only lowercase"},
		{"prefix dotdot", `{` + ok + `,"prefix":"a/../../etc"}`, CodeInvalidPath, ".."},
		{"filename dotdot", `{` + ok + `,"filename":".."}`, CodeInvalidPath, ".."},
		{"absolute prefix", `{` + ok + `,"prefix":"/etc"}`, CodeInvalidPath, "relative"},
		{"backslash", `{` + ok + `,"prefix":"a\\b"}`, CodeInvalidPath, "backslash"},
		{"control char", `{` + ok + `,"filename":"a\u0007.png"}`, CodeInvalidPath, "control"},
		{"newline", `{` + ok + `,"prefix":"a\nb"}`, CodeInvalidPath, "control"},
		{"slash in filename", `{` + ok + `,"filename":"a/b.png"}`, CodeInvalidPath, "prefix"},
		{"missing filename", `{` + ok + `,"filename":""}`, CodeMissingField, `"filename"`},
		{"bad outputType", `{"type":"js","html":"x","width":10,"height":10,"bucket":"renders","filename":"x.png","outputType":"pdf"}`, CodeInvalidField, "outputType"},
		{"js without content", `{"type":"js","width":10,"height":10,"bucket":"renders","filename":"x.png"}`, CodeMissingField, "html"},
		{"bad p5Version", `{` + ok + `,"p5Version":"3"}`, CodeInvalidField, "p5Version"},
		{"bad gpuComplexity", `{` + ok + `,"gpuComplexity":"extreme"}`, CodeInvalidField, "gpuComplexity"},
		{"clock virtual", `{` + ok + `,"clock":"virtual"}`, "", ""},
		{"clock real", `{` + ok + `,"clock":"real"}`, "", ""},
		{"clock real on js", `{"type":"js","html":"x","width":10,"height":10,"bucket":"renders","filename":"x.png","clock":"real"}`, "", ""},
		{"clock unknown", `{` + ok + `,"clock":"fast"}`, CodeInvalidField, `"clock" must be "virtual" or "real"`},
		{"clock uppercase", `{` + ok + `,"clock":"Real"}`, CodeInvalidField, `"clock"`},
		{"clock as number", `{` + ok + `,"clock":1}`, CodeInvalidField, `"clock" must be a string`},
		{"clock real on video", `{` + vid + `,"clock":"real"}`, CodeInvalidField, `"clock" must be "virtual" for a video`},
		{"id with space", `{` + ok + `,"id":"a b"}`, CodeInvalidField, `"id"`},
		{"id too long", `{` + ok + `,"id":"` + strings.Repeat("i", 201) + `"}`, CodeInvalidField, `"id"`},
		{"id with a brace", `{` + ok + `,"id":"a{b"}`, CodeInvalidField, `"id"`},
		{"js with only javascript", `{"type":"js","javascript":"document.title='x'","width":10,"height":10,"bucket":"renders","filename":"x.png"}`, "", ""},
		{"js with empty html and javascript", `{"type":"js","html":"","javascript":"","width":10,"height":10,"bucket":"renders","filename":"x.png"}`, CodeMissingField, "html"},
		{"js with a capture delay", `{"type":"js","html":"x","width":10,"height":10,"bucket":"renders","filename":"x.png","captureDelayMs":100}`, "", ""},
		{"outputType is for js jobs only", `{` + ok + `,"outputType":"pdf"}`, "", ""},
		{"code only white space", `{` + ok + `,"code":" \n\t\u3000"}`, CodeMissingField, `"code"`},
		{"prefix with a trailing slash", `{` + ok + `,"prefix":"a/b/"}`, "", ""},
		{"prefix with an empty segment", `{` + ok + `,"prefix":"a//b"}`, CodeInvalidPath, "//"},
		{"filename dot", `{` + ok + `,"filename":"."}`, CodeInvalidPath, ".."},
		{"context hash as number", `{` + ok + `,"context":{"hash":5}}`, CodeInvalidField, "hash"},
		{"negative timeoutMs", `{` + ok + `,"timeoutMs":-1}`, CodeInvalidField, "timeoutMs"},
		{"replyTo too long", `{` + ok + `,"replyTo":"` + strings.Repeat("r", 513) + `"}`, CodeInvalidField, "replyTo"},
		{"selector too long", `{` + ok + `,"captureSelector":"` + strings.Repeat("s", 501) + `"}`, CodeInvalidField, "captureSelector"},
		{"valid video", `{` + vid + `}`, "", ""},
		{"valid video without fps", `{"type":"video","code":"x","duration":2,"width":10,"height":10,"bucket":"renders","filename":"v.mp4"}`, "", ""},
		{"valid webm", `{` + vid + `,"format":"webm"}`, "", ""},
		{"valid gif", `{` + vid + `,"format":"gif","fps":25}`, "", ""},
		{"valid fractional fps", `{` + vid + `,"fps":29.97}`, "", ""},
		{"valid fps with three decimals", `{` + vid + `,"fps":1.001}`, "", ""},
		{"video without duration", `{"type":"video","code":"x","fps":30,"width":10,"height":10,"bucket":"renders","filename":"v.mp4"}`, CodeMissingField, `"duration"`},
		{"video negative duration", `{` + vid + `,"duration":-1}`, CodeInvalidField, `"duration"`},
		{"video too long", `{` + vid + `,"duration":121}`, CodeInvalidField, "120 seconds"},
		{"video fps too high", `{` + vid + `,"fps":61}`, CodeInvalidField, `"fps"`},
		{"video fps too low", `{` + vid + `,"fps":0.5}`, CodeInvalidField, `"fps"`},
		{"video fps too precise", `{` + vid + `,"fps":29.9701}`, CodeInvalidField, "decimals"},
		{"video fps as string", `{` + vid + `,"fps":"30"}`, CodeInvalidField, `"fps" must be a number`},
		{"video too many frames", `{` + vid + `,"duration":100,"fps":60}`, CodeInvalidField, "limit is 3600"},
		{"video under one frame", `{` + vid + `,"duration":0.001}`, CodeInvalidField, "less than one frame"},
		{"video too big", `{` + vid + `,"width":4096,"height":4096}`, CodeSizeOutOfRange, "3840x2160"},
		{"video bad format", `{` + vid + `,"format":"avi"}`, CodeInvalidField, `"format"`},
		{"gif at 50 fps", `{` + vid + `,"format":"gif","fps":50}`, "", ""},
		{"gif fps too high", `{` + vid + `,"format":"gif","fps":60}`, CodeInvalidField, "GIF"},
		{"gif too many frames", `{` + vid + `,"format":"gif","duration":30,"fps":25}`, CodeInvalidField, "GIF"},
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.raw))
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Parse: %v; want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded; want %s", tc.code)
			}
			if got := ErrorCode(err); got != tc.code {
				t.Errorf("code %s (%v); want %s", got, err, tc.code)
			}
			if IsRetryable(err) {
				t.Errorf("bad input is retryable; want permanent")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// idCase is one row of TestIDFor; TestJobIDVectors hands them to the
// TypeScript client's tests too. want "" means the SHA-256 of raw.
type idCase struct {
	name, raw, want string
}

func idCases() []idCase {
	return []idCase{
		{"explicit id", `{"id":"job-1","type":"p5"}`, "job-1"},
		// sha256 of the exact bytes, as `printf %s '{"type":"p5"}' | sha256sum` prints it.
		{"derived", `{"type":"p5"}`, "13cea268aca4f64fdf0ddb423ea5041a23040fb657715f82bb92acd5dbe64f57"},
		{"numeric id is ignored", `{"id":5}`, ""},
		{"invalid id is ignored", `{"id":"a b"}`, ""},
		{"not json", `nope`, ""},
		{"empty id is ignored", `{"id":""}`, ""},
		{"id in another case", `{"ID":"upper"}`, "upper"},
		{"last of two ids", `{"id":"first","Id":"second"}`, "second"},
		{"later null id", `{"id":"first","id":null}`, ""},
		{"escaped id", `{"\u0069d":"\u006aob"}`, "job"},
		{"id with a brace", `{"id":"a{b"}`, ""},
		{"id of 200 bytes", `{"id":"` + strings.Repeat("é", 100) + `"}`, strings.Repeat("é", 100)},
		{"id of 201 bytes", `{"id":"x` + strings.Repeat("é", 100) + `"}`, ""},
		{"id after an overflowing id", `{"id":1e400,"id":"x"}`, ""},
		{"id beside an overflowing number", `{"n":1e400,"id":"x"}`, "x"},
		{"id in a nested object only", `{"a":{"id":"x"}}`, ""},
		{"trailing data", `{"id":"x"} {}`, ""},
		{"surrounding white space", " \n{\"id\":\"x\"}\t", "x"},
		{"byte order mark", "\ufeff{\"id\":\"x\"}", ""},
	}
}

func TestIDFor(t *testing.T) {
	t.Parallel()
	for _, tc := range idCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := IDFor([]byte(tc.raw))
			sum := sha256.Sum256([]byte(tc.raw))
			want := tc.want
			if want == "" {
				want = hex.EncodeToString(sum[:])
			}
			if got != want {
				t.Fatalf("IDFor = %s; want %s", got, want)
			}
		})
	}
}

func TestBlobName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ prefix, file, want string }{
		{"a/b", "x.png", "a/b/x.png"},
		{"a/b/", "x.png", "a/b/x.png"},
		{"", "x.png", "x.png"},
	} {
		j := Job{Prefix: tc.prefix, Filename: tc.file}
		if got := j.BlobName(); got != tc.want {
			t.Errorf("BlobName(%q,%q) = %q; want %q", tc.prefix, tc.file, got, tc.want)
		}
	}
}

func TestVideoFrames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		duration, fps float64
		want          int
	}{
		{2, 30, 60},
		{1, 0, DefaultVideoFPS},
		{0.5, 25, 13}, // 12.5 rounds half away from zero
		{10, 29.97, 300},
		{1.0 / 30, 30, 1},
	} {
		j := Job{Duration: tc.duration, FPS: tc.fps}
		if got := j.VideoFrames(); got != tc.want {
			t.Errorf("VideoFrames(%v s at %v fps) = %d; want %d", tc.duration, tc.fps, got, tc.want)
		}
	}
}

func TestRenderTimeout(t *testing.T) {
	t.Parallel()
	base := 30 * time.Second
	for _, tc := range []struct {
		job  Job
		want time.Duration
	}{
		{Job{Type: TypeP5}, base},
		{Job{Type: TypeJS}, base},
		{Job{Type: TypeVideo, Duration: 10, FPS: 30}, base + 300*VideoFrameBudget},
		{Job{Type: TypeVideo, Duration: 10}, base + 300*VideoFrameBudget},
		{Job{Type: TypeVideo, Duration: 2, FPS: 25, Format: FormatGIF}, base + 50*GIFFrameBudget},
	} {
		if got := tc.job.RenderTimeout(base); got != tc.want {
			t.Errorf("RenderTimeout(%+v) = %v; want %v", tc.job, got, tc.want)
		}
	}
}
