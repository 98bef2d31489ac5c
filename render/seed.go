// This file derives a job's token (hash, minter, seed words) for the platforms' globals.

package render

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/json"

	"github.com/empplay/empplay"
)

// DefaultHash is the hash a job without context.hash is rendered with, so
// that its output is deterministic too: the SHA-256 of the ASCII string
// "empplay", as 0x-prefixed lowercase hex (the shape of an Art Blocks hash).
const DefaultHash = "0x05a1e3de6151b7ca92124893753636d54f24880201e7fbcd5a566629f7a9ff39"

// DefaultMinter is $fx.minter (fxhash's minter address) when
// context.variables.minter is not a string: the Tezos burn address.
const DefaultMinter = "tz1burnburnburnburnburnburnburjAYjjX"

// seedWords is the seed material of a hash: SHA-256 of its UTF-8 bytes,
// read as eight big-endian unsigned 32-bit words.
func seedWords(hash string) [8]uint32 {
	sum := sha256.Sum256([]byte(hash))
	var w [8]uint32
	for i := range w {
		w[i] = binary.BigEndian.Uint32(sum[4*i:])
	}
	return w
}

// token is what a page tells the sketch about the token it renders: the
// seeding and the platforms' globals (see the package doc). Still images
// and videos share it.
type token struct {
	// Hash is the effective hash: context.hash, or DefaultHash.
	Hash string `json:"hash"`
	// Seed is SHA-256(Hash) as eight big-endian 32-bit words (see
	// seedWords).
	Seed       [8]uint32       `json:"seed"`
	TokenID    string          `json:"tokenId"`
	Minter     string          `json:"minter"`
	Iteration  int64           `json:"iteration"`
	Variables  json.RawMessage `json:"variables"`
	Components json.RawMessage `json:"components"`
}

// newToken is the token of job: its context, with the defaults.
func newToken(job *empplay.Job) token {
	tk := token{
		Hash:       DefaultHash,
		TokenID:    "0",
		Minter:     DefaultMinter,
		Iteration:  1,
		Variables:  json.RawMessage("null"),
		Components: json.RawMessage("null"),
	}
	if c := job.Context; c != nil {
		if c.Hash != "" {
			tk.Hash = c.Hash
		}
		if len(c.Variables) > 0 {
			tk.Variables = c.Variables
		}
		if len(c.Components) > 0 {
			tk.Components = c.Components
		}
	}
	tk.Seed = seedWords(tk.Hash)

	// tokenId, minter and iteration come from the variables when they are
	// an object that has them with the right type.
	var vars map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(tk.Variables))
	d.UseNumber()
	if d.Decode(&vars) == nil {
		var s string
		var n json.Number
		if v, ok := vars["tokenId"]; ok {
			if json.Unmarshal(v, &s) == nil && s != "" {
				tk.TokenID = s
			} else if json.Unmarshal(v, &n) == nil {
				tk.TokenID = n.String()
			}
		}
		s = ""
		if v, ok := vars["minter"]; ok && json.Unmarshal(v, &s) == nil && s != "" {
			tk.Minter = s
		}
		if v, ok := vars["iteration"]; ok && json.Unmarshal(v, &n) == nil {
			if i, err := n.Int64(); err == nil && i >= 1 {
				tk.Iteration = i
			}
		}
	}
	return tk
}
