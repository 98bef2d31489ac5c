package render

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
)

// fullyTransparent is what blankPicture says of a picture without a visible
// pixel.
const fullyTransparent = "fully transparent"

// maxWarnings bounds a result's warnings (prelude.js keeps at most 20).
const maxWarnings = 21

// blankPicture reports whether every pixel of a PNG of w x h pixels is the
// same colour, or fully transparent, and says which. A picture with that
// little in it compresses by far more than 20:1 in any encoder, so a larger
// PNG is not decoded at all.
func blankPicture(data []byte, w, h int) (string, bool) {
	if len(data) > w*h*4/20+4096 {
		return "", false
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return "", false
	}
	b := img.Bounds()
	if b.Empty() {
		return "", false
	}
	first := img.At(b.Min.X, b.Min.Y)
	r0, g0, b0, a0 := first.RGBA()
	same, clear := true, true
	if nrgba, ok := img.(*image.NRGBA); ok {
		// The common case, without an interface call per pixel.
		p0 := nrgba.Pix[nrgba.PixOffset(b.Min.X, b.Min.Y):][:4]
		for y := b.Min.Y; y < b.Max.Y && (same || clear); y++ {
			row := nrgba.Pix[nrgba.PixOffset(b.Min.X, y):][:4*b.Dx()]
			for i := 0; i < len(row); i += 4 {
				if row[i+3] != 0 {
					clear = false
				}
				if row[i] != p0[0] || row[i+1] != p0[1] || row[i+2] != p0[2] || row[i+3] != p0[3] {
					same = false
				}
			}
		}
	} else {
		for y := b.Min.Y; y < b.Max.Y && (same || clear); y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, a := img.At(x, y).RGBA()
				if a != 0 {
					clear = false
				}
				if r != r0 || g != g0 || bl != b0 || a != a0 {
					same = false
				}
			}
		}
	}
	switch {
	case clear:
		return fullyTransparent, true
	case same:
		c := image.NewNRGBA(image.Rect(0, 0, 1, 1))
		c.Set(0, 0, first)
		return fmt.Sprintf("rgba(%d, %d, %d, %d)", c.Pix[0], c.Pix[1], c.Pix[2], c.Pix[3]), true
	}
	return "", false
}
