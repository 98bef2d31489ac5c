package gpu

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The real NVML on the machine running the tests: on a host without the
// NVIDIA driver it must fail cleanly, never panic (every call after a
// failed Init would jump to an unresolved symbol); on a GPU host it must
// report the GPUs. Neither test here is parallel: go-nvml's libraries share
// a package variable that each one's first successful load writes.
func TestSystemNVML(t *testing.T) {
	nv := NewSystemNVML()
	err := nv.Init()
	if err == nil {
		defer func() {
			if err := nv.Shutdown(); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		}()
		v, err := nv.DriverVersion()
		if err != nil || v == "" {
			t.Errorf("DriverVersion = %q, %v", v, err)
		}
		devs, err := nv.Devices()
		if err != nil {
			t.Errorf("Devices: %v", err)
		}
		if procs, err := nv.Processes(); err != nil {
			t.Errorf("Processes: %v", err)
		} else {
			t.Logf("%d processes hold GPU memory", len(procs))
		}
		for _, d := range devs {
			t.Logf("GPU %d: %s %s, %d MiB (%d free), %s, driver %s", d.Index, d.Name, d.UUID, d.MemoryTotal>>20, d.MemoryFree>>20, d.PCIBusID, v)
			if d.Name == "" || d.UUID == "" || d.MemoryTotal == 0 {
				t.Errorf("incomplete device %+v", d)
			}
		}
		return
	}
	t.Logf("Init: %v", err)
	if err.Error() == "" {
		t.Error("Init failed with an empty message")
	}
	if !haveLibrary("libnvidia-ml.so.1") && !errors.Is(err, ErrNVMLNotFound) && !errors.Is(err, ErrNoCgo) {
		t.Errorf("Init without libnvidia-ml.so.1: %v, want ErrNVMLNotFound", err)
	}
	if _, err := nv.DriverVersion(); !errors.Is(err, ErrNVMLNotInitialized) {
		t.Errorf("DriverVersion after a failed Init: %v", err)
	}
	if _, err := nv.Devices(); !errors.Is(err, ErrNVMLNotInitialized) {
		t.Errorf("Devices after a failed Init: %v", err)
	}
	if _, err := nv.Processes(); !errors.Is(err, ErrNVMLNotInitialized) {
		t.Errorf("Processes after a failed Init: %v", err)
	}
	if err := nv.Shutdown(); !errors.Is(err, ErrNVMLNotInitialized) {
		t.Errorf("Shutdown after a failed Init: %v", err)
	}
	// A second try fails the same way.
	if err2 := nv.Init(); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second Init: %v, first %v", err2, err)
	}
}

// Detection on this host with the real NVML does not panic and says why
// NVML was unusable when it was.
func TestDetectHost(t *testing.T) {
	info := NewDetector(NewSystemNVML()).Detect(context.Background())
	t.Logf("%+v", info)
	if len(info.NVIDIA) == 0 && info.NVMLError == "" && info.DriverVersion == "" {
		t.Error("no NVIDIA GPU and no reason")
	}
	for _, mode := range []string{ModeAuto, ModeOn, ModeOff} {
		b, w, err := Choose(mode, info)
		t.Logf("%s: %q %q %v", mode, b, w, err)
	}
}

func haveLibrary(name string) bool {
	for _, d := range libraryDirs() {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return true
		}
	}
	return false
}
