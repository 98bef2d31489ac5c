package cdpcbor

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// CBOR's major types, in the top three bits of an item's first byte.
const (
	majorUint   = 0
	majorNegInt = 1
	majorBytes  = 2
	majorText   = 3
	majorArray  = 4
	majorMap    = 5
	majorTag    = 6
	majorSimple = 7
)

const (
	envelopeTag     = 24   // an embedded CBOR item (RFC 8949 3.4.5.1)
	binaryTag       = 22   // a byte string that JSON shows in base64
	indefiniteArray = 0x9f // an array whose end is a break
	indefiniteMap   = 0xbf // a map whose end is a break
	breakByte       = 0xff
	falseByte       = 0xf4
	trueByte        = 0xf5
	nullByte        = 0xf6
	undefinedByte   = 0xf7
	float32Byte     = 0xfa
	float64Byte     = 0xfb
	// envelopeHeader is the size of an envelope's start: the tag (two
	// bytes), then the byte string's head with a 32-bit length.
	envelopeHeader = 7
)

// maxDepth bounds the nesting of a message, as Chromium's own parsers do.
const maxDepth = 300

// ErrSyntax wraps every error about a malformed message.
var ErrSyntax = errors.New("cdpcbor: malformed message")

// FromJSON appends to dst the CBOR form of msg, one JSON object: a protocol
// message chromedp wrote.
func FromJSON(dst, msg []byte) ([]byte, error) {
	e := encoder{b: msg}
	e.space()
	if e.i >= len(msg) || msg[e.i] != '{' {
		return dst, e.errorf("a message is a JSON object")
	}
	out, err := e.value(dst, 0)
	if err != nil {
		return dst, err
	}
	if e.space(); e.i != len(msg) {
		return dst, e.errorf("more after the message's object")
	}
	return out, nil
}

// encoder reads JSON from b, from i on. A hand-written scanner rather than
// a JSON library: a message is mostly one long string (base64), which it
// copies as it is.
type encoder struct {
	b []byte
	i int
}

func (e *encoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at JSON byte %d: %s", ErrSyntax, e.i, fmt.Sprintf(format, args...))
}

func (e *encoder) space() {
	for e.i < len(e.b) {
		switch e.b[e.i] {
		case ' ', '\t', '\n', '\r':
			e.i++
		default:
			return
		}
	}
}

// expect consumes c after any space, or fails.
func (e *encoder) expect(c byte) error {
	if e.space(); e.i < len(e.b) && e.b[e.i] == c {
		e.i++
		return nil
	}
	return e.errorf("want %q", c)
}

// value appends the CBOR form of the JSON value at e.i.
func (e *encoder) value(dst []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, e.errorf("nested deeper than %d", maxDepth)
	}
	e.space()
	if e.i >= len(e.b) {
		return dst, e.errorf("the message ends early")
	}
	var err error
	switch c := e.b[e.i]; {
	case c == '{':
		e.i++
		// The envelope's length is filled in at the map's end.
		start := len(dst)
		dst = append(dst, majorTag<<5|24, envelopeTag, majorBytes<<5|26, 0, 0, 0, 0, indefiniteMap)
		for first := true; ; first = false {
			if e.space(); e.i < len(e.b) && e.b[e.i] == '}' {
				e.i++
				break
			}
			if !first {
				if err := e.expect(','); err != nil {
					return dst, err
				}
				e.space()
			}
			if e.i >= len(e.b) || e.b[e.i] != '"' {
				return dst, e.errorf("an object's key is a string")
			}
			if dst, err = e.str(dst); err != nil {
				return dst, err
			}
			if err := e.expect(':'); err != nil {
				return dst, err
			}
			if dst, err = e.value(dst, depth+1); err != nil {
				return dst, err
			}
		}
		dst = append(dst, breakByte)
		size := len(dst) - start - envelopeHeader
		if size > math.MaxUint32 {
			return dst, e.errorf("an object of %d bytes", size)
		}
		binary.BigEndian.PutUint32(dst[start+3:], uint32(size))
		return dst, nil
	case c == '[':
		e.i++
		dst = append(dst, indefiniteArray)
		for first := true; ; first = false {
			if e.space(); e.i < len(e.b) && e.b[e.i] == ']' {
				e.i++
				break
			}
			if !first {
				if err := e.expect(','); err != nil {
					return dst, err
				}
			}
			if dst, err = e.value(dst, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, breakByte), nil
	case c == '"':
		return e.str(dst)
	case c == '-' || c >= '0' && c <= '9':
		j := e.i
		for j < len(e.b) && strings.IndexByte("+-.0123456789eE", e.b[j]) >= 0 {
			j++
		}
		text := string(e.b[e.i:j])
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return dst, e.errorf("number %q", text)
		}
		e.i = j
		return appendNumber(dst, text), nil
	}
	for _, lit := range [...]struct {
		text string
		cbor byte
	}{{"true", trueByte}, {"false", falseByte}, {"null", nullByte}} {
		if bytes.HasPrefix(e.b[e.i:], []byte(lit.text)) {
			e.i += len(lit.text)
			return append(dst, lit.cbor), nil
		}
	}
	return dst, e.errorf("unexpected %q", e.b[e.i])
}

