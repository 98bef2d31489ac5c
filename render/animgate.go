package render

import (
	"path"
	"strings"

	"github.com/empplay/empplay"
)

// mayAnimate reports whether a js job's page may have CSS animations,
// transitions or Web Animations, which the prelude then keeps on the
// virtual clock (runtime.js, virtualAnimations). Doing so brings the
// page's styles up to date before every frame, which a page that moves
// thousands of elements a frame pays for (a third of its time, in one
// test); a page that has none is spared it. Any of them needs words the
// job's code would hold (@keyframes, the animation and transition
// properties, animate(), new Animation; requestAnimationFrame does not
// count), unless the page loads code or styles from a declared file,
// which is taken to have them.
func mayAnimate(job *empplay.Job) bool {
	for _, code := range []string{job.Code, job.HTML, job.CSS, job.JavaScript} {
		c := strings.ToLower(code)
		// requestAnimationFrame is the page's own frames, not an animation.
		c = strings.ReplaceAll(strings.ReplaceAll(c, "requestanimationframe", ""), "cancelanimationframe", "")
		if strings.Contains(c, "anim") || strings.Contains(c, "transition") || strings.Contains(c, "keyframes") {
			return true
		}
	}
	for name, src := range job.Assets {
		if !imageLike(name) || !imageLike(src) {
			return true
		}
	}
	return false
}

// imageLike: a file name (or URL) that names an image, a font or a sound
// by its extension: no code or style in it.
func imageLike(name string) bool {
	if i := strings.IndexAny(name, "?#"); i >= 0 {
		name = name[:i]
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".bmp", ".ico",
		".woff", ".woff2", ".ttf", ".otf", ".mp3", ".wav", ".ogg", ".mp4", ".webm", ".json", ".txt", ".glsl", ".vert", ".frag":
		return true
	}
	return false
}
