package render

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"io"
)

// fullyTransparent is what blankPicture says of a picture without a visible
// pixel.
const fullyTransparent = "fully transparent"

// maxWarnings bounds a result's warnings (prelude.js keeps at most 20).
const maxWarnings = 21

// Bounds on the pictures blankPicture looks into. A canvas has at most
// 2^28 pixels (Chromium's limit), and its PNG (8-bit RGB or RGBA, not
// interlaced) is read a row at a time; a PNG of another kind, which
// Chromium does not write, is decoded whole only up to maxDecodePixels.
const (
	maxScanPixels   = 1 << 28
	maxScanWidth    = 1 << 16
	maxDecodePixels = 1 << 22
)

// blankPicture reports whether every pixel of a PNG of w x h pixels is the
// same colour, or fully transparent, and says which. A picture with that
// little in it compresses by far more than 20:1 in any encoder, so a larger
// PNG is not looked into at all. The PNG is the page's: its size is
// whatever its header says, so it is read a row at a time (see blankRows),
// never decoded whole at that size.
func blankPicture(data []byte, w, h int) (string, bool) {
	if w <= 0 || h <= 0 || int64(w)*int64(h) > maxScanPixels || int64(len(data)) > int64(w)*int64(h)*4/20+4096 {
		return "", false
	}
	if what, blank, ok := blankRows(data); ok {
		return what, blank
	}
	if int64(w)*int64(h) > maxDecodePixels {
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

// pngSignature starts every PNG.
const pngSignature = "\x89PNG\r\n\x1a\n"

// blankRows is blankPicture for an 8-bit RGB or RGBA PNG that is not
// interlaced, what Chromium writes: it inflates and unfilters one row at
// a time, keeping two rows, and stops at the first row that settles it.
// ok is false for a PNG of another kind. A PNG that ends early or is
// corrupt is not blank.
func blankRows(data []byte) (what string, blank, ok bool) {
	if len(data) < len(pngSignature) || string(data[:len(pngSignature)]) != pngSignature {
		return "", false, false
	}
	var (
		w, h  int
		bpp   int
		idats []io.Reader
	)
	for rest := data[len(pngSignature):]; len(rest) >= 12; {
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-12) {
			return "", false, true // cut short
		}
		typ, body := string(rest[4:8]), rest[8:8+n]
		rest = rest[12+n:]
		switch typ {
		case "IHDR":
			if len(body) != 13 || body[8] != 8 || body[12] != 0 || (body[9] != 2 && body[9] != 6) {
				return "", false, false
			}
			w, h = int(binary.BigEndian.Uint32(body)), int(binary.BigEndian.Uint32(body[4:]))
			bpp = 3
			if body[9] == 6 {
				bpp = 4
			}
		case "IDAT":
			idats = append(idats, bytes.NewReader(body))
		}
		if typ == "IEND" {
			break
		}
	}
	if w <= 0 || h <= 0 || w > maxScanWidth || int64(w)*int64(h) > maxScanPixels {
		return "", false, false
	}
	zr, err := zlib.NewReader(io.MultiReader(idats...))
	if err != nil {
		return "", false, true
	}
	defer zr.Close()
	stride := w * bpp
	// Two rows, each with its filter byte: the one read and the one above.
	bufs := [2][]byte{make([]byte, 1+stride), make([]byte, 1+stride)}
	p0 := make([]byte, 4)
	same, clear := true, bpp == 4
	for y := 0; y < h && (same || clear); y++ {
		cur, prev := bufs[y%2], bufs[(y+1)%2][1:]
		if _, err := io.ReadFull(zr, cur); err != nil {
			return "", false, true
		}
		row := cur[1:]
		if !unfilter(cur[0], row, prev, bpp) {
			return "", false, true
		}
		if y == 0 {
			copy(p0, row[:bpp])
		}
		for i := 0; i < stride; i += bpp {
			px := row[i : i+bpp]
			if clear && px[3] != 0 {
				clear = false
			}
			if same && !bytes.Equal(px, p0[:bpp]) {
				same = false
			}
		}
	}
	switch {
	case clear:
		return fullyTransparent, true, true
	case same:
		a := byte(255)
		if bpp == 4 {
			a = p0[3]
		}
		return fmt.Sprintf("rgba(%d, %d, %d, %d)", p0[0], p0[1], p0[2], a), true, true
	}
	return "", false, true
}

// unfilter undoes a PNG row's filter in place, given the row above (zeros
// for the first); false for an unknown filter.
func unfilter(filter byte, row, prev []byte, bpp int) bool {
	switch filter {
	case 0:
	case 1: // Sub
		for i := bpp; i < len(row); i++ {
			row[i] += row[i-bpp]
		}
	case 2: // Up
		for i := range row {
			row[i] += prev[i]
		}
	case 3: // Average
		for i := range row {
			var left byte
			if i >= bpp {
				left = row[i-bpp]
			}
			row[i] += byte((int(left) + int(prev[i])) / 2)
		}
	case 4: // Paeth
		for i := range row {
			var a, c int
			if i >= bpp {
				a, c = int(row[i-bpp]), int(prev[i-bpp])
			}
			b := int(prev[i])
			p := a + b - c
			pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
			switch {
			case pa <= pb && pa <= pc:
				row[i] += byte(a)
			case pb <= pc:
				row[i] += byte(b)
			default:
				row[i] += byte(c)
			}
		}
	default:
		return false
	}
	return true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
