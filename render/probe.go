package render

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/empplay/empplay/gpu"
)

// probeTimeout bounds a WebGL probe: a tab, one small script, a close.
const probeTimeout = 15 * time.Second

// WebGLInfo is what a WebGL context in the running Chromium reports about
// the GPU it draws with.
type WebGLInfo struct {
	// Renderer and Vendor are the unmasked strings of
	// WEBGL_debug_renderer_info ("ANGLE (NVIDIA Corporation, NVIDIA L4/PCIe/SSE2,
	// OpenGL ES 3.2 NVIDIA 550.54.15)", "ANGLE (Google, Vulkan 1.3.0
	// (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)");
	// empty when Chromium has no WebGL at all.
	Renderer string `json:"renderer"`
	Vendor   string `json:"vendor"`
	// Version is the context's GL version string ("WebGL 2.0 (OpenGL ES
	// 3.0 Chromium)").
	Version string `json:"version"`
	// WebGL2 is true when a webgl2 context could be made.
	WebGL2 bool `json:"webgl2"`
	// Drew is true when a clear to red read back as red: the context
	// really draws, not just answers.
	Drew bool `json:"drew"`
	// Software is true when Renderer names a software rasterizer
	// ([gpu.IsSoftwareRenderer]).
	Software bool `json:"software"`
	// Backend is the browser's [Options.Backend].
	Backend gpu.Backend `json:"backend"`
	// Ms is how long the probe took, tab and all.
	Ms float64 `json:"ms"`
}

// probeScript makes a WebGL context on a detached canvas, reads its
// renderer, draws one pixel and frees the context.
const probeScript = `(() => {
  const c = document.createElement('canvas');
  c.width = c.height = 4;
  let gl = c.getContext('webgl2', {preserveDrawingBuffer: true});
  const webgl2 = !!gl;
  if (!gl) gl = c.getContext('webgl', {preserveDrawingBuffer: true});
  if (!gl) return {renderer: '', vendor: '', version: '', webgl2: false, drew: false};
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const out = {
    renderer: String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER)),
    vendor: String(ext ? gl.getParameter(ext.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR)),
    version: String(gl.getParameter(gl.VERSION)),
    webgl2: webgl2,
  };
  gl.clearColor(1, 0, 0, 1);
  gl.clear(gl.COLOR_BUFFER_BIT);
  const px = new Uint8Array(4);
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
  out.drew = px[0] === 255 && px[1] === 0 && px[3] === 255;
  const lose = gl.getExtension('WEBGL_lose_context');
  if (lose) lose.loseContext();
  return out;
})()`

// ProbeWebGL asks the running Chromium (started if needed) which renderer
// WebGL draws with, in a throwaway tab of its own incognito context. A
// worker meant to render on a GPU checks the answer with
// [gpu.IsSoftwareRenderer]: a GPU backend whose EGL driver is missing or
// unusable falls back to SwiftShader or llvmpipe without an error. It runs
// between jobs, never during one.
func (b *Browser) ProbeWebGL(ctx context.Context) (WebGLInfo, error) {
	start := time.Now()
	info := WebGLInfo{Backend: b.opts.Backend}
	b.jobMu.Lock()
	defer b.jobMu.Unlock()
	if err := b.settle(ctx); err != nil {
		return info, fmt.Errorf("render: probe WebGL: %w", err)
	}
	inst, err := b.ensure(ctx, false)
	if err != nil {
		return info, fmt.Errorf("render: probe WebGL: %w", err)
	}
	// The tab lives under the browser's context, not ctx: chromedp binds a
	// tab to the context of its first run, so the deadline kills the tab
	// instead.
	life, kill := context.WithCancel(inst.ctx)
	defer kill()
	tabCtx, _ := chromedp.NewContext(life, chromedp.WithNewBrowserContext())
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	watchdog := context.AfterFunc(pctx, kill)
	defer watchdog()
	info, err = chromedp.Run(tabCtx, chromedp.Evaluate[WebGLInfo](probeScript))
	if cerr := chromedp.Cancel(tabCtx); err == nil && cerr != nil && !errors.Is(cerr, context.Canceled) {
		err = cerr
	}
	if err != nil {
		if pctx.Err() != nil {
			err = fmt.Errorf("no answer within %v: %w", probeTimeout, err)
		}
		return info, fmt.Errorf("render: probe WebGL: %w", err)
	}
	info.Backend = b.opts.Backend
	info.Software = gpu.IsSoftwareRenderer(info.Renderer)
	info.Ms = float64(time.Since(start).Microseconds()) / 1000
	return info, nil
}
