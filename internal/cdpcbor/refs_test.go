package cdpcbor

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// TestRefs: a string that is a live reference reaches the browser as the
// bytes it names (a byte string tagged 22, which ToJSON shows in base64),
// once; every other string stays a string.
func TestRefs(t *testing.T) {
	t.Parallel()
	refs, other := NewRefs(), NewRefs()
	data := bytes.Repeat([]byte{0, 1, 2, 0xff, 'p', '5'}, 50000)
	b64 := base64.StdEncoding.EncodeToString
	msg := func(body string) string {
		return `{"id":7,"sessionId":"S","method":"Fetch.fulfillRequest","params":{"requestId":"r","responseCode":200,"body":"` + body + `"}}`
	}
	ref := b64(refs.Ref(data))
	taken := b64(refs.Ref([]byte("x")))
	if _, err := fromJSON(nil, []byte(msg(taken)), refs); err != nil {
		t.Fatal(err)
	}
	foreign := b64(other.Ref(data))
	unknown := ref[:refLen-4] + "AAAA" // the prefix and number 0, which Ref never gives
	for _, r := range []string{ref, taken, foreign} {
		raw, _ := base64.StdEncoding.DecodeString(r)
		if u := base64.URLEncoding.EncodeToString(raw); u != r || strings.Trim(r, refAlphabet) != "" {
			t.Errorf("reference %q (URL-safe %q): want the same letters and digits in both alphabets", r, u)
		}
	}

	for _, tc := range []struct {
		name, body string
		want       string // the body in the JSON that the CBOR stands for
		binary     bool
	}{
		{"live reference", ref, b64(data), true},
		{"taken already", taken, taken, false},
		{"another Refs' reference", foreign, foreign, false},
		{"prefix with an unknown number", unknown, unknown, false},
		{"plain base64", b64(data[:300]), b64(data[:300]), false},
		{"reference cut short", ref[:refLen-1], ref[:refLen-1], false},
	} {
		got, err := fromJSON(nil, []byte(msg(tc.body)), refs)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		back, err := ToJSON(nil, got)
		if err != nil {
			t.Fatalf("%s: ToJSON: %v", tc.name, err)
		}
		if string(back) != msg(tc.want) {
			t.Errorf("%s: the browser got %.120s..., want %.120s...", tc.name, back, msg(tc.want))
		}
		if bin := bytes.Contains(got, appendBinary(nil, data)); bin != tc.binary {
			t.Errorf("%s: the bytes as a tagged byte string: %v, want %v", tc.name, bin, tc.binary)
		}
	}
	// The live reference was taken by the first message that held it.
	if given, held := refs.Counts(); given != 2 || held != 0 {
		t.Errorf("%d references given, %d still held; want 2 and 0", given, held)
	}
	if got, _ := FromJSON(nil, []byte(msg(ref))); bytes.Contains(got, appendBinary(nil, data)) {
		t.Error("FromJSON without Refs took a reference")
	}
}

// TestRefsSweep: a reference that no message took is dropped once it is
// old, and not before.
func TestRefsSweep(t *testing.T) {
	t.Parallel()
	refs := NewRefs()
	old := base64.StdEncoding.EncodeToString(refs.Ref([]byte("old")))
	young := base64.StdEncoding.EncodeToString(refs.Ref([]byte("young")))
	refs.mu.Lock()
	h := refs.held[old]
	h.at = h.at.Add(-refMaxAge - time.Minute)
	refs.held[old] = h
	refs.mu.Unlock()
	refs.Ref([]byte("new"))
	if _, held := refs.Counts(); held != 2 {
		t.Errorf("%d held after the sweep, want 2 (the old one dropped)", held)
	}
	if _, ok := refs.take([]byte(old)); ok {
		t.Error("the old reference survived the sweep")
	}
	if data, ok := refs.take([]byte(young)); !ok || string(data) != "young" {
		t.Errorf("the young reference gave %q, %v; want its bytes", data, ok)
	}
}

// TestPumpRefs: through Pump, a command's reference reaches the browser as
// its bytes.
func TestPumpRefs(t *testing.T) {
	t.Parallel()
	refs := NewRefs()
	clientW, _, browserW, browserR, _, _ := pumped(t, refs)
	defer clientW.Close()
	defer browserW.Close()
	data := bytes.Repeat([]byte("cache"), 200000)
	cmd := `{"id":1,"method":"Page.addCompilationCache","params":{"url":"https://p5/","data":"` +
		base64.StdEncoding.EncodeToString(refs.Ref(data)) + `"}}`
	go func() { _, _ = clientW.Write([]byte(cmd + "\x00")) }()
	got := readEnvelope(t, bufio.NewReader(browserR))
	want, err := ToJSON(nil, got)
	if err != nil {
		t.Fatal(err)
	}
	if w := `{"id":1,"method":"Page.addCompilationCache","params":{"url":"https://p5/","data":"` +
		base64.StdEncoding.EncodeToString(data) + `"}}`; string(want) != w {
		t.Errorf("the browser got %.100s..., want the cache's bytes", want)
	}
	if len(got) > len(data)+200 {
		t.Errorf("the browser got %d bytes for %d of data: not as bytes", len(got), len(data))
	}
}
