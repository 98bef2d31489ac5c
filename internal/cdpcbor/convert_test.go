package cdpcbor

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// env wraps content in an envelope, as Chromium does every map.
func env(content ...byte) []byte {
	n := len(content)
	return append([]byte{0xd8, 0x18, 0x5a, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, content...)
}

func TestFromJSONBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		json string
		want []byte
	}{
		{"empty object", `{}`, env(0xbf, 0xff)},
		{"small integer", `{"id":1}`, env(0xbf, 0x62, 'i', 'd', 0x01, 0xff)},
		{"negative and one-byte integers", `{"a":-1,"b":24}`, env(0xbf, 0x61, 'a', 0x20, 0x61, 'b', 0x18, 24, 0xff)},
		{"an integer past 32 bits is a double", `{"a":2147483648}`, env(0xbf, 0x61, 'a', 0xfb, 0x41, 0xe0, 0, 0, 0, 0, 0, 0, 0xff)},
		{"a fraction", `{"a":1.5}`, env(0xbf, 0x61, 'a', 0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xff)},
		{"literals and an array", `{"a":[true,false,null]}`, env(0xbf, 0x61, 'a', 0x9f, 0xf5, 0xf4, 0xf6, 0xff, 0xff)},
		{"nested object in its own envelope", `{"p":{}}`, env(append(append([]byte{0xbf, 0x61, 'p'}, env(0xbf, 0xff)...), 0xff)...)},
		{"a non-ASCII string is UTF-16LE", `{"s":"é"}`, env(0xbf, 0x61, 's', 0x42, 0xe9, 0x00, 0xff)},
		{"an escape", `{"s":"a\nb"}`, env(0xbf, 0x61, 's', 0x63, 'a', '\n', 'b', 0xff)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromJSON(nil, []byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("FromJSON(%s) = % x, want % x", tc.json, got, tc.want)
			}
		})
	}
}

