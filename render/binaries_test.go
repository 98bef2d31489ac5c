package render

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/assets"
	"github.com/empplay/empplay/internal/testenv"
)

// TestHeadlessShellMatchesFullBrowser renders the same jobs in Debian's
// headless shell (empplay's default binary) and in the full browser's
// headless mode, and wants the same bytes from both: the switch of binary
// must change no artist's picture. The jobs cover 2D with translucency, a
// transparent canvas, a WEBGL shader, text in three scripts, what a
// sketch can read of its window and browser (drawn into the picture, so a
// difference changes the bytes), a plain HTML/CSS page and a short video.
func TestHeadlessShellMatchesFullBrowser(t *testing.T) {
	shell, full := testenv.ChromiumPath(t), testenv.FullChromiumPath(t)
	if !isHeadlessShell(shell) {
		t.Skipf("EMPPLAY_CHROMIUM is %s, not a headless shell: nothing to compare", shell)
	}
	needFFmpeg(t)
	start := func(path string) *Browser {
		b := New(Options{ChromiumPath: path, ProfileDir: testRoot}, assets.Embedded(), testLogger())
		t.Cleanup(func() {
			if err := b.Close(); err != nil {
				t.Errorf("Close %s: %v", path, err)
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.Start(ctx); err != nil {
			t.Fatalf("Start %s: %v", path, err)
		}
		return b
	}
	browsers := []*Browser{start(shell), start(full)}

	seeded := job(`function setup() { createCanvas(300, 300); pixelDensity(1); randomSeed(7); noLoop(); }
function draw() { background(255); noStroke();
  for (let i = 0; i < 400; i++) { fill(random(255), random(255), random(255), 150); ellipse(random(width), random(height), random(5, 60)); } }`, 300, 300)
	transparent := job(`function setup() { createCanvas(120, 80); clear(); noStroke();
  fill(255, 0, 0, 90); circle(40, 40, 60); fill(0, 0, 255, 200); rect(60, 10, 50, 60); }`, 120, 80)
	shader := job(`let s; function setup() { createCanvas(160, 120, WEBGL);
  s = createShader('attribute vec3 aPosition; void main() { gl_Position = vec4(aPosition * 2.0 - 1.0, 1.0); }',
    'precision mediump float; void main() { gl_FragColor = vec4(gl_FragCoord.x / 160.0, gl_FragCoord.y / 120.0, 0.5, 1.0); }');
  shader(s); noStroke(); rect(0, 0, 1, 1); }`, 160, 120)
	text := job(`function setup() { createCanvas(360, 150); background(250); fill(20); textSize(26);
  text('Generative 0123', 10, 40); text('生成艺术 ジェネ', 10, 85); text('🎨 ✨ Ünïcödé', 10, 130); }`, 360, 150)
	// Known differences, left out: the full browser's window is 20 pixels
	// smaller (outerWidth and outerHeight 780x580, not 800x600), and only
	// it has window.chrome, PDF viewer plugins and pdfViewerEnabled, and
	// the headless shell adds a HeadlessChrome brand to
	// navigator.userAgentData.brands and gives Chromium's whole version in
	// navigator.userAgent (HeadlessChrome/156.0.8078.114, not 156.0.0.0).
	env := job(`function setup() { createCanvas(700, 240); background(255); fill(0); textSize(12);
  const facts = [screen.width, screen.height, screen.availWidth, screen.colorDepth,
    innerWidth, innerHeight, devicePixelRatio, displayWidth, windowWidth,
    navigator.language, navigator.languages.join(), navigator.hardwareConcurrency, navigator.webdriver,
    navigator.platform, navigator.maxTouchPoints, navigator.cookieEnabled, navigator.deviceMemory,
    Intl.DateTimeFormat().resolvedOptions().timeZone, new Date(0).toString(), Intl.NumberFormat().format(1234.5),
    matchMedia('(prefers-color-scheme: dark)').matches, matchMedia('(prefers-reduced-motion: reduce)').matches,
    matchMedia('(pointer: fine)').matches, matchMedia('(hover: hover)').matches,
    document.visibilityState, history.length, typeof OffscreenCanvas, typeof AudioContext];
  facts.forEach((f, i) => text(String(f), 5 + 350 * (i % 2), 15 + 15 * Math.floor(i / 2)));
  textSize(10); text(navigator.userAgent.replace(/HeadlessChrome\/[0-9.]+/, ''), 5, 230); }`, 700, 240)
	page := jsJob(boxHTML+`<p style="font:16px serif;margin-top:60px">Plain <b>HTML</b> and <i>CSS</i></p>`,
		boxCSS+` p{color:#333;background:linear-gradient(90deg,#fee,#eef)}`, boxJS, 240, 100, empplay.OutputPNG)
	video := videoJob(`let x = 0; function setup() { createCanvas(96, 64); frameRate(10); }
function draw() { background(30); fill(255, 200, 0); circle(x, 32, 20); x += 6; }`, 96, 64, 1, 10, "")

	for _, tc := range []struct {
		name string
		job  *empplay.Job
	}{
		{"2d seeded", seeded},
		{"transparent", transparent},
		{"webgl shader", shader},
		{"text", text},
		{"what a sketch can read", env},
		{"html page", page},
		{"video", video},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				sums   [2][]string
				bodies [2][][]byte
			)
			for i, b := range browsers {
				out, err := render(t, b, tc.job)
				if err != nil {
					t.Fatalf("%s: %v", b.opts.ChromiumPath, err)
				}
				for _, a := range out.Artifacts {
					sums[i] = append(sums[i], fmt.Sprintf("%s %x %d", a.Name, sha256.Sum256(a.Body), len(a.Body)))
					bodies[i] = append(bodies[i], a.Body)
				}
			}
			if len(sums[0]) == 0 || fmt.Sprint(sums[0]) != fmt.Sprint(sums[1]) {
				t.Errorf("headless shell %q\nfull browser   %q", sums[0], sums[1])
				for i, name := range []string{"headless-shell", "full"} {
					for k, body := range bodies[i] {
						path := filepath.Join(os.TempDir(), fmt.Sprintf("empplay-binaries-%s-%s-%d", strings.ReplaceAll(tc.name, " ", "-"), name, k))
						if err := os.WriteFile(path, body, 0o644); err == nil {
							t.Logf("kept %s", path)
						}
					}
				}
			}
		})
	}
}
