// This file lets a client's message carry bytes as they are.

package cdpcbor

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"time"
)

const (
	// A reference is 24 letters and digits, which are the base64 of 18
	// bytes in every alphabet (standard or URL-safe, no padding) and need
	// no escape in JSON: 16 random ones, the same for every reference of
	// one Refs, then the reference's number in base 62.
	refPrefixLen = 16
	refLen       = 24
	refAlphabet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	// refMaxAge is how long a reference that no message named is kept. A
	// client writes its message at once; one that never does (its call
	// was given up before it was written) would leave the bytes behind.
	refMaxAge = 10 * time.Minute
)

// Refs holds byte strings that a client's messages name instead of
// carrying them. chromedp writes every binary field of a command ([]byte:
// a response body for Fetch.fulfillRequest, a compilation cache) in
// base64, which the browser then decodes: for a megabyte, a third more
// bytes on the pipe and two passes over them that end where they began.
// With a reference in the field instead, [Pump] writes the bytes
// themselves, as the byte string tagged 22 that Chromium takes for binary
// data.
//
// A reference names its bytes once: the first message that holds it takes
// them. A string that is not a live reference, including one taken
// already, stays the string it is.
type Refs struct {
	prefix string // every reference's first refPrefixLen characters

	mu   sync.Mutex
	next uint64
	held map[string]heldRef
}

type heldRef struct {
	data []byte
	at   time.Time
}

// NewRefs returns an empty Refs whose references begin with random
// characters of their own, so that no other string in a message is taken
// for one.
func NewRefs() *Refs {
	var b [refPrefixLen]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	for i := range b {
		b[i] = refAlphabet[int(b[i])%len(refAlphabet)]
	}
	return &Refs{prefix: string(b[:]), held: map[string]heldRef{}}
}

// Ref returns bytes to put where data would go in a []byte field of a
// command: their base64, as chromedp writes the field, is a reference to
// data, which becomes data itself on its way to the browser. data must not
// change until the message is written.
func (r *Refs) Ref(data []byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	var ref [refLen]byte
	copy(ref[:], r.prefix)
	for i, n := refLen-1, r.next; i >= refPrefixLen; i, n = i-1, n/uint64(len(refAlphabet)) {
		ref[i] = refAlphabet[n%uint64(len(refAlphabet))]
	}
	raw, err := base64.StdEncoding.DecodeString(string(ref[:]))
	if err != nil { // cannot happen: 24 characters of the alphabet
		panic(fmt.Sprintf("cdpcbor: reference %q is not base64: %v", ref, err))
	}
	now := time.Now()
	for k, h := range r.held { // a few at most: messages take them at once
		if now.Sub(h.at) > refMaxAge {
			delete(r.held, k)
		}
	}
	r.held[string(ref[:])] = heldRef{data, now}
	return raw
}

// Counts returns the number of references Ref gave and of those that no
// message has taken yet.
func (r *Refs) Counts() (given uint64, held int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next, len(r.held)
}

// take returns the bytes that s, a JSON string's content, names, and
// forgets them; ok is false when s is no live reference.
func (r *Refs) take(s []byte) (data []byte, ok bool) {
	if r == nil || len(s) != refLen || string(s[:refPrefixLen]) != r.prefix {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.held[string(s)]
	if ok {
		delete(r.held, string(s))
	}
	return h.data, ok
}

// appendBinary appends data as a byte string tagged 22.
func appendBinary(dst, data []byte) []byte {
	dst = appendHead(dst, majorTag, binaryTag)
	return append(appendHead(dst, majorBytes, uint64(len(data))), data...)
}