// str appends the CBOR form of the JSON string at e.i. A string without
// escapes is copied as it is.
func (e *encoder) str(dst []byte) ([]byte, error) {
	start := e.i + 1
	ascii, escaped := true, false
	j := start
	for ; j < len(e.b); j++ {
		c := e.b[j]
		if c == '"' {
			break
		}
		switch {
		case c == '\\':
			escaped = true
			j++ // the escaped character, which may be a quote
		case c < 0x20:
			return dst, e.errorf("a control character in a string")
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if j >= len(e.b) {
		return dst, e.errorf("a string that does not end")
	}
	raw := e.b[start:j]
	e.i = j + 1
	if !escaped && ascii {
		return append(appendHead(dst, majorText, uint64(len(raw))), raw...), nil
	}
	s, err := jsontext.AppendUnquote(nil, e.b[start-1:j+1])
	if err != nil {
		return dst, e.errorf("string: %v", err)
	}
	return appendString(dst, string(s)), nil
}

// appendHead appends the head of an item of major type major with
// argument n.
func appendHead(dst []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(dst, m|byte(n))
	case n <= math.MaxUint8:
		return append(dst, m|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, m|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, m|27), n)
}

// appendString appends s as Chromium does: UTF-8 text when it is ASCII,
// else a byte string of its UTF-16LE code units.
func appendString(dst []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return append(appendHead(dst, majorText, uint64(len(s))), s...)
	}
	units := utf16.Encode([]rune(s))
	dst = appendHead(dst, majorBytes, uint64(2*len(units)))
	for _, u := range units {
		dst = binary.LittleEndian.AppendUint16(dst, u)
	}
	return dst
}

// appendNumber appends the JSON number text: an integer that fits 32
// bits as one, any other number as a double.
func appendNumber(dst []byte, text string) []byte {
	if n, err := strconv.ParseInt(text, 10, 32); err == nil {
		if n >= 0 {
			return appendHead(dst, majorUint, uint64(n))
		}
		return appendHead(dst, majorNegInt, uint64(-1-n))
	}
	f, _ := strconv.ParseFloat(text, 64) // jsontext has checked its syntax
	return binary.BigEndian.AppendUint64(append(dst, float64Byte), math.Float64bits(f))
}

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
	case majorArray:
		dst = append(dst, '[')
		for k := uint64(0); indefinite || k < arg; k++ {
			if indefinite && d.i < len(d.b) && d.b[d.i] == breakByte {
				d.i++
				break
			}
			if k > 0 {
				dst = append(dst, ',')
			}
			if dst, err = d.value(dst, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case majorMap:
		dst = append(dst, '{')
		for k := uint64(0); indefinite || k < arg; k++ {
			if indefinite && d.i < len(d.b) && d.b[d.i] == breakByte {
				d.i++
				break
			}
			if k > 0 {
				dst = append(dst, ',')
			}
			if d.i < len(d.b) && d.b[d.i]>>5 != majorText && d.b[d.i]>>5 != majorBytes {
				return dst, d.errorf("a map key that is not a string")
			}
			if dst, err = d.value(dst, depth+1); err != nil {
				return dst, err
			}
			dst = append(dst, ':')
			if dst, err = d.value(dst, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
	return dst, d.errorf("item of major type %d is not supported", major)
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
