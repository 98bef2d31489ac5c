package render

import (
	"bytes"
	"fmt"
	"image"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/video"
)

// tenFrames is testdata/ten-frames.webm: one second of 16x16 VP8 at 10
// fps, frame N one colour, made with
//
//	ffmpeg -f lavfi -i color=c=black:s=16x16:r=10:d=1 \
//	  -vf "geq=r='N*25':g='255-N*25':b='128'" \
//	  -c:v libvpx -b:v 300k -g 10 -auto-alt-ref 0 -pix_fmt yuv420p -an ten-frames.webm
func tenFrames(t *testing.T) []byte {
	t.Helper()
	clip, err := os.ReadFile("testdata/ten-frames.webm")
	if err != nil {
		t.Fatal(err)
	}
	return clip
}

// clipColor is frame n's colour in tenFrames (as decoded, within a few
// levels).
func clipColor(n int) [3]int { return [3]int{n * 25, 255 - n*25, 128} }

// mediaBrowser is a browser whose jobs may load tenFrames from a CDN
// that answers at once, or after delay for paths under /slow/; it serves
// ranges, as a CDN does.
func mediaBrowser(t *testing.T, delay time.Duration) (*Browser, string) {
	t.Helper()
	clip := tenFrames(t)
	b, src := slowCDNBrowser(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/slow/") {
			time.Sleep(delay) // the behaviour under test: a slow CDN
		}
		w.Header().Set("Content-Type", "video/webm")
		http.ServeContent(w, r, "clip.webm", time.Time{}, bytes.NewReader(clip))
	})
	return b, src.URL
}

// TestMediaOnTheVirtualClock: a sketch that draws a <video> gets the
// frame of its virtual time, the same picture whether the CDN answered
// at once or 700 ms later: the video's load holds the clock, the
// browser never plays it, and each frame of the sketch seeks it to its
// time first. Before, the picture was the sketch's background, the
// video's first frame or whatever frame real time had reached,
// depending on the machine.
func TestMediaOnTheVirtualClock(t *testing.T) {
	b, cdn := mediaBrowser(t, 700*time.Millisecond)
	const draw = `function draw() {
  background(0, 0, 255);
  if (drawingContext instanceof WebGLRenderingContext || drawingContext instanceof WebGL2RenderingContext) {
    noStroke(); texture(vid); plane(16, 16);
  } else image(vid, 0, 0, 16, 16);
}`
	for _, tc := range []struct {
		name   string
		setup  string // after vid = createVideo(...); vid.hide();
		frames int    // CaptureFrames: frame N is at (N-1)/60 s
		want   int    // the clip's frame in the picture
	}{
		// 29/60 s: frame 4 of the clip (0.48 s).
		{"playing", `vid.loop();`, 30, 4},
		// 74/60 s, looped: 0.23 s, frame 2.
		{"looping", `vid.loop();`, 75, 2},
		// Not played: its first frame, at every frame of the sketch.
		{"paused", ``, 40, 0},
		// Seeked before it has loaded: the browser seeks once it can.
		{"seeked before it loaded", `vid.time(0.55);`, 10, 5},
		// Played from 0.3 s at half speed: 0.3 + 0.5 * 29/60 = 0.54 s.
		// Played from 0.3 s at half speed, once loaded: 0.3 + 0.5 * 29/60
		// = 0.54 s. (p5's play() on a video below HAVE_CURRENT_DATA, one
		// that is seeking say, loads it again, from 0, as in a browser.)
		{"half speed from 0.3 s", `vid.elt.addEventListener('canplaythrough', () => { vid.play(); vid.time(0.3); vid.speed(0.5); }, { once: true });`, 30, 5},
		// Once played through: paused at its end, showing its last frame.
		{"played to its end", `vid.play();`, 90, 9},
		// A WebGL texture of it.
		{"as a WebGL texture", `vid.loop();`, 30, 4},
	} {
		for _, major := range fidMajors {
			t.Run(tc.name+"/p5 "+major, func(t *testing.T) {
				var first []byte
				for _, path := range []string{"/slow/clip.webm", "/clip.webm"} {
					renderer := "P2D"
					if strings.Contains(tc.name, "WebGL") {
						renderer = "WEBGL"
					}
					j := fidJob(`let vid;
function setup() { createCanvas(16, 16, `+renderer+`); pixelDensity(1); vid = createVideo('data/clip.webm'); vid.hide(); `+tc.setup+` }
`+draw, 16, 16, major)
					j.CaptureFrames = tc.frames
					j.Assets = map[string]string{"data/clip.webm": cdn + path}
					out, img := mustRender(t, b, j)
					if got, want := rgbAt(img, 8, 8), clipColor(tc.want); !near(got, want, 12) {
						t.Errorf("%s: the picture is %v; want the clip's frame %d, %v", path, got, tc.want, want)
					}
					if first == nil {
						first = out.Artifacts[0].Body
					} else if !bytes.Equal(first, out.Artifacts[0].Body) {
						t.Errorf("the picture differs with the CDN answering at once and %v later", 700*time.Millisecond)
					}
				}
			})
		}
	}
}