// TestRoundTrip: JSON to CBOR and back means the same values.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("iVBORw0KGgo", 100000)
	for _, msg := range []string{
		`{"id":7,"method":"Page.navigate","params":{"url":"https://j0.invalid/"},"sessionId":"AB12"}`,
		`{"method":"Runtime.bindingCalled","params":{"name":"b","payload":"` + big + `","executionContextId":3}}`,
		`{"a":[],"b":{},"c":[[1,2],[{"d":null}]],"e":"","f":true,"g":false}`,
		`{"n":[0,-1,23,24,255,256,65535,65536,2147483647,-2147483648,2147483648,-2147483649,1.5,-0.25,1e300,1e-300]}`,
		`{"s":"quote \" backslash \\ tab \t nl \n cr \r ctl \u0001 del \u007f"}`,
		`{"s":"héllo wörld ✓ 🎨 日本語"}`,
	} {
		cbor, err := FromJSON(nil, []byte(msg))
		if err != nil {
			t.Fatalf("FromJSON(%.60s): %v", msg, err)
		}
		back, err := ToJSON(nil, cbor)
		if err != nil {
			t.Fatalf("ToJSON of %.60s: %v", msg, err)
		}
		var want, got any
		if err := json.Unmarshal([]byte(msg), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(back, &got); err != nil {
			t.Fatalf("ToJSON gave invalid JSON %.200s: %v", back, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %.60s gave %.200s", msg, back)
		}
	}
}

func TestToJSON(t *testing.T) {
	t.Parallel()
	utf16 := []byte{0x46, 0xe9, 0x00, 0x3c, 0xd8, 0xa8, 0xdf} // "é🎨" in UTF-16LE, after its head
	for _, tc := range []struct {
		name string
		cbor []byte
		want string
	}{
		{"UTF-16 string", env(append(append([]byte{0xbf, 0x61, 's'}, utf16...), 0xff)...), `{"s":"é🎨"}`},
		{"lone surrogate", env(0xbf, 0x61, 's', 0x42, 0x00, 0xd8, 0xff), "{\"s\":\"\ufffd\"}"},
		{"binary is base64", env(0xbf, 0x61, 'b', 0xd6, 0x43, 1, 2, 3, 0xff), `{"b":"` + base64.StdEncoding.EncodeToString([]byte{1, 2, 3}) + `"}`},
		{"definite map and array", env(0xa1, 0x61, 'a', 0x82, 0x01, 0x38, 0x63), `{"a":[1,-100]}`},
		{"integral double", env(0xbf, 0x61, 'd', 0xfb, 0x40, 0x08, 0, 0, 0, 0, 0, 0, 0xff), `{"d":3}`},
		{"float32", env(0xbf, 0x61, 'f', 0xfa, 0x3f, 0xc0, 0, 0, 0xff), `{"f":1.5}`},
		{"NaN is null", env(0xbf, 0x61, 'f', 0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1, 0xff), `{"f":null}`},
		{"undefined is null", env(0xbf, 0x61, 'u', 0xf7, 0xff), `{"u":null}`},
		{"invalid UTF-8", env(0xbf, 0x61, 's', 0x62, 'a', 0xff, 0xff), `{"s":"a\ufffd"}`},
		{"control character", env(0xbf, 0x61, 's', 0x61, 0x02, 0xff), `{"s":"\u0002"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ToJSON(nil, tc.cbor)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("ToJSON = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	deep := append(bytes.Repeat([]byte{0x81}, maxDepth+2), 0x01)
	for _, tc := range []struct {
		name string
		cbor []byte
	}{
		{"empty", nil},
		{"no envelope", []byte{0xbf, 0xff, 0, 0, 0, 0, 0}},
		{"truncated", env(0xbf, 0x61, 'a')},
		{"envelope longer than the message", []byte{0xd8, 0x18, 0x5a, 0, 0, 0, 9, 0xbf, 0xff}},
		{"trailing bytes", append(env(0xbf, 0xff), 0x00)},
		{"odd UTF-16", env(0xbf, 0x61, 's', 0x41, 0x41, 0xff)},
		{"unknown tag", env(0xbf, 0x61, 't', 0xc1, 0x01, 0xff)},
		{"key not a string", env(0xbf, 0x01, 0x01, 0xff)},
		{"too deep", env(append([]byte{0xa1, 0x61, 'a'}, deep...)...)},
		{"half float", env(0xbf, 0x61, 'h', 0xf9, 0x3c, 0x00, 0xff)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := ToJSON(nil, tc.cbor); !errors.Is(err, ErrSyntax) {
				t.Errorf("ToJSON(% x) = %s, %v; want ErrSyntax", tc.cbor, got, err)
			}
		})
	}
	for _, msg := range []string{``, `[]`, `"x"`, `{"a":}`, `{"a":1`, `{"a":1}}`, `{"a":1,}`, `{"a":[1,]}`, `{"a":[1 2]}`, `{,}`} {
		if got, err := FromJSON(nil, []byte(msg)); err == nil {
			t.Errorf("FromJSON(%s) = % x; want an error", msg, got)
		}
	}
}

// BenchmarkFromJSON converts a command with p5.js's compilation cache (a
// megabyte of base64), as every job sends.
func BenchmarkFromJSON(b *testing.B) {
	msg := []byte(`{"id":9,"method":"Page.addCompilationCache","params":{"url":"https://p5.empplay.invalid/p5@1.min.js","data":"` +
		strings.Repeat("QUJD", 250000) + `"},"sessionId":"0123456789ABCDEF"}`)
	b.SetBytes(int64(len(msg)))
	var out []byte
	for b.Loop() {
		out, _ = FromJSON(out[:0], msg)
	}
}

// BenchmarkToJSON converts a part of a picture (64 Ki characters of base64)
// as a page sends seventeen of them for an 800x800 still.
func BenchmarkToJSON(b *testing.B) {
	msg, _ := FromJSON(nil, []byte(`{"method":"Runtime.bindingCalled","params":{"name":"__empplay","payload":"\u0001https://j0.invalid\n`+
		strings.Repeat("iVBO", 16384)+`","executionContextId":4},"sessionId":"0123456789ABCDEF"}`))
	b.SetBytes(int64(len(msg)))
	var out []byte
	for b.Loop() {
		out, _ = ToJSON(out[:0], msg)
	}
}
