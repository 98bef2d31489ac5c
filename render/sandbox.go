// This file decides whether Chromium runs with its sandbox: the policy (auto, on, off) against what the host allows.

package render

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Sandbox policies (see [Options.Sandbox]).
const (
	// SandboxAuto turns the sandbox on whenever the process is not root
	// and the host allows it. It is the default.
	SandboxAuto = "auto"
	// SandboxOn requires the sandbox: its absence is an error.
	SandboxOn = "on"
	// SandboxOff turns the sandbox off.
	SandboxOff = "off"
)

// ErrNoSandbox is wrapped by [ResolveSandbox] under [SandboxOn] when the
// sandbox cannot run.
var ErrNoSandbox = errors.New("chromium's sandbox is not available")

// SandboxState is whether Chromium's renderers run sandboxed (seccomp-bpf,
// and user, PID and network namespaces of their own) and why.
type SandboxState struct {
	Enabled bool
	// Via is how the sandbox gets its namespaces when Enabled ("user
	// namespaces" or "setuid helper PATH"), else why it is off.
	Via string
}

// String is the state for logs and reports: "on (user namespaces)",
// "off (running as root)".
func (s SandboxState) String() string {
	if s.Enabled {
		return "on (" + s.Via + ")"
	}
	return "off (" + s.Via + ")"
}

// sandboxHost is what the sandbox needs of the host.
type sandboxHost struct {
	euid int
	// userns is "" when an unprivileged process can make user namespaces,
	// else why not.
	userns func() string
	// helper is the path of a setuid-root chrome-sandbox next to the
	// Chromium binary, "" when there is none.
	helper string
}

// ResolveSandbox applies policy (SandboxAuto, SandboxOn or SandboxOff;
// "" is SandboxAuto) to this host for the Chromium binary at chromiumPath.
// It probes the host once: Chromium's sandbox needs a non-root user and
// either unprivileged user namespaces (which it tries by starting a
// process in new user, PID and network namespaces, as Chromium does) or
// a setuid-root chrome-sandbox helper beside the binary. Under SandboxOn
// an absent sandbox is an error wrapping [ErrNoSandbox].
func ResolveSandbox(policy, chromiumPath string) (SandboxState, error) {
	return resolveSandbox(policy, sandboxHost{
		euid:   os.Geteuid(),
		userns: probeUserNamespaces,
		helper: setuidHelper(filepath.Join(filepath.Dir(chromiumPath), "chrome-sandbox")),
	})
}

func resolveSandbox(policy string, h sandboxHost) (SandboxState, error) {
	switch policy {
	case "", SandboxAuto, SandboxOn:
	case SandboxOff:
		return SandboxState{Via: "CHROMIUM_SANDBOX=off"}, nil
	default:
		return SandboxState{}, fmt.Errorf("render: unknown sandbox policy %q: want %s, %s or %s", policy, SandboxAuto, SandboxOn, SandboxOff)
	}
	st := SandboxState{Enabled: true}
	switch why := ""; {
	case h.euid == 0:
		st = SandboxState{Via: "running as root"}
	case h.helper != "":
		st.Via = "setuid helper " + h.helper
	default:
		if why = h.userns(); why == "" {
			st.Via = "user namespaces"
		} else {
			st = SandboxState{Via: why}
		}
	}
	if policy == SandboxOn && !st.Enabled {
		hint := "run as a user other than root"
		if st.Via != "running as root" {
			hint = "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0; in a container, a seccomp profile that allows clone and unshare of namespaces) or install chrome-sandbox setuid root beside Chromium"
		}
		return st, fmt.Errorf("render: CHROMIUM_SANDBOX=on but %w: %s; %s, or set CHROMIUM_SANDBOX=off", ErrNoSandbox, st.Via, hint)
	}
	return st, nil
}

// probeUserNamespaces returns "" when this process may make user
// namespaces, as Chromium's namespace sandbox does, else why not.
func probeUserNamespaces() string {
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return "unprivileged user namespaces are off (kernel.unprivileged_userns_clone=0)"
	}
	if b, err := os.ReadFile("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"); err == nil && strings.TrimSpace(string(b)) == "1" {
		// Ubuntu 23.10 and later: the namespace is made, but without the
		// rights Chromium's sandbox needs in it, unless an AppArmor profile
		// grants them to the Chromium binary.
		return "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)"
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return "user namespaces are off (user.max_user_namespaces=0)"
	}
	// The sysctls do not tell of a seccomp profile or an LSM that refuses
	// the clone: try it. The process does nothing.
	self, err := os.Executable()
	if err != nil {
		self = "/proc/self/exe"
	}
	cmd := exec.Command(self, "-h")
	cmd.Env = []string{}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
	}
	if err := cmd.Start(); err != nil {
		return "this process may not make user namespaces: " + err.Error()
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return ""
}

// setuidHelper returns path when it is a setuid-root executable, else "".
func setuidHelper(path string) string {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeSetuid == 0 || fi.Mode()&0o111 == 0 {
		return ""
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != 0 {
		return ""
	}
	return path
}
