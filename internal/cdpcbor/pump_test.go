package cdpcbor

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// pumped starts Pump between a fake client and a fake browser, each a
// pair of pipes, and returns their ends.
func pumped(t *testing.T, refs *Refs) (clientW io.WriteCloser, clientR io.ReadCloser, browserW io.WriteCloser, browserR io.ReadCloser, errs chan error, done chan struct{}) {
	t.Helper()
	cr, cw := io.Pipe()   // client -> pump
	tcr, tcw := io.Pipe() // pump -> client
	br, bw := io.Pipe()   // browser -> pump
	tbr, tbw := io.Pipe() // pump -> browser
	errs = make(chan error, 2)
	done = make(chan struct{})
	go func() {
		defer close(done)
		Pump(cr, tcw, br, tbw, refs, func(err error) { errs <- err })
	}()
	return cw, tcr, bw, tbr, errs, done
}

func readEnvelope(t *testing.T, r *bufio.Reader) []byte {
	t.Helper()
	head := make([]byte, envelopeHeader)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, envelopeHeader+int(binary.BigEndian.Uint32(head[3:])))
	copy(msg, head)
	if _, err := io.ReadFull(r, msg[envelopeHeader:]); err != nil {
		t.Fatal(err)
	}
	return msg
}

// TestPump: a command goes to the browser as CBOR, the browser's answer
// and event come back as JSON, each followed by a zero byte; the browser's
// end closes the client's.
func TestPump(t *testing.T) {
	t.Parallel()
	clientW, clientR, browserW, browserR, errs, done := pumped(t, nil)
	cmd := `{"id":1,"method":"Page.addCompilationCache","params":{"url":"https://p5/","data":"` + strings.Repeat("QUJD", 300000) + `"}}`
	go func() { _, _ = clientW.Write([]byte(cmd + "\x00")) }()
	got := readEnvelope(t, bufio.NewReader(browserR))
	if want, _ := FromJSON(nil, []byte(cmd)); !bytes.Equal(got, want) {
		t.Fatalf("the browser got %d bytes, not the command's CBOR (%d)", len(got), len(want))
	}
	answer, _ := FromJSON(nil, []byte(`{"id":1,"result":{}}`))
	event, _ := FromJSON(nil, []byte(`{"method":"Page.loadEventFired","params":{"timestamp":12.5},"sessionId":"S"}`))
	go func() { _, _ = browserW.Write(append(answer, event...)) }()
	cr := bufio.NewReader(clientR)
	for _, want := range []string{`{"id":1,"result":{}}`, `{"method":"Page.loadEventFired","params":{"timestamp":12.5},"sessionId":"S"}`} {
		msg, err := cr.ReadString(0)
		if err != nil {
			t.Fatal(err)
		}
		if msg != want+"\x00" {
			t.Errorf("the client got %q, want %q", msg, want)
		}
	}
	_ = browserW.Close()
	if _, err := cr.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after the browser's end the client read %v, want EOF", err)
	}
	_ = clientW.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Pump did not return after both sides ended")
	}
	select {
	case err := <-errs:
		t.Errorf("Pump reported %v", err)
	default:
	}
}

// TestPumpMalformed: a message the pump cannot convert ends both sides,
// and is reported; the client is still read to its end.
func TestPumpMalformed(t *testing.T) {
	t.Parallel()
	clientW, clientR, browserW, browserR, errs, done := pumped(t, nil)
	go func() { _, _ = io.Copy(io.Discard, browserR) }()
	go func() { _, _ = browserW.Write([]byte{0xd8, 0x18, 0x5a, 0, 0, 0, 1, 0x1c}) }()
	if _, err := io.ReadAll(clientR); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Pump reported %v, want ErrSyntax", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no error reported")
	}
	// The client may still write: its messages are read and dropped.
	if _, err := clientW.Write([]byte(`{"id":2,"method":"X.y"}` + "\x00")); err != nil {
		t.Errorf("the client's write after the end: %v", err)
	}
	_ = clientW.Close()
	_ = browserW.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Pump did not return")
	}
}

// TestPumpBrowserCutShort: a browser that ends in the middle of a message
// (killed) ends the client's side as its pipe would, with nothing to
// report.
func TestPumpBrowserCutShort(t *testing.T) {
	t.Parallel()
	clientW, clientR, browserW, browserR, errs, done := pumped(t, nil)
	go func() { _, _ = io.Copy(io.Discard, browserR) }()
	go func() {
		_, _ = browserW.Write([]byte{0xd8, 0x18, 0x5a, 0, 0, 1, 0, 0xbf})
		_ = browserW.Close()
	}()
	if _, err := io.ReadAll(clientR); err != nil {
		t.Fatal(err)
	}
	_ = clientW.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Pump did not return")
	}
	select {
	case err := <-errs:
		t.Errorf("Pump reported %v", err)
	default:
	}
}
