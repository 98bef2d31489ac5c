package render

import (
	"crypto/sha256"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
)

func TestCPUAt(t *testing.T) {
	t.Parallel()
	set := func(cpus ...int) *unix.CPUSet {
		var s unix.CPUSet
		for _, c := range cpus {
			s.Set(c)
		}
		return &s
	}
	for _, tc := range []struct {
		name string
		set  *unix.CPUSet
		k    int
		want int
	}{
		{"first", set(0, 1), 0, 0},
		{"second", set(0, 1), 1, 1},
		{"wraps", set(0, 1), 2, 0},
		{"sparse set", set(2, 5, 9), 1, 5},
		{"sparse wraps", set(2, 5, 9), 4, 5},
		{"one cpu", set(3), 7, 3},
		{"negative", set(0, 1, 2), -1, 2},
		{"high cpu", set(70, 130), 1, 130},
		{"empty", set(), 0, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cpuAt(tc.set, tc.k); got != tc.want {
				t.Errorf("cpuAt(%v, %d) = %d; want %d", tc.set, tc.k, got, tc.want)
			}
		})
	}
}

// cpusAllowed is /proc/pid/status's Cpus_allowed_list of pid.
func cpusAllowed(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list for pid %d", pid)
	return ""
}

// TestChromiumCPUs checks the binding cpus.go sets up: the zygotes (and
// so every renderer) on one CPU, the browser process on all of the
// worker's CPUs again.
func TestChromiumCPUs(t *testing.T) {
	b := sharedBrowser(t)
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	if all.Count() < 2 {
		t.Skip("one CPU: nothing to bind")
	}
	pid := b.PID()
	mine := cpusAllowed(t, os.Getpid())
	if got := cpusAllowed(t, pid); got != mine {
		t.Errorf("browser process on CPUs %s; want the worker's %s", got, mine)
	}
	zygotes := 0
	for _, p := range proc.InGroup(pid) {
		args, _ := proc.Cmdline(p.PID)
		if hasSwitch(args, "--type=zygote") {
			zygotes++
			if got, want := cpusAllowed(t, p.PID), strconv.Itoa(cpuAt(&all, 0)); got != want {
				t.Errorf("zygote %d on CPUs %s; want %s", p.PID, got, want)
			}
		}
	}
	if zygotes == 0 {
		t.Error("found no zygote in the browser's process group")
	}
}

// TestVideoBytesRepeat renders a video large enough for Chromium to
// encode it on several threads (640x480 or more) twice: the files must be
// the same bytes, not merely look alike.
func TestVideoBytesRepeat(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	const code = `
function setup() { createCanvas(800, 800); pixelDensity(1); }
function draw() {
  background(20, 24, 40);
  noStroke();
  for (let i = 0; i < 200; i++) {
    const a = i * 0.1 + millis() * 0.0009;
    const r = 100 + 250 * noise(i * 0.05, millis() * 0.0003);
    fill((i * 7 + frameCount) % 255, 120 + 100 * sin(a), 200, 180);
    circle(400 + r * cos(a), 400 + r * sin(a), 10 + 30 * noise(i, millis() * 0.0006));
  }
}`
	for _, format := range []string{"mp4", "webm"} {
		t.Run(format, func(t *testing.T) {
			sum := func() [32]byte {
				ctx := testenv.Context(t, time.Minute)
				out, err := b.Render(ctx, videoJob(code, 800, 800, 1, 30, format))
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				return sha256.Sum256(out.Artifacts[0].Body)
			}
			first := sum()
			for i := 0; i < 2; i++ {
				if got := sum(); got != first {
					t.Fatalf("run %d: sha256 %x; the first run gave %x", i+2, got, first)
				}
			}
		})
	}
}
