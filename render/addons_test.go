package render

import "testing"

func TestMissingAddon(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg, name, symbol string
	}{
		{"ReferenceError: loadSound is not defined", "p5.sound", "loadSound"},
		{"TypeError: p5.Oscillator is not a constructor", "p5.sound", "p5.Oscillator"},
		{"TypeError: p.loadSound is not a function", "p5.sound", "loadSound"},
		{"ReferenceError: ml5 is not defined", "ml5.js", "ml5"},
		{"ReferenceError: collideRectRect is not defined", "p5.collide2D", "collideRectRect"},
		{"ReferenceError: THREE is not defined", "three.js", "THREE"},
		{"TypeError: p5.FFT is not a constructor (line 3)", "p5.sound", "p5.FFT"},
		// Not add-ons.
		{"ReferenceError: foo is not defined", "", ""},
		{"TypeError: p5.Vector is not a constructor", "", ""},
		{"TypeError: Cannot read properties of undefined (reading 'x')", "", ""},
		{"ReferenceError: collide is not defined", "", ""},
		{"TypeError: x.Oscillator is not a constructor", "", ""},
	}
	for _, tc := range tests {
		name, symbol, ok := missingAddon(tc.msg)
		if ok != (tc.name != "") || name != tc.name || symbol != tc.symbol {
			t.Errorf("missingAddon(%q) = %q, %q, %v; want %q, %q", tc.msg, name, symbol, ok, tc.name, tc.symbol)
		}
	}
}
