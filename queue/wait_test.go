package queue_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

// blockedClients returns Redis's count of clients blocked in a blocking
// command (BLPOP, BLMOVE, ...).
func blockedClients(t *testing.T, c rueidis.Client) int {
	t.Helper()
	info, err := c.Do(context.Background(), c.B().Info().Section("clients").Build()).ToString()
	if err != nil {
		t.Fatalf("INFO clients: %v", err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "blocked_clients:"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("INFO clients: blocked_clients %q", v)
			}
			return n
		}
	}
	t.Fatalf("INFO clients has no blocked_clients:\n%s", info)
	return 0
}

// waitBlocked waits until n clients are blocked in Redis: the fetches or
// waits a test started are parked in their blocking command, so what the
// test does next happens while they wait.
func waitBlocked(t *testing.T, c rueidis.Client, n int) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, 5*time.Millisecond, func() bool { return blockedClients(t, c) >= n },
		"fewer than %d clients blocked in Redis", n)
}

// unblockAll ends the blocking command of every client blocked in Redis,
// as if it had timed out (CLIENT UNBLOCK): rueidis waits for a blocking
// command's reply even after its context is done.
func unblockAll(t *testing.T, c rueidis.Client) {
	t.Helper()
	ctx := context.Background()
	list, err := c.Do(ctx, c.B().ClientList().Build()).ToString()
	if err != nil {
		t.Fatalf("CLIENT LIST: %v", err)
	}
	for line := range strings.SplitSeq(list, "\n") {
		f := strings.Fields(line)
		var id string
		blocked := false
		for _, kv := range f {
			if v, ok := strings.CutPrefix(kv, "id="); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(kv, "flags="); ok {
				blocked = strings.Contains(v, "b")
			}
		}
		if !blocked || id == "" {
			continue
		}
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			t.Fatalf("CLIENT LIST: id %q", id)
		}
		if err := c.Do(ctx, c.B().ClientUnblock().ClientId(n).Build()).Error(); err != nil {
			t.Fatalf("CLIENT UNBLOCK %d: %v", n, err)
		}
	}
}

// waitExpired waits until worker wid's heartbeat has expired by Redis's
// clock (its registry score is in the past), or it left the registry.
func waitExpired(t *testing.T, c rueidis.Client, k queue.Keys, wid string) {
	t.Helper()
	expired := func() bool {
		ctx := context.Background()
		score, err := c.Do(ctx, c.B().Zscore().Key(k.Workers()).Member(wid).Build()).AsFloat64()
		if rueidis.IsRedisNil(err) {
			return true
		}
		if err != nil {
			t.Fatalf("ZSCORE: %v", err)
		}
		now, err := c.Do(ctx, c.B().Time().Build()).AsStrSlice()
		if err != nil || len(now) != 2 {
			t.Fatalf("TIME: %v %v", now, err)
		}
		sec, _ := strconv.ParseInt(now[0], 10, 64)
		usec, _ := strconv.ParseInt(now[1], 10, 64)
		return score <= float64(sec*1000+usec/1000)
	}
	testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, expired, "the heartbeat of %s has not expired", wid)
}
