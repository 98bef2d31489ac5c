package sdnotify

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

func TestNotify(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	env := map[string]string{"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "42"}
	n := New(func(k string) string { return env[k] }, 42)
	if !n.Enabled() || n.WatchdogInterval() != 2*time.Second {
		t.Fatalf("enabled %v interval %v; want true, 2s", n.Enabled(), n.WatchdogInterval())
	}
	for _, msg := range []string{"READY=1", "STATUS=2 workers ready", "WATCHDOG=1", "STOPPING=1"} {
		if err := n.Notify(msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 256)
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		k, err := conn.Read(buf)
		if err != nil || string(buf[:k]) != msg {
			t.Fatalf("socket got %q, %v; want %q", buf[:k], err, msg)
		}
	}
}

func TestWithoutSystemd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		pid  int
		want time.Duration
	}{
		{"no socket", map[string]string{}, 1, 0},
		{"watchdog for another pid", map[string]string{"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "7"}, 1, 0},
		{"bad usec", map[string]string{"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "soon"}, 1, 0},
	} {
		n := New(func(k string) string { return tc.env[k] }, tc.pid)
		if n.WatchdogInterval() != tc.want {
			t.Errorf("%s: interval %v; want %v", tc.name, n.WatchdogInterval(), tc.want)
		}
	}
	if err := New(func(string) string { return "" }, 1).Notify("READY=1"); err != nil {
		t.Errorf("Notify without a socket = %v; want a no-op", err)
	}
}
