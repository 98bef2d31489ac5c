// This file holds what both directions share: CBOR's vocabulary as
// Chromium uses it.

package cdpcbor

import "errors"

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
