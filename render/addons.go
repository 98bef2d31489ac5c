package render

import (
	"regexp"
	"strings"
)

// addon is a library sketches load beside p5.js that empplay does not
// provide (only p5.js itself is on the page, and the page has no network).
type addon struct {
	name string
	// globals are the global names it defines, p5 the p5.<Name> classes.
	globals, p5 []string
	// prefixes are prefixes of its global function names.
	prefixes []string
}

// addons is what a sketch most often expects to be there. Keep it to
// names that p5.js itself (1.x and 2.x) does not define.
var addons = []addon{
	{name: "p5.sound", globals: []string{
		"loadSound", "soundFormats", "getAudioContext", "userStartAudio", "masterVolume",
		"outputVolume", "getOutputVolume", "sampleRate", "freqToMidi", "midiToFreq", "createConvolver",
		"setBPM", "soundOut",
	}, p5: []string{
		"SoundFile", "Oscillator", "SinOsc", "TriOsc", "SqrOsc", "SawOsc", "Pulse", "FFT", "Amplitude",
		"AudioIn", "Envelope", "Env", "Noise", "PolySynth", "MonoSynth", "Reverb", "Convolver", "Delay",
		"Filter", "LowPass", "HighPass", "BandPass", "SoundLoop", "Part", "Phrase", "Score",
		"PeakDetect", "Compressor", "Distortion", "EQ", "Panner3D", "SoundRecorder", "Gain",
		"AudioVoice", "Signal", "Effect",
	}},
	{name: "ml5.js", globals: []string{"ml5"}},
	{name: "p5.collide2D", prefixes: []string{"collide"}},
	{name: "p5.createLoop", globals: []string{"createLoop"}},
	{name: "p5.capture", globals: []string{"P5Capture"}},
	{name: "p5.brush", globals: []string{"brush"}},
	{name: "Tone.js", globals: []string{"Tone"}},
	{name: "three.js", globals: []string{"THREE"}},
	{name: "Matter.js", globals: []string{"Matter"}},
	{name: "D3", globals: []string{"d3"}},
	{name: "chroma.js", globals: []string{"chroma"}},
	{name: "GSAP", globals: []string{"gsap", "TweenMax", "TimelineMax"}},
	{name: "anime.js", globals: []string{"anime"}},
	{name: "simplex-noise", globals: []string{"SimplexNoise", "createNoise2D", "createNoise3D", "createNoise4D"}},
	{name: "dat.GUI", globals: []string{"dat"}},
	{name: "QuickSettings", globals: []string{"QuickSettings"}},
	{name: "Tweakpane", globals: []string{"Tweakpane"}},
	{name: "Hydra", globals: []string{"Hydra"}},
	{name: "Delaunator", globals: []string{"Delaunator"}},
	{name: "canvas-sketch-util", globals: []string{"canvasSketchUtil"}},
}

// notThere matches V8's messages for a name that does not exist:
// "X is not defined", "p5.X is not a constructor", "p.X is not a function".
var notThere = regexp.MustCompile(`(?:\b([A-Za-z_$][\w$]*)\.)?([A-Za-z_$][\w$]*) is not (?:defined|a function|a constructor)`)

// missingAddon finds the add-on an error message says is missing: its name
// and the symbol the sketch used.
func missingAddon(msg string) (name, symbol string, ok bool) {
	for _, m := range notThere.FindAllStringSubmatch(msg, -1) {
		owner, id := m[1], m[2]
		for _, a := range addons {
			if owner == "p5" {
				for _, c := range a.p5 {
					if id == c {
						return a.name, "p5." + id, true
					}
				}
				continue
			}
			for _, g := range a.globals {
				if id == g {
					return a.name, id, true
				}
			}
			for _, p := range a.prefixes {
				if strings.HasPrefix(id, p) && len(id) > len(p) {
					return a.name, id, true
				}
			}
		}
	}
	return "", "", false
}
