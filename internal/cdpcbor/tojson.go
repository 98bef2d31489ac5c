// This file turns the browser's CBOR into JSON for chromedp.

package cdpcbor

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ToJSON appends to dst the JSON form of msg, one CBOR message: an
// envelope that holds a map.
func ToJSON(dst, msg []byte) ([]byte, error) {
	if len(msg) < envelopeHeader || msg[0] != majorTag<<5|24 || msg[1] != envelopeTag {
		return dst, fmt.Errorf("%w: a message starts with an envelope", ErrSyntax)
	}
	d := decoder{b: msg}
	out, err := d.value(dst, 0)
	if err != nil {
		return dst, err
	}
	if d.i != len(d.b) {
		return dst, fmt.Errorf("%w: %d bytes after the message", ErrSyntax, len(d.b)-d.i)
	}
	return out, nil
}

// decoder reads CBOR items from b, from i on.
type decoder struct {
	b []byte
	i int
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrSyntax, d.i, fmt.Sprintf(format, args...))
}

// head reads an item's first byte and its argument: the value, length or
// count, and whether it is of indefinite length.
func (d *decoder) head() (major byte, arg uint64, indefinite bool, err error) {
	if d.i >= len(d.b) {
		return 0, 0, false, d.errorf("the message ends early")
	}
	first := d.b[d.i]
	d.i++
	major, info := first>>5, first&0x1f
	var n int
	switch {
	case info < 24:
		return major, uint64(info), false, nil
	case info == 24:
		n = 1
	case info == 25:
		n = 2
	case info == 26:
		n = 4
	case info == 27:
		n = 8
	case info == 31 && (major == majorArray || major == majorMap):
		return major, 0, true, nil
	default:
		return 0, 0, false, d.errorf("item 0x%02x is not supported", first)
	}
	if d.i+n > len(d.b) {
		return 0, 0, false, d.errorf("the message ends early")
	}
	for _, c := range d.b[d.i : d.i+n] {
		arg = arg<<8 | uint64(c)
	}
	d.i += n
	return major, arg, false, nil
}

// bytes returns the next n bytes.
func (d *decoder) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(d.b)-d.i) {
		return nil, d.errorf("a string of %d bytes, past the message's end", n)
	}
	s := d.b[d.i : d.i+int(n)]
	d.i += int(n)
	return s, nil
}

// value appends the JSON form of the next item.
func (d *decoder) value(dst []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, d.errorf("nested deeper than %d", maxDepth)
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case falseByte:
			d.i++
			return append(dst, "false"...), nil
		case trueByte:
			d.i++
			return append(dst, "true"...), nil
		case nullByte, undefinedByte:
			d.i++
			return append(dst, "null"...), nil
		case float64Byte:
			b, err := d.bytes(9)
			if err != nil {
				return dst, err
			}
			return appendFloat(dst, math.Float64frombits(binary.BigEndian.Uint64(b[1:]))), nil
		case float32Byte:
			b, err := d.bytes(5)
			if err != nil {
				return dst, err
			}
			return appendFloat(dst, float64(math.Float32frombits(binary.BigEndian.Uint32(b[1:])))), nil
		}
	}
	major, arg, indefinite, err := d.head()
	if err != nil {
		return dst, err
	}
	switch major {
	case majorUint:
		return strconv.AppendUint(dst, arg, 10), nil
	case majorNegInt:
		if arg > math.MaxInt64 {
			return dst, d.errorf("a negative integer below -2^63")
		}
		return strconv.AppendInt(dst, -1-int64(arg), 10), nil
	case majorText:
		s, err := d.bytes(arg)
		if err != nil {
			return dst, err
		}
		return appendJSONString(dst, s), nil
	case majorBytes: // untagged: a string's UTF-16LE code units
		s, err := d.bytes(arg)
		if err != nil {
			return dst, err
		}
		if len(s)%2 != 0 {
			return dst, d.errorf("a UTF-16 string of %d bytes", len(s))
		}
		units := make([]uint16, len(s)/2)
		for k := range units {
			units[k] = binary.LittleEndian.Uint16(s[2*k:])
		}
		return appendJSONString(dst, []byte(string(utf16.Decode(units)))), nil
	case majorTag:
		return d.tagged(dst, arg, depth)
	case majorArray, majorMap:
		return d.container(dst, major == majorMap, arg, indefinite, depth)
	}
	return dst, d.errorf("item of major type %d is not supported", major)
}

// container appends the JSON form of an array or map of n items (pairs),
// or of items up to a break when it is of indefinite length.
func (d *decoder) container(dst []byte, isMap bool, n uint64, indefinite bool, depth int) ([]byte, error) {
	open, end := byte('['), byte(']')
	if isMap {
		open, end = '{', '}'
	}
	dst = append(dst, open)
	var err error
	for k := uint64(0); indefinite || k < n; k++ {
		if indefinite && d.i < len(d.b) && d.b[d.i] == breakByte {
			d.i++
			break
		}
		if k > 0 {
			dst = append(dst, ',')
		}
		if isMap {
			if d.i < len(d.b) && d.b[d.i]>>5 != majorText && d.b[d.i]>>5 != majorBytes {
				return dst, d.errorf("a map key that is not a string")
			}
			if dst, err = d.value(dst, depth+1); err != nil {
				return dst, err
			}
			dst = append(dst, ':')
		}
		if dst, err = d.value(dst, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, end), nil
}

// tagged appends the JSON form of the item that tag tag marks.
func (d *decoder) tagged(dst []byte, tag uint64, depth int) ([]byte, error) {
	major, arg, _, err := d.head()
	if err != nil {
		return dst, err
	}
	if major != majorBytes {
		return dst, d.errorf("tag %d on an item of major type %d", tag, major)
	}
	s, err := d.bytes(arg)
	if err != nil {
		return dst, err
	}
	switch tag {
	case envelopeTag: // an item inside: the map itself
		inner := decoder{b: s}
		if dst, err = inner.value(dst, depth+1); err != nil {
			return dst, err
		}
		if inner.i != len(s) {
			return dst, d.errorf("%d bytes after an envelope's item", len(s)-inner.i)
		}
		return dst, nil
	case binaryTag:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, s)
		return append(dst, '"'), nil
	}
	return dst, d.errorf("tag %d is not supported", tag)
}

// appendFloat appends f as JSON: an integral value of at most 2^53 as an
// integer (as Chromium writes it, and as a Go integer field reads it),
// NaN and the infinities as null.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return append(dst, "null"...)
	case f == math.Trunc(f) && math.Abs(f) <= 1<<53:
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

const hex = "0123456789abcdef"

// appendJSONString appends s, UTF-8, as a JSON string; an invalid byte
// becomes U+FFFD.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
