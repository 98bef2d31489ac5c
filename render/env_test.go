package render

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/empplay/empplay/internal/proc"
)

func TestChromiumEnv(t *testing.T) {
	tests := []struct {
		kv   string
		keep bool
	}{
		{"PATH=/usr/bin", true},
		{"HOME=/root", true},
		{"LANG=C.UTF-8", true},
		{"LC_ALL=C", true},
		{"TZ=UTC", true},
		{"FONTCONFIG_PATH=/etc/fonts", true},
		{"LD_LIBRARY_PATH=/usr/lib/nvidia", true},
		{"__EGL_VENDOR_LIBRARY_FILENAMES=/usr/share/glvnd/egl_vendor.d/10_nvidia.json", true},
		{"MESA_GL_VERSION_OVERRIDE=4.5", true},
		{"AZURE_STORAGE_KEY=c2VjcmV0", false},
		{"AZURE_STORAGE_CONNECTION_STRING=AccountKey=c2VjcmV0", false},
		{"REDIS_URL=redis://:hunter2@127.0.0.1:6379", false},
		{"ADMIN_TOKEN=x", false},
		{"API_TOKEN=x", false},
		{"AWS_SECRET_ACCESS_KEY=x", false},
		{"PATHS=x", false}, // exact names, not prefixes
		{"=broken", false},
		{"noequals", false},
	}
	for _, tc := range tests {
		got := chromiumEnv([]string{tc.kv})
		if kept := len(got) == 1; kept != tc.keep {
			t.Errorf("chromiumEnv(%q) = %q; want kept=%v", tc.kv, got, tc.keep)
		}
	}
}

// TestChromiumHoldsNoSecret reads the environment of every process of a
// running browser (browser, zygotes, utilities, renderers, GPU, crashpad)
// after a render, with secrets in the worker's environment.
func TestChromiumHoldsNoSecret(t *testing.T) {
	secrets := map[string]string{
		"AZURE_STORAGE_KEY":               "c2VjcmV0LWF6dXJlLWtleQ==",
		"AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=c2VjcmV0LWNvbm4=",
		"REDIS_URL":                       "redis://:hunter2-redis-password@127.0.0.1:6379/0",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	b := newTestBrowser(t, Options{})
	if _, err := render(t, b, flatJob("function setup() { createCanvas(10, 10, WEBGL); }", 10, 10)); err != nil {
		t.Fatal(err)
	}
	procs := proc.Naming(b.ProfileDir())
	if len(procs) < 3 {
		t.Fatalf("only %d processes of the browser found", len(procs))
	}
	read := 0
	for _, pid := range procs {
		env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err != nil {
			continue // exited meanwhile
		}
		read++
		vars := bytes.Split(env, []byte{0})
		for k, v := range secrets {
			for _, kv := range vars {
				if strings.HasPrefix(string(kv), k+"=") || bytes.Contains(kv, []byte(v)) {
					t.Errorf("process %d (%s) has %s in its environment", pid, cmdline(t, pid)[0], k)
				}
			}
		}
		// Processes forked from a zygote reuse the environment's memory
		// for their retitled command line, so only the browser process
		// is sure to show the allow-listed variables.
		if pid == b.PID() && !slices.ContainsFunc(vars, func(kv []byte) bool { return bytes.HasPrefix(kv, []byte("PATH=")) }) {
			t.Errorf("the browser process %d has no PATH: %q", pid, vars)
		}
	}
	if read < 3 {
		t.Fatalf("read the environment of only %d processes", read)
	}
	t.Logf("%d processes, none with a secret", read)
}
