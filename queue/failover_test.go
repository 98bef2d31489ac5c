package queue_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

// A Sentinel failover moves the master to the replica; the same client
// and queue keep working against the new master without a restart.
func TestSentinelFailover(t *testing.T) {
	master := testenv.StartRedis(t)
	replica := testenv.StartRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))
	port := testenv.FreePort(t)
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 %d 1\nsentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\n", port, master.Port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, _ := exec.LookPath("redis-server")
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		testenv.Missing(t, "redis-cli (Debian package redis-tools)")
	}
	p := testenv.Start(t, bin, conf, "--sentinel")
	testenv.WaitTCP(t, p, "127.0.0.1:"+strconv.Itoa(port), 10*time.Second)
	sentinel := func(args ...string) string {
		out, _ := exec.Command(cli, append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
		return string(out)
	}
	// Wait until the sentinel knows the replica, or a failover has nowhere to go.
	testenv.Eventually(t, 20*time.Second, 200*time.Millisecond, func() bool {
		return strings.Contains(sentinel("sentinel", "replicas", "mymaster"), strconv.Itoa(replica.Port))
	}, "sentinel did not discover the replica")

	c := dial(t, fmt.Sprintf("redis://127.0.0.1:%d?master_set=mymaster", port))
	ctx := testenv.Context(t, 90*time.Second)
	prod := queue.NewClient(c, "")
	q := newQueue(c, queue.Config{BlockTimeout: time.Second})
	roundTrip := func(raw string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		var id string
		var err error
		if !testenv.Poll(30*time.Second, 200*time.Millisecond, func() bool {
			id, err = prod.Submit(ctx, []byte(raw))
			return err == nil
		}) {
			t.Fatalf("submit after failover: %v", err)
		}
		for {
			d, err := q.Fetch(ctx)
			if d != nil {
				if _, err := q.Finish(ctx, d, &empplay.Result{Success: true}); err != nil {
					t.Fatal(err)
				}
				if d.ID == id {
					return
				}
				continue
			}
			if time.Now().After(deadline) {
				t.Fatalf("fetch after failover: %v", err)
			}
		}
	}
	roundTrip(`{"before":"failover"}`)
	// The sentinel needs a few pings before it deems the replica promotable.
	var out string
	if !testenv.Poll(30*time.Second, 300*time.Millisecond, func() bool {
		out = sentinel("sentinel", "failover", "mymaster")
		return strings.Contains(out, "OK")
	}) {
		t.Fatalf("SENTINEL FAILOVER: %s", out)
	}
	testenv.Eventually(t, 30*time.Second, 200*time.Millisecond, func() bool {
		return strings.Contains(sentinel("sentinel", "get-master-addr-by-name", "mymaster"), strconv.Itoa(replica.Port))
	}, "failover did not promote the replica")
	start := time.Now()
	roundTrip(`{"after":"failover"}`)
	t.Logf("queue working against the new master %v after the switch", time.Since(start).Round(time.Millisecond))
}
