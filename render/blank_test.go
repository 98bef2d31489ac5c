package render

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"runtime"
	"testing"
)

func TestBlankPicture(t *testing.T) {
	t.Parallel()
	encode := func(img image.Image) []byte {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	fill := func(w, h int, c color.NRGBA) *image.NRGBA {
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
		}
		return img
	}
	oneDot := fill(50, 40, color.NRGBA{200, 200, 200, 255})
	oneDot.Set(49, 39, color.NRGBA{200, 200, 201, 255})
	clearish := fill(50, 40, color.NRGBA{0, 0, 0, 0})
	clearish.Set(10, 10, color.NRGBA{255, 0, 0, 0}) // transparent, other colour
	gray := image.NewGray(image.Rect(0, 0, 20, 20))
	noise := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range noise.Pix {
		noise.Pix[i] = byte(i*7919 + i/3)
	}
	firstRow := fill(50, 40, color.NRGBA{9, 8, 7, 255})
	firstRow.Set(3, 0, color.NRGBA{9, 8, 6, 255})
	lastVisible := fill(50, 40, color.NRGBA{0, 0, 0, 0})
	lastVisible.Set(49, 39, color.NRGBA{0, 0, 0, 1})
	// Rows that Go's encoder filters in every way (Sub, Up, Average,
	// Paeth), with one pixel off at the end.
	gradient := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			gradient.Set(x, y, color.NRGBA{uint8(x * 4), uint8(y * 4), uint8(x + y), 255})
		}
	}
	tests := []struct {
		name string
		img  image.Image
		want string
	}{
		{"one pixel differs in the first row", firstRow, ""},
		{"transparent but the last pixel", lastVisible, ""},
		{"half transparent, one colour", fill(30, 30, color.NRGBA{10, 20, 30, 128}), "rgba(10, 20, 30, 128)"},
		{"gradient", gradient, ""},
		{"solid grey", fill(50, 40, color.NRGBA{200, 200, 200, 255}), "rgba(200, 200, 200, 255)"},
		{"transparent", fill(50, 40, color.NRGBA{0, 0, 0, 0}), "fully transparent"},
		{"transparent with hidden colours", clearish, "fully transparent"},
		{"one pixel differs", oneDot, ""},
		{"gray image", gray, "rgba(0, 0, 0, 255)"},
		{"noise", noise, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.img.Bounds()
			what, blank := blankPicture(encode(tc.img), b.Dx(), b.Dy())
			if blank != (tc.want != "") || what != tc.want {
				t.Errorf("blankPicture = %q, %v; want %q", what, blank, tc.want)
			}
		})
	}
}

// bombPNG is an RGBA PNG of w x h transparent pixels, a few hundred bytes
// per megapixel.
func bombPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(pngSignature)
	chunk := func(typ string, body []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(body)))
		buf.Write(n[:])
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(body)
		buf.WriteString(typ)
		buf.Write(body)
		binary.BigEndian.PutUint32(n[:], c.Sum32())
		buf.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 6
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+4*w)
	for range h {
		if _, err := zw.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return buf.Bytes()
}

// TestBlankPictureOfAHugePNG: the page chooses its PNG's size. A small
// PNG that says it has 3000x3000 pixels (36 MB decoded) is found fully
// transparent a row at a time, allocating a few rows, not the picture.
//
// Not parallel: TotalAlloc counts the whole process, so the test runs
// while the package's parallel tests wait, and keeps the least of three
// tries in case something in the background allocated meanwhile.
func TestBlankPictureOfAHugePNG(t *testing.T) {
	data := bombPNG(t, 3000, 3000)
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		what, blank := blankPicture(data, 3000, 3000)
		runtime.ReadMemStats(&after)
		if !blank || what != fullyTransparent {
			t.Fatalf("blankPicture = %q, %v; want fully transparent", what, blank)
		}
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	if least > 8<<20 {
		t.Errorf("blankPicture allocated %d MiB for a %d KiB PNG", least>>20, len(data)>>10)
	}
	// Wider than any canvas, and too big to decode whole: not looked
	// into.
	if _, blank := blankPicture(bombPNG(t, 1<<17, 33), 1<<17, 33); blank {
		t.Error("a PNG wider than a canvas can be was decoded")
	}
}
