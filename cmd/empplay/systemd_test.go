package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/empplay/empplay/internal/testenv"
)

// The unit file in scripts/ must pass systemd's own checker, with
// ExecStart pointed at the binary under test (verify insists it exists).
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Missing(t, "systemd-analyze (Debian package systemd)")
	}
	unit, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "scripts", "empplay.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "KillMode=mixed", "OOMPolicy=continue", "RestartPreventExitStatus=78", "TimeoutStopSec=", "MemoryHigh=", "MemoryMax=", "Environment=CHROMIUM_SANDBOX=on"} {
		if !strings.Contains(string(unit), "\n"+want) {
			t.Errorf("unit lacks %s", want)
		}
	}
	bin := binary(t)
	// The unit's memory limits are the supervisor's for the defaults.
	cmd := exec.Command(bin, "supervise", "--print-systemd-limits")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	dropIn, err := cmd.Output()
	if err != nil {
		t.Fatalf("supervise --print-systemd-limits: %v", err)
	}
	for _, line := range strings.Split(string(dropIn), "\n") {
		if strings.HasPrefix(line, "Memory") && !strings.Contains(string(unit), "\n"+line+"\n") {
			t.Errorf("unit lacks %s, which supervise --print-systemd-limits gives for the defaults:\n%s", line, dropIn)
		}
	}
	if !strings.Contains(string(dropIn), "MemoryMax=") {
		t.Errorf("no MemoryMax in the drop-in:\n%s", dropIn)
	}
	path := filepath.Join(t.TempDir(), "empplay.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/empplay", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// And with the drop-in's settings (a section may repeat in a file, as
	// a drop-in's does after the unit's).
	if err := os.WriteFile(path, append([]byte(strings.ReplaceAll(string(unit), "/usr/local/bin/empplay", bin)), dropIn...), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify with the drop-in: %v\n%s", err, out)
	}
}
