package queue_test

import (
	"context"
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

// The whole protocol (submit, fetch, claim, finish, wait, admin) works
// through every REDIS_URL form a deployment uses: a unix socket, Sentinel
// and Cluster. In Cluster every script stays in one slot because all keys
// share the queue's hash tag.
func TestRedisDeployments(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"unix socket", func(t *testing.T) string {
			sock := filepath.Join(t.TempDir(), "redis.sock")
			testenv.StartRedis(t, "--unixsocket", sock, "--unixsocketperm", "700")
			return "unix://" + sock
		}},
		{"sentinel", func(t *testing.T) string {
			master := testenv.StartRedis(t)
			port := testenv.FreePort(t)
			conf := filepath.Join(t.TempDir(), "sentinel.conf")
			body := fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 %d 1\nsentinel down-after-milliseconds mymaster 5000\n", port, master.Port)
			if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			bin, _ := exec.LookPath("redis-server")
			p := testenv.Start(t, bin, conf, "--sentinel")
			testenv.WaitTCP(t, p, "127.0.0.1:"+strconv.Itoa(port), 10*time.Second)
			return fmt.Sprintf("redis://127.0.0.1:%d?master_set=mymaster", port)
		}},
		{"cluster", func(t *testing.T) string {
			var addrs []string
			for range 3 {
				// The cluster bus's port of its own: by default it is the
				// port plus 10000, and a node on a free port above 55535
				// (a fifth of the kernel's range) would not start.
				n := testenv.StartRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
					"--cluster-port", strconv.Itoa(testenv.FreePort(t)))
				addrs = append(addrs, n.Addr)
			}
			cli, err := exec.LookPath("redis-cli")
			if err != nil {
				testenv.Missing(t, "redis-cli (Debian package redis-tools)")
			}
			out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...).CombinedOutput()
			if err != nil {
				t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
			}
			var info []byte
			if !testenv.Poll(20*time.Second, 100*time.Millisecond, func() bool {
				info, _ = exec.Command(cli, "-h", "127.0.0.1", "-p", strings.Split(addrs[0], ":")[1], "cluster", "info").Output()
				return strings.Contains(string(info), "cluster_state:ok")
			}) {
				t.Fatalf("cluster not ok:\n%s", info)
			}
			return "redis://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url(t)
			c := dial(t, url)
			ctx := testenv.Context(t, 60*time.Second)
			prod := queue.NewClient(c, "")
			q := newQueue(c, queue.Config{BlockTimeout: time.Second})
			if err := q.Register(ctx); err != nil {
				t.Fatal(err)
			}
			raw := []byte(`{"via":"` + tc.name + `"}`)
			id, err := prod.Submit(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			d, err := q.Fetch(ctx)
			if err != nil || d == nil || d.ID != id {
				t.Fatalf("Fetch = %+v, %v", d, err)
			}
			if wrote, err := q.Finish(ctx, d, &empplay.Result{Success: true, Src: "ok"}); !wrote || err != nil {
				t.Fatalf("Finish = %v, %v", wrote, err)
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if r, err := prod.Wait(wctx, id); err != nil || r.Src != "ok" {
				t.Fatalf("Wait = %+v, %v", r, err)
			}
			if _, err := queue.NewMaintainer(c, "", "t").Sweep(ctx, time.Second); err != nil {
				t.Fatalf("Sweep: %v", err)
			}
			if st, err := queue.NewAdmin(c, "").Stats(ctx); err != nil || st.Pending != 0 {
				t.Fatalf("Stats = %+v, %v", st, err)
			}
			if err := q.Deregister(ctx); err != nil {
				t.Fatal(err)
			}

			// The GPU lane: routed by a CPU worker, taken by a GPU
			// worker, drained back once no GPU worker is left.
			cpu := newLaneQueue(t, c, queue.LaneCPU, queue.Config{})
			gpuq := newLaneQueue(t, c, queue.LaneGPU, queue.Config{})
			if _, err := prod.Submit(ctx, []byte(webglJob)); err != nil {
				t.Fatal(err)
			}
			if d, err := cpu.Fetch(ctx); d != nil || err != nil {
				t.Fatalf("CPU Fetch of a WebGL job = %+v, %v; want it routed", d, err)
			}
			if g, err := gpuq.Fetch(ctx); err != nil || g == nil || string(g.Raw) != webglJob {
				t.Fatalf("GPU Fetch = %+v, %v", g, err)
			} else if _, err := gpuq.Finish(ctx, g, &empplay.Result{Success: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := prod.Submit(ctx, []byte(flagJob)); err != nil {
				t.Fatal(err)
			}
			if d, err := cpu.Fetch(ctx); d != nil || err != nil {
				t.Fatalf("CPU Fetch = %+v, %v; want it routed", d, err)
			}
			if err := gpuq.Deregister(ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := queue.NewMaintainer(c, "", "t").DrainGPU(ctx); n != 1 || err != nil {
				t.Fatalf("DrainGPU = %d, %v; want 1", n, err)
			}
			if d := fetchWithin(t, cpu, 5*time.Second); d == nil || string(d.Raw) != flagJob {
				t.Fatalf("CPU worker fetched %+v after the drain; want the flagged job", d)
			}
		})
	}
}
