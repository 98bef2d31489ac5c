package cdpcbor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// maxMessage bounds a message from the browser, as the browser bounds the
// ones it reads (100 MB).
const maxMessage = 256 << 20

// Pump carries protocol messages between a client that speaks JSON, each
// message followed by a zero byte (chromedp's pipe transport), and a
// browser that speaks CBOR (--remote-debugging-pipe=cbor), until both
// sides have ended. The client writes to client and reads from toClient;
// the browser reads from toBrowser and writes to browser.
//
// When either side ends, or a message cannot be converted (errf is told
// why), Pump closes toBrowser and toClient, so that the browser and the
// client see the connection end as they would see their pipe close, and it
// goes on reading both until they end, so that neither blocks on a full
// pipe.
//
// The client's messages may name bytes in refs (see [Refs]); refs may be
// nil.
func Pump(client io.Reader, toClient io.WriteCloser, browser io.Reader, toBrowser io.WriteCloser, refs *Refs, errf func(error)) {
	var once sync.Once
	end := func(err error) {
		once.Do(func() {
			if err != nil && errf != nil {
				errf(err)
			}
			_ = toBrowser.Close()
			_ = toClient.Close()
		})
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		end(toCBOR(client, toBrowser, refs))
		_, _ = io.Copy(io.Discard, client)
	})
	wg.Go(func() {
		end(toJSON(browser, toClient))
		_, _ = io.Copy(io.Discard, browser)
	})
	wg.Wait()
}

// toCBOR converts the client's messages until it ends (nil) or a message
// cannot be converted or written.
func toCBOR(client io.Reader, w io.Writer, refs *Refs) error {
	r := bufio.NewReaderSize(client, 64<<10)
	var out []byte
	for {
		msg, err := r.ReadBytes(0)
		if err != nil {
			if errors.Is(err, io.EOF) { // a message cut short too: the client is gone
				return nil
			}
			return fmt.Errorf("cdpcbor: read from the client: %w", err)
		}
		msg = msg[:len(msg)-1]
		if len(msg) == 0 {
			continue
		}
		if out, err = fromJSON(out[:0], msg, refs); err != nil {
			return fmt.Errorf("cdpcbor: a message from the client: %w", err)
		}
		if _, err := w.Write(out); err != nil {
			return nil // the browser is gone
		}
		if cap(out) > 4<<20 {
			out = nil // not kept for the small ones after a large one
		}
	}
}

// toJSON converts the browser's messages until it ends (nil) or a message
// cannot be read, converted or written.
func toJSON(browser io.Reader, w io.Writer) error {
	r := bufio.NewReaderSize(browser, 64<<10)
	var msg, out []byte
	for {
		var head [envelopeHeader]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil // the browser is gone, perhaps killed mid-message
			}
			return fmt.Errorf("cdpcbor: read from the browser: %w", err)
		}
		if head[0] != majorTag<<5|24 || head[1] != envelopeTag || head[2] != majorBytes<<5|26 {
			return fmt.Errorf("%w: the browser's message starts with % x", ErrSyntax, head)
		}
		size := binary.BigEndian.Uint32(head[3:])
		if size > maxMessage {
			return fmt.Errorf("%w: the browser sent a message of %d bytes", ErrSyntax, size)
		}
		if n := envelopeHeader + int(size); cap(msg) < n {
			msg = make([]byte, n)
		} else {
			msg = msg[:n]
		}
		copy(msg, head[:])
		if _, err := io.ReadFull(r, msg[envelopeHeader:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil // the browser is gone, perhaps killed mid-message
			}
			return fmt.Errorf("cdpcbor: read from the browser: %w", err)
		}
		var err error
		if out, err = ToJSON(out[:0], msg); err != nil {
			return fmt.Errorf("cdpcbor: a message from the browser: %w", err)
		}
		if _, err := w.Write(append(out, 0)); err != nil {
			return nil // the client is gone
		}
		if cap(out) > 4<<20 {
			out, msg = nil, nil
		}
	}
}
