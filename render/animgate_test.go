package render

import (
	"testing"

	"github.com/empplay/empplay"
)

func TestMayAnimate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		job  empplay.Job
		want bool
	}{
		{"still page", empplay.Job{HTML: `<div></div>`, CSS: `div{color:red}`, JavaScript: `capture()`}, false},
		{"its own frames", empplay.Job{JavaScript: `const id = requestAnimationFrame(f); cancelAnimationFrame(id);`}, false},
		{"its own frames and an animation", empplay.Job{JavaScript: `requestAnimationFrame(() => el.animate([], 1))`}, true},
		{"keyframes", empplay.Job{CSS: `@keyframes a { to { opacity: 0 } }`}, true},
		{"animation shorthand", empplay.Job{HTML: `<div style="animation: a 1s"></div>`}, true},
		{"transition", empplay.Job{CSS: `div{Transition: opacity 1s}`}, true},
		{"animate()", empplay.Job{JavaScript: `el.animate([{opacity: 0}], 500)`}, true},
		{"a full document", empplay.Job{Code: `<style>@keyframes x{}</style>`}, true},
		{"images only", empplay.Job{HTML: `<img src="a.png">`, Assets: map[string]string{"a.png": "https://cdn.example/a.png?sig=1"}}, false},
		{"a stylesheet", empplay.Job{HTML: `<link rel=stylesheet href=s.css>`, Assets: map[string]string{"s.css": "https://cdn.example/s.css"}}, true},
		{"a script under an image's name", empplay.Job{Assets: map[string]string{"lib.png": "https://cdn.example/lib.js"}}, true},
		{"no extension", empplay.Job{Assets: map[string]string{"lib": "https://cdn.example/lib"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := mayAnimate(&tc.job); got != tc.want {
				t.Errorf("mayAnimate = %v; want %v", got, tc.want)
			}
		})
	}
}
