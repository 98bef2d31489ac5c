package render

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
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
	tests := []struct {
		name string
		img  image.Image
		want string
	}{
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
