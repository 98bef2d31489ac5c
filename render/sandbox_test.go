package render

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestResolveSandbox(t *testing.T) {
	t.Parallel()
	userns := func() string { return "" }
	noUserns := func() string { return "user namespaces are off (user.max_user_namespaces=0)" }
	for _, tc := range []struct {
		name    string
		policy  string
		host    sandboxHost
		want    bool   // sandbox on
		via     string // in the state
		wantErr bool
	}{
		{name: "auto, user", policy: SandboxAuto, host: sandboxHost{euid: 1000, userns: userns}, want: true, via: "user namespaces"},
		{name: "default is auto", policy: "", host: sandboxHost{euid: 1000, userns: userns}, want: true, via: "user namespaces"},
		{name: "auto, root", policy: SandboxAuto, host: sandboxHost{euid: 0, userns: userns}, via: "running as root"},
		{name: "auto, no user namespaces", policy: SandboxAuto, host: sandboxHost{euid: 1000, userns: noUserns}, via: "max_user_namespaces=0"},
		{name: "auto, helper without user namespaces", policy: SandboxAuto, host: sandboxHost{euid: 1000, userns: noUserns, helper: "/opt/c/chrome-sandbox"}, want: true, via: "setuid helper /opt/c/chrome-sandbox"},
		{name: "on, user", policy: SandboxOn, host: sandboxHost{euid: 1000, userns: userns}, want: true},
		{name: "on, root", policy: SandboxOn, host: sandboxHost{euid: 0, userns: userns}, wantErr: true, via: "running as root"},
		{name: "on, root with a helper", policy: SandboxOn, host: sandboxHost{euid: 0, userns: userns, helper: "/opt/c/chrome-sandbox"}, wantErr: true},
		{name: "on, no user namespaces", policy: SandboxOn, host: sandboxHost{euid: 1000, userns: noUserns}, wantErr: true, via: "max_user_namespaces=0"},
		{name: "off, user", policy: SandboxOff, host: sandboxHost{euid: 1000, userns: userns}, via: "CHROMIUM_SANDBOX=off"},
		{name: "off, root", policy: SandboxOff, host: sandboxHost{euid: 0}, via: "CHROMIUM_SANDBOX=off"},
		{name: "unknown policy", policy: "maybe", host: sandboxHost{euid: 1000, userns: userns}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := resolveSandbox(tc.policy, tc.host)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error; state %s", st)
				}
				if tc.policy == SandboxOn && !errors.Is(err, ErrNoSandbox) {
					t.Errorf("error %v does not wrap ErrNoSandbox", err)
				}
				if !strings.Contains(err.Error(), tc.via) {
					t.Errorf("error %q does not say %q", err, tc.via)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Enabled != tc.want || !strings.Contains(st.String(), tc.via) {
				t.Errorf("state %s; want enabled=%v with %q", st, tc.want, tc.via)
			}
		})
	}
}

// This host's answer must agree with the probe: never on for root, on for
// another user exactly when the probe may make the namespaces.
func TestResolveSandboxHere(t *testing.T) {
	st, err := ResolveSandbox(SandboxAuto, "/nonexistent/chromium")
	if err != nil {
		t.Fatal(err)
	}
	probe := probeUserNamespaces()
	t.Logf("this host: %s; user namespaces: %q", st, probe)
	want := os.Geteuid() != 0 && probe == ""
	if st.Enabled != want {
		t.Errorf("state %s; want enabled=%v", st, want)
	}
}