// TestMediaStateOnTheVirtualClock: what a sketch reads of a video (its
// time, paused, ended, and the events it gets) follows virtual time, and
// comes out the same on every run. The sketch writes what it saw, frame
// by frame, as the colours of a row of pixels.
func TestMediaStateOnTheVirtualClock(t *testing.T) {
	b, cdn := mediaBrowser(t, 700*time.Millisecond)
	// Row y of the picture is frame y's: currentTime in 1/100 s (red),
	// paused (green 255) and the count of play, pause and ended events
	// so far (blue: 1, 10, 100).
	code := `let vid, ev = 0;
function setup() {
  createCanvas(1, 100); pixelDensity(1); noStroke();
  vid = createVideo('data/clip.webm'); vid.hide();
  vid.elt.addEventListener('play', () => ev += 1);
  vid.elt.addEventListener('pause', () => ev += 10);
  vid.elt.addEventListener('ended', () => ev += 100);
  vid.play();
  setTimeout(() => vid.pause(), 490);
}
function draw() {
  if (frameCount === 45) vid.play();
  fill(Math.round(vid.time() * 100), vid.elt.paused ? 255 : 0, ev);
  rect(0, frameCount - 1, 1, 1);
}`
	var first []byte
	for _, path := range []string{"/slow/clip.webm", "/clip.webm"} {
		j := fidJob(code, 1, 100, "1")
		j.CaptureFrames = 100
		j.Assets = map[string]string{"data/clip.webm": cdn + path}
		out, img := mustRender(t, b, j)
		// Frame N is at (N-1)/60 s. Played from 0, paused at 490 ms
		// (a timer), played again in frame 45 (44/60 s) from 0.49 s, to
		// its end at 1 s of media time, at 1.2433 s: frame 76 (1.25 s) is
		// the first past it. Events come in a task after the call that
		// caused them: play() in setup(), which p5 1.x follows with frame
		// 1 in the same task, is seen in frame 2; the pause at 490 ms,
		// run in the same task as frame 31, in frame 32; play() in frame
		// 45 in 46. The end's come before the first frame past it.
		for _, c := range []struct {
			frame  int
			media  float64 // seconds
			paused bool
			events int
		}{
			{1, 0, false, 0},
			{2, 1.0 / 60, false, 1},
			{30, 29.0 / 60, false, 1},
			{31, 0.49, true, 1},
			{32, 0.49, true, 11},
			{45, 0.49, false, 11},
			{46, 0.49 + 1.0/60, false, 12},
			{60, 0.49 + 15.0/60, false, 12},
			{75, 0.49 + 30.0/60, false, 12},
			{76, 1, true, 122},
			{100, 1, true, 122},
		} {
			got := rgbAt(img, 0, c.frame-1)
			wantPaused := 0
			if c.paused {
				wantPaused = 255
			}
			want := [3]int{int(c.media*100 + 0.5), wantPaused, c.events}
			if got != want {
				t.Errorf("%s: frame %d saw time, paused, events %v; want %v", path, c.frame, got, want)
			}
		}
		if first == nil {
			first = out.Artifacts[0].Body
		} else if !bytes.Equal(first, out.Artifacts[0].Body) {
			t.Errorf("what the sketch saw differs with the CDN answering at once and later")
		}
	}
}

// TestMediaInAJSPage: a js page's <video> shows, in the screenshot, the
// frame of the virtual time of its capture() (the page's 30th animation
// frame, 29/60 s: the clip's frame 4), however fast the CDN, whether the
// video plays by its autoplay attribute or by play(), or the page seeks
// it every frame. (After a run of seeks the compositor could go on
// showing a frame or two before, however long it was left: see
// virtualMedia's refresh.)
func TestMediaInAJSPage(t *testing.T) {
	b, cdn := mediaBrowser(t, 700*time.Millisecond)
	const style = `style="display:block;width:16px;height:16px"`
	for _, tc := range []struct{ name, html, js string }{
		{"autoplay", `<video src="data/clip.webm" autoplay loop muted ` + style + `></video>`, ``},
		{"play()", `<video id="v" src="data/clip.webm" loop muted ` + style + `></video>`, `document.getElementById('v').play();`},
		{"seeked every frame", `<video id="v" src="data/clip.webm" muted ` + style + `></video>`, `const v = document.getElementById('v');
let m = 0;
(function seek() { v.currentTime = ++m / 60; if (m < 29) requestAnimationFrame(seek); })();`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first []byte
			for _, path := range []string{"/slow/clip.webm", "/clip.webm"} {
				j := jsJob(tc.html, `body{margin:0;background:#00f}`, tc.js+`
let n = 0;
function frame() { if (++n < 30) requestAnimationFrame(frame); else capture(); }
requestAnimationFrame(frame);`, 16, 16, empplay.OutputPNG)
				j.Assets = map[string]string{"data/clip.webm": cdn + path}
				out, img := mustRender(t, b, j)
				if got, want := rgbAt(img, 8, 8), clipColor(4); !near(got, want, 12) {
					t.Errorf("%s: the picture is %v; want the clip's frame 4, %v", path, got, want)
				}
				if first == nil {
					first = out.Artifacts[0].Body
				} else if !bytes.Equal(first, out.Artifacts[0].Body) {
					t.Errorf("the picture differs with the CDN answering at once and later")
				}
			}
		})
	}
}

