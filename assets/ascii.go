// This file writes a p5 build in ASCII, so that Blink keeps its source at
// one byte a character.

package assets

import "unicode/utf8"

// escapeNonASCII returns the JavaScript source src with every code point
// above U+007F written as a \u escape (two, a surrogate pair, above
// U+FFFF), or src itself when it has none or is not valid UTF-8.
//
// Why: Blink decodes a script into a string of one byte a character when
// every character is Latin-1 and of two bytes otherwise, and the p5 builds
// have a few hundred characters beyond Latin-1 (symbols and scripts in
// their strings), so each job's renderer held p5.js as 2 MB of UTF-16. In
// ASCII it is 1 MB, and a static p5 job touches about 1,250 fewer pages
// (docs/rendering.md, "Cutting the CPU per job").
//
// It is the same program where the characters are in strings, regular
// expressions, untagged templates, block comments and identifiers, which
// accept the escape and mean the same by it. A character that follows an
// odd run of backslashes is already escaped ("\é" is "é"), and its escape
// takes over that backslash, except a line separator there, which
// continues the line and is left as it is. Elsewhere the escape would
// change the program: white space or a line terminator between tokens
// (then a syntax error), a line separator in a line comment (which ended
// it), a tagged template's raw text. Minified builds have none of these,
// and assets/p5source.test.js checks with a JavaScript tokenizer that the
// pinned builds have their characters only where the escape means the
// same.
func escapeNonASCII(src []byte) []byte {
	wide := 0
	for _, c := range src {
		if c >= utf8.RuneSelf {
			wide++
		}
	}
	if wide == 0 || !utf8.Valid(src) {
		return src
	}
	out := make([]byte, 0, len(src)+3*wide)
	backslashes := 0
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			if c == '\\' {
				backslashes++
			} else {
				backslashes = 0
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case backslashes%2 == 1 && (r == '\u2028' || r == '\u2029'):
			out = append(out, src[i:i+size]...)
		case backslashes%2 == 1:
			out = appendEscape(out[:len(out)-1], r)
		default:
			out = appendEscape(out, r)
		}
		backslashes = 0
		i += size
	}
	return out
}

// appendEscape appends r as one \u escape, or two (a surrogate pair)
// above U+FFFF.
func appendEscape(out []byte, r rune) []byte {
	if r > 0xFFFF {
		r -= 0x10000
		out = appendUnit(out, 0xD800+(r>>10))
		return appendUnit(out, 0xDC00+(r&0x3FF))
	}
	return appendUnit(out, r)
}

// appendUnit appends \u and the four hex digits of the UTF-16 unit u.
func appendUnit(out []byte, u rune) []byte {
	const hex = "0123456789abcdef"
	return append(out, '\\', 'u', hex[u>>12&0xF], hex[u>>8&0xF], hex[u>>4&0xF], hex[u&0xF])
}
