// This file builds Chromium's command line from the GPU backend and the caller's extra switches.

package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/empplay/empplay/gpu"
)

// chromiumSwitch is one command-line switch: --name, or --name=value when
// value is a string.
type chromiumSwitch struct {
	name  string
	value any // string, or true for a switch without a value
}

// chromiumSwitches is the one place that decides how Chromium runs
// (docs/rendering.md, measured on Chromium 156 on a CPU-only host): the
// base switches, then the GPU switches of backend (gpu.Flags, where each
// has its reason; "" is the CPU), then extra. The DevTools pipe, the
// profile directory and the first about:blank tab are added by chromedp
// and launch. sandbox is whether Chromium's sandbox is on (see
// [SandboxState]); heapMiB is V8's old-space limit in every renderer (see
// v8HeapLimitMiB), 0 for V8's default.
func chromiumSwitches(backend gpu.Backend, extra []string, sandbox bool, heapMiB int64) ([]chromiumSwitch, error) {
	if backend == "" {
		backend = gpu.CPU
	}
	backendFlags := gpu.Flags(backend)
	if backendFlags == nil {
		return nil, fmt.Errorf("render: unknown GPU backend %q: want %s, %s or %s", backend, gpu.CPU, gpu.NVIDIA, gpu.Mesa)
	}
	list := []chromiumSwitch{
		// Debian's chromium-headless-shell (the default, see
		// docs/rendering.md) is headless by itself and ignores this; the
		// full chromium binary needs it, and then runs its new headless
		// mode. Both render the same pixels.
		{"headless", "new"},
		// A process per site, iframes included: the full browser does this
		// by default, the headless shell only when asked. Every job's page
		// is a site of its own (see newOrigin), so every job gets a
		// renderer of its own, and an iframe of another site one more.
		{"site-per-process", true},
		// The sandbox (seccomp-bpf and namespaces for every renderer) is on
		// unless the sandbox policy turned it off: see SandboxState.
		// Chromium refuses to start as root with it on.
		{"no-sandbox", !sandbox},
		// GPU switches (--disable-gpu on the CPU) come from the backend.
		// No UDP from the browser: QUIC would bypass nothing we intercept,
		// but it is one more channel to keep closed.
		{"disable-quic", true},
		// No first-run dialogs or welcome tabs in a fresh profile.
		{"no-first-run", true},
		// No variations, safe-browsing or other background fetches: the
		// browser makes no request that a job did not cause.
		{"disable-background-networking", true},
		// No component updater downloads (Widevine, CRLSets, ...).
		{"disable-component-update", true},
		// No sign-in or sync traffic.
		{"disable-sync", true},
		// No extension can run in, or talk out of, a render.
		{"disable-extensions", true},
		// The headless shell's defaults where they differ from the full
		// browser's, so that both render a job to the same bytes
		// (TestHeadlessShellMatchesFullBrowser): glyph hinting as Debian's
		// fontconfig sets it (the shell's own default hints fully, and CJK
		// and emoji text came out different), navigator.languages, and
		// navigator.webdriver. The full browser has the same already.
		{"font-render-hinting", "slight"},
		{"accept-lang", "en-US,en"},
		{"enable-automation", true},
		// A hidden page (a p5 sketch renders in one, see present) runs as
		// a shown one would: its timers are not throttled (the prelude's
		// own real-time timeouts must not wait for a once-a-second
		// wake-up), and its renderer is not backgrounded, which puts V8 in
		// a mode that saves CPU by optimizing later: a sketch of heavy
		// per-pixel JavaScript then took 500 ms instead of 380.
		{"disable-background-timer-throttling", true},
		{"disable-renderer-backgrounding", true},
		{"disable-backgrounding-occluded-windows", true},
		// Scrollbars would take pixels from the viewport.
		{"hide-scrollbars", true},
		// Sketches may play sound; a render host has no one to hear it.
		{"mute-audio", true},
		// Colours come out the same on every host, whatever its display
		// profile.
		{"force-color-profile", "srgb"},
		// Every host name resolves to nothing, IP literals included. This is
		// what closes WebSocket, which Fetch interception does not see.
		{"host-resolver-rules", allTheRest},
		// p5.js comes from the worker's loopback asset server (see
		// assetServer), which Local Network Access would refuse to a public
		// https page. Sketches cannot reach loopback anyway: the resolver
		// maps every other name, IP literals included, to nothing, and the
		// Fetch interception fails every request that is not the page's.
		//
		// Script streaming (compiling a script on a background thread as
		// it downloads) is off: DevTools hands the browser's compilation
		// cache of p5.js (see primeP5) only to a script compiled on the
		// main thread, and with the cache the page deserializes p5's code
		// instead of compiling it, about 90 ms of CPU a job less
		// (docs/rendering.md, "Cutting the CPU per job").
		//
		// The omnibox's WebUI popups (WebUIOmniboxPopup and its AI-mode
		// and full variants) are off: Chromium 156 preloads two of them in
		// a headless browser, two renderers of about 105 MiB together that
		// no job ever shows.
		//
		// Storage buckets (navigator.storageBuckets) and the Protected
		// Audience API (navigator.joinAdInterestGroup, runAdAuction: Fledge
		// and AdInterestGroupAPI together) are off: no artwork needs them,
		// and what they store is outside the kinds a park clears, which
		// "all" would cover at eight times the cost (see clearTypes).
		{"disable-features", "LocalNetworkAccessChecks,BackForwardCache,ScriptStreaming,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,StorageBuckets,Fledge,AdInterestGroupAPI"},
		// WebRTC may not send UDP (STUN) outside a proxy, and there is none.
		// The full browser reads the first switch, the headless shell only
		// the second.
		{"webrtc-ip-handling-policy", "disable_non_proxied_udp"},
		{"force-webrtc-ip-handling-policy", "disable_non_proxied_udp"},
	}
	if heapMiB > 0 {
		// A sketch that grows its JavaScript heap fails inside its page, an
		// out-of-memory crash of the renderer, before the renderer reaches
		// the job's memory limit (see memoryGuard).
		list = append(list, chromiumSwitch{"js-flags", "--max-old-space-size=" + strconv.FormatInt(heapMiB, 10)})
	}
	index := make(map[string]int, len(list))
	for i, s := range list {
		index[s.name] = i
	}
	for i, f := range append(backendFlags, extra...) {
		if !strings.HasPrefix(f, "--") || len(f) < 3 {
			if i < len(backendFlags) {
				return nil, fmt.Errorf("render: %s backend flag %q must look like --name or --name=value", backend, f)
			}
			return nil, fmt.Errorf("render: extra chromium flag %q must look like --name or --name=value", f)
		}
		name, value, hasValue := strings.Cut(f[2:], "=")
		s := chromiumSwitch{name: name, value: true}
		if hasValue {
			s.value = value
		}
		if i, ok := index[name]; ok {
			if mine, ok := list[i].value.(string); ok && hasValue {
				if merged, ok := mergeSwitch(name, mine, value); ok {
					s.value = merged
				}
			}
			list[i] = s
			continue
		}
		index[name] = len(list)
		list = append(list, s)
	}
	return list, nil
}