// TestVideoOfAVideo: a recording of a sketch that draws a playing video
// shows, in frame k of 20 fps, the clip's frame at k/20 s: the clip plays
// at its own speed in the recording, however fast the page renders.
func TestVideoOfAVideo(t *testing.T) {
	needFFmpeg(t)
	b, cdn := mediaBrowser(t, 700*time.Millisecond)
	for _, path := range []string{"/slow/clip.webm", "/clip.webm"} {
		j := videoJob(`let vid;
function setup() { createCanvas(16, 16); pixelDensity(1); vid = createVideo('data/clip.webm'); vid.hide(); vid.loop(); }
function draw() { background(0, 0, 255); image(vid, 0, 0, 16, 16); }`, 16, 16, 1.5, 20, "")
		j.Assets = map[string]string{"data/clip.webm": cdn + path}
		out, err := b.RenderVideo(testenv.Context(t, time.Minute), j, VideoOptions{})
		if err != nil {
			t.Fatalf("%s: RenderVideo: %v", path, err)
		}
		n := 0
		err = video.Decode(testenv.Context(t, time.Minute), "", writeArtifact(t, out.Artifacts[0]), 16, 16, func(k int, rgb []byte) error {
			n++
			got := patch(rgb, 16, 4, 4, 8, 8)
			switch {
			case k == 0:
				// p5 1.x draws its first frame right after setup(), before
				// the video has loaded, as in a browser.
				if want := [3]int{0, 0, 255}; !near(got, want, 24) {
					t.Errorf("%s: frame 0 is %v; want the background, %v", path, got, want)
				}
			case k%2 == 1:
				// k/20 s, looped, half-way through one of the clip's
				// frames (an even k is where one ends and the next begins).
				if want := clipColor((k / 2) % 10); !near(got, want, 24) {
					t.Errorf("%s: frame %d is %v; want the clip's frame %d, %v", path, k, got, (k/2)%10, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != 30 {
			t.Errorf("%s: %d frames; want 30", path, n)
		}
	}
}

// TestAssetRanges: a declared file is served in ranges, as a media
// element needs to seek in it: a Range of one span gets 206 with its
// bytes and Content-Range, one past the end 416, and none the whole file
// with Accept-Ranges. Each check is one pixel of the picture, green when
// it holds. (A column of a 16x16 page: a smaller canvas comes out blank
// in a js page's screenshot.)
func TestAssetRanges(t *testing.T) {
	clip := tenFrames(t)
	b, cdn := mediaBrowser(t, 0)
	checks := []string{
		"206 for bytes=2-5", "Content-Range bytes 2-5/size", "the bytes 2 to 5",
		"206 and the last 3 bytes for bytes=-3", "416 for a range past the end",
		"200 and the whole file without a Range", "Accept-Ranges: bytes",
	}
	j := jsJob(`<canvas id="c" width="16" height="16" style="display:block"></canvas>`, `body{margin:0}`, fmt.Sprintf(`
const size = %d, b2 = %d, b5 = %d, last = %d;
const get = (range) => fetch('data/clip.webm', range ? { headers: { Range: range } } : {});
(async () => {
  const [a, tail, past, whole] = await Promise.all([get('bytes=2-5'), get('bytes=-3'), get('bytes=' + size + '-'), get('')]);
  const ab = new Uint8Array(await a.arrayBuffer()), tb = new Uint8Array(await tail.arrayBuffer()), wb = new Uint8Array(await whole.arrayBuffer());
  const ok = [
    a.status === 206,
    a.headers.get('content-range') === 'bytes 2-5/' + size,
    ab.length === 4 && ab[0] === b2 && ab[3] === b5,
    tail.status === 206 && tb.length === 3 && tb[2] === last,
    past.status === 416,
    whole.status === 200 && wb.length === size,
    whole.headers.get('accept-ranges') === 'bytes',
  ];
  const g = document.getElementById('c').getContext('2d');
  ok.forEach((v, i) => { g.fillStyle = v ? '#0f0' : '#f00'; g.fillRect(2 * i, 0, 2, 16); });
  capture();
})();`, len(clip), clip[2], clip[5], clip[len(clip)-1]), 16, 16, empplay.OutputPNG)
	j.Assets = map[string]string{"data/clip.webm": cdn + "/clip.webm"}
	_, img := mustRender(t, b, j)
	for i, c := range checks {
		if got := rgbAt(img, 2*i, 8); got != [3]int{0, 255, 0} {
			t.Errorf("%s: does not hold (%v)", c, got)
		}
	}
}

// rgbAt is the colour of img at x, y.
func rgbAt(img image.Image, x, y int) [3]int {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
}
