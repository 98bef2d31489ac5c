package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/empplay/empplay/internal/testenv"
)

// The image and its seccomp profile agree with the sandbox policy: the
// image requires the sandbox as a user other than root, and the profile
// allows the namespaces Chromium's sandbox makes while it denies what a
// process without capabilities has no use for.
func TestContainerSandbox(t *testing.T) {
	root := testenv.RepoRoot(t)
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nUSER empplay\n", "CHROMIUM_SANDBOX=on", "seccomp=scripts/chromium-seccomp.json"} {
		if !strings.Contains(string(dockerfile), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, "scripts", "chromium-seccomp.json"))
	if err != nil {
		t.Fatal(err)
	}
	var profile struct {
		DefaultAction string   `json:"defaultAction"`
		Architectures []string `json:"architectures"`
		Syscalls      []struct {
			Names  []string `json:"names"`
			Action string   `json:"action"`
		} `json:"syscalls"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&profile); err != nil {
		t.Fatalf("scripts/chromium-seccomp.json: %v", err)
	}
	if profile.DefaultAction != "SCMP_ACT_ALLOW" || !slices.Contains(profile.Architectures, "SCMP_ARCH_X86_64") {
		t.Errorf("default action %q, architectures %v", profile.DefaultAction, profile.Architectures)
	}
	denied := map[string]bool{}
	for _, rule := range profile.Syscalls {
		if rule.Action != "SCMP_ACT_ALLOW" {
			for _, n := range rule.Names {
				denied[n] = true
			}
		}
	}
	for _, n := range []string{"clone", "clone3", "unshare", "setns", "chroot", "seccomp", "prctl"} {
		if denied[n] {
			t.Errorf("the profile denies %s, which Chromium's sandbox needs", n)
		}
	}
	for _, n := range []string{"mount", "bpf", "keyctl", "perf_event_open", "userfaultfd", "kexec_load", "init_module", "open_by_handle_at"} {
		if !denied[n] {
			t.Errorf("the profile allows %s", n)
		}
	}
}