// allTheRest is the host resolver's last rule: every name that no rule
// before it maps fails to resolve (see chromiumSwitches).
const allTheRest = "MAP * ~NOTFOUND"

// mergeSwitch joins a value given for a switch that holds a list to
// empplay's own, so that an extra flag adds to what empplay sets (features
// it turns off, the V8 heap limit, the rule that no other name resolves)
// instead of dropping it: the features of both, V8's flags in turn (a
// later one wins), and the resolver's rules with allTheRest kept last. It
// reports false for a switch whose value replaces empplay's.
func mergeSwitch(name, mine, theirs string) (string, bool) {
	switch name {
	case "disable-features", "enable-features":
		var out []string
		for _, f := range strings.Split(mine+","+theirs, ",") {
			if f = strings.TrimSpace(f); f != "" && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
		return strings.Join(out, ","), true
	case "js-flags":
		return strings.TrimSpace(mine + " " + theirs), true
	case "host-resolver-rules":
		var out []string
		last := false
		for _, r := range strings.Split(mine+","+theirs, ",") {
			r = strings.TrimSpace(r)
			switch {
			case r == allTheRest:
				last = true
			case r != "" && !slices.Contains(out, r):
				out = append(out, r)
			}
		}
		if last {
			out = append(out, allTheRest)
		}
		return strings.Join(out, ", "), true
	}
	return "", false
}

// args renders the switches as command-line arguments.
func args(list []chromiumSwitch) []string {
	var out []string
	for _, s := range list {
		switch v := s.value.(type) {
		case string:
			out = append(out, "--"+s.name+"="+v)
		case bool:
			if v {
				out = append(out, "--"+s.name)
			}
		}
	}
	return out
}
