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
	for _, want := range []string{"Type=notify", "KillMode=mixed", "OOMPolicy=continue", "RestartPreventExitStatus=2", "TimeoutStopSec="} {
		if !strings.Contains(string(unit), "\n"+want) {
			t.Errorf("unit lacks %s", want)
		}
	}
	bin := binary(t)
	path := filepath.Join(t.TempDir(), "empplay.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/empplay", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
