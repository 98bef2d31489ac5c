// This file turns chromedp's JSON into CBOR for the browser.

package cdpcbor

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// FromJSON appends to dst the CBOR form of msg, one JSON object: a protocol
// message chromedp wrote.
func FromJSON(dst, msg []byte) ([]byte, error) {
	return fromJSON(dst, msg, nil)
}

func fromJSON(dst, msg []byte, refs *Refs) ([]byte, error) {
	e := encoder{b: msg, refs: refs}
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
	b    []byte
	refs *Refs // nil: no string is a reference
	i    int
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
		err = e.members('}', func() error {
			if e.space(); e.i >= len(e.b) || e.b[e.i] != '"' {
				return e.errorf("an object's key is a string")
			}
			var err error
			if dst, err = e.str(dst); err != nil {
				return err
			}
			if err := e.expect(':'); err != nil {
				return err
			}
			dst, err = e.value(dst, depth+1)
			return err
		})
		if err != nil {
			return dst, err
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
		err = e.members(']', func() error {
			var err error
			dst, err = e.value(dst, depth+1)
			return err
		})
		if err != nil {
			return dst, err
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

// members runs member for each member of the object or array whose
// opening bracket e.i has passed, up to its closing bracket end: members
// separated by commas, none after the last.
func (e *encoder) members(end byte, member func() error) error {
	if e.space(); e.i < len(e.b) && e.b[e.i] == end {
		e.i++
		return nil
	}
	for {
		if err := member(); err != nil {
			return err
		}
		if e.space(); e.i < len(e.b) && e.b[e.i] == end {
			e.i++
			return nil
		}
		if err := e.expect(','); err != nil {
			return err
		}
	}
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
		if data, ok := e.refs.take(raw); ok {
			return appendBinary(dst, data), nil
		}
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
	f, _ := strconv.ParseFloat(text, 64) // value has checked its syntax
	return binary.BigEndian.AppendUint64(append(dst, float64Byte), math.Float64bits(f))
}
