// This file builds the environment Chromium starts with: an allow-list, so
// that no secret of the worker (storage keys, the Redis URL) reaches it.

package render

import "strings"

// chromiumEnvNames are the variables Chromium is given from the worker's
// environment, by exact name: where to find programs and the home
// directory, the locale and time zone (which a page can observe, so they
// must follow the host's configuration), fonts, a display for a headed
// debugging session, and the variables GPU drivers read to find their
// libraries.
var chromiumEnvNames = []string{
	"PATH", "HOME", "USER", "LOGNAME", "TMPDIR",
	"LANG", "LANGUAGE", "TZ",
	"FONTCONFIG_FILE", "FONTCONFIG_PATH",
	"DISPLAY", "WAYLAND_DISPLAY",
	"XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_DATA_DIRS",
	"LD_LIBRARY_PATH",
	"VK_ICD_FILENAMES", "VK_DRIVER_FILES",
	"__EGL_VENDOR_LIBRARY_DIRS", "__EGL_VENDOR_LIBRARY_FILENAMES",
	"__GLX_VENDOR_LIBRARY_NAME",
}

// chromiumEnvPrefixes are the families of variables Chromium is given:
// the locale's categories, and the GPU drivers' own settings (Mesa,
// libGL, NVIDIA's __GL_*).
var chromiumEnvPrefixes = []string{"LC_", "MESA_", "LIBGL_", "__GL_"}

// chromiumEnv returns the entries of environ (as os.Environ gives them)
// that Chromium may see. Everything else (AZURE_STORAGE_KEY,
// AZURE_STORAGE_CONNECTION_STRING, REDIS_URL and whatever else the worker
// was started with) stays in the worker.
func chromiumEnv(environ []string) []string {
	var env []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		if allowedEnv(name) {
			env = append(env, kv)
		}
	}
	return env
}

func allowedEnv(name string) bool {
	for _, n := range chromiumEnvNames {
		if name == n {
			return true
		}
	}
	for _, p := range chromiumEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
