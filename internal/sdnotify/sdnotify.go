// Package sdnotify speaks systemd's notify protocol (sd_notify(3)) without
// cgo or a dependency: READY=1, STATUS=..., STOPPING=1 and WATCHDOG=1
// datagrams to $NOTIFY_SOCKET.
package sdnotify

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// Notifier sends state changes to systemd. The zero value (no socket) is a
// no-op, so callers need not check whether they run under systemd.
type Notifier struct {
	socket   string
	watchdog time.Duration
}

// New reads the notify socket and watchdog interval from getenv
// (NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID for pid).
func New(getenv func(string) string, pid int) *Notifier {
	n := &Notifier{socket: getenv("NOTIFY_SOCKET")}
	if us, err := strconv.ParseInt(getenv("WATCHDOG_USEC"), 10, 64); err == nil && us > 0 {
		if p := getenv("WATCHDOG_PID"); p == "" || p == strconv.Itoa(pid) {
			n.watchdog = time.Duration(us) * time.Microsecond
		}
	}
	return n
}

// Enabled reports whether a notify socket is set.
func (n *Notifier) Enabled() bool { return n.socket != "" }

// WatchdogInterval is how often to send WATCHDOG=1 (half systemd's
// WatchdogSec), or 0 when the watchdog is off.
func (n *Notifier) WatchdogInterval() time.Duration { return n.watchdog / 2 }

// Notify sends one state string, such as "READY=1" or "STATUS=4 workers".
func (n *Notifier) Notify(state string) error {
	if n.socket == "" {
		return nil
	}
	addr := &net.UnixAddr{Name: n.socket, Net: "unixgram"}
	if addr.Name[0] == '@' {
		addr.Name = "\x00" + addr.Name[1:] // abstract namespace
	}
	c, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return fmt.Errorf("connect to NOTIFY_SOCKET: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify %q: %w", state, err)
	}
	return nil
}
