package render

import (
	"encoding/base64"
	"encoding/json"
	"image/color"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestReportParts: a report whose tail came ahead in parts gets it back
// whole, and only from the page the tab shows now.
func TestReportParts(t *testing.T) {
	const origin, other = "https://a.test", "https://b.test"
	part := func(from, data string) string { return partMark + from + "\n" + data }
	big := strings.Repeat("A", maxReportTail/2)
	tests := []struct {
		name   string
		parts  []string
		header string
		want   int // parts the report announces
		// wantTail is the payload's tail after the header; wantErr a
		// substring of the error report that replaces it instead.
		wantTail, wantErr string
	}{
		{name: "no parts", header: `{"type":"done","origin":"` + origin + `"}`, wantTail: "tail"},
		{
			name:   "in order",
			parts:  []string{part(origin, "AAAA"), part(origin, "BBBB"), part(origin, "CC==")},
			header: `{"type":"done","origin":"` + origin + `","parts":3}`, want: 3,
			wantTail: "AAAABBBBCC==",
		},
		{
			name:   "another page's parts are not heard",
			parts:  []string{part(other, "XXXX"), part(origin, "AAAA"), part(other, "YYYY"), part(origin, "BB==")},
			header: `{"type":"done","origin":"` + origin + `","parts":2}`, want: 2,
			wantTail: "AAAABB==",
		},
		{
			name:   "one missing",
			parts:  []string{part(origin, "AAAA")},
			header: `{"type":"done","origin":"` + origin + `","parts":2}`, want: 2,
			wantErr: "announced 2 parts and sent 1",
		},
		{
			name:   "a part without an origin",
			parts:  []string{partMark + "AAAA"},
			header: `{"type":"done","origin":"` + origin + `","parts":1}`, want: 1,
			wantErr: "announced 1 parts and sent 0",
		},
		{
			name:   "past the bound",
			parts:  []string{part(origin, big), part(origin, big), part(origin, "AAAA")},
			header: `{"type":"done","origin":"` + origin + `","parts":3}`, want: 3,
			wantErr: "over 256 MiB",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &tab{origin: origin, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			for _, p := range tt.parts {
				tb.addPart(p)
			}
			payload := tt.header + "\ntail"
			header, n, ok := tb.fromCurrentPage(payload)
			if !ok || header != tt.header || n != tt.want {
				t.Fatalf("fromCurrentPage = %q, %d, %v; want the header, %d, true", header, n, ok, tt.want)
			}
			got := tb.withParts(payload, header, n)
			if tt.wantErr != "" {
				var m message
				if err := json.Unmarshal([]byte(got), &m); err != nil || m.Type != "error" || !strings.Contains(m.Message, tt.wantErr) {
					t.Fatalf("report = %.200q (%v); want an error report saying %q", got, err, tt.wantErr)
				}
				return
			}
			if want := tt.header + "\n" + tt.wantTail; got != want {
				t.Fatalf("report = %.200q, want %.200q", got, want)
			}
			// The parts are used once.
			if again := tb.withParts(tt.header+"\n", tt.header, 0); again != tt.header+"\n" {
				t.Errorf("a second report got %.200q", again)
			}
			if tb.parts.list != nil || tb.parts.size != 0 {
				t.Errorf("parts kept after the report: %d of them", len(tb.parts.list))
			}
		})
	}
}

// A report that names no page, or is not JSON, is not taken: the prelude
// names its page's origin in every report, so only a page's own code
// calling the binding sends one without.
func TestReportWithoutOriginRefused(t *testing.T) {
	const origin = "https://a.test"
	for _, payload := range []string{
		`{"type":"done"}` + "\n",
		`{"type":"done","origin":""}` + "\nAAAA",
		`not json` + "\n",
		``,
	} {
		tb := &tab{origin: origin, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if _, _, ok := tb.fromCurrentPage(payload); ok {
			t.Errorf("report %q was taken", payload)
		}
	}
	tb := &tab{origin: origin, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, _, ok := tb.fromCurrentPage(`{"type":"done","origin":"` + origin + `"}` + "\n"); !ok {
		t.Error("the current page's report was refused")
	}
}

// TestReportPartsLeftPage: a report from a page the tab has left is not
// taken, and the parts that page sent do not reach the next page's report.
func TestReportPartsLeftPage(t *testing.T) {
	const left, now = "https://a.test", "https://b.test"
	tb := &tab{origin: left, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	tb.addPart(partMark + left + "\nAAAA")
	tb.mu.Lock()
	tb.origin = now
	tb.mu.Unlock()
	if _, _, ok := tb.fromCurrentPage(`{"type":"done","origin":"` + left + `","parts":1}` + "\n"); ok {
		t.Fatal("the left page's report was taken")
	}
	header := `{"type":"done","origin":"` + now + `","parts":1}`
	got := tb.withParts(header+"\n", header, 1)
	var m message
	if err := json.Unmarshal([]byte(got), &m); err != nil || m.Type != "error" {
		t.Fatalf("report = %.200q; want an error report: the left page's part is not the next page's", got)
	}
}

// TestRenderPictureInParts renders a picture whose PNG is too large for one
// part (high-entropy pixels barely compress) and checks every pixel: the
// parts arrive whole and in order.
func TestRenderPictureInParts(t *testing.T) {
	b := sharedBrowser(t)
	const w, h = 300, 200
	// A 32-bit mix of the pixel's index, the same in JavaScript and Go.
	mix := func(i uint32) uint32 {
		v := i * 0x9E3779B1
		v ^= v >> 15
		v *= 0x85EBCA77
		return v ^ v>>13
	}
	code := `
function setup() {
  createCanvas(300, 200);
  pixelDensity(1);
  loadPixels();
  for (let i = 0; i < width * height; i++) {
    let v = Math.imul(i, 0x9E3779B1) >>> 0;
    v = (v ^ (v >>> 15)) >>> 0;
    v = Math.imul(v, 0x85EBCA77) >>> 0;
    v = (v ^ (v >>> 13)) >>> 0;
    pixels[4 * i] = v & 255;
    pixels[4 * i + 1] = (v >>> 8) & 255;
    pixels[4 * i + 2] = (v >>> 16) & 255;
    pixels[4 * i + 3] = 255;
  }
  updatePixels();
}`
	out, img := mustRender(t, b, job(code, w, h))
	if n := base64.StdEncoding.EncodedLen(len(out.Artifacts[0].Body)); n <= 4*reportPart {
		t.Fatalf("the PNG's base64 is %d characters, not over 4 parts of %d: the test does not test parts", n, reportPart)
	} else {
		t.Logf("%d bytes of PNG, %d parts", len(out.Artifacts[0].Body), (n+reportPart-1)/reportPart)
	}
	n := fidNRGBA(img)
	if b := n.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("picture %v, want %dx%d", b, w, h)
	}
	bad := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := mix(uint32(y*w + x))
			want := color.NRGBA{uint8(v), uint8(v >> 8), uint8(v >> 16), 255}
			if got := n.NRGBAAt(x, y); got != want {
				if bad < 5 {
					t.Errorf("pixel (%d,%d) = %v, want %v", x, y, got, want)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d pixels differ", bad, w*h)
	}
}
