package render

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/empplay/empplay/internal/testenv"
)

// canary counts every connection or packet that reaches it on loopback.
type canary struct {
	httpConns, httpRequests, tcpConns, udpPackets atomic.Int64

	http *httptest.Server
	tcp  net.Listener
	udp  net.PacketConn
}

func newCanary(t *testing.T) *canary {
	t.Helper()
	c := &canary{}
	c.http = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.httpRequests.Add(1)
		t.Logf("canary: HTTP request %s %s", r.Method, r.URL)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write([]byte(`{}`))
	}))
	c.http.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			c.httpConns.Add(1)
		}
	}
	c.http.Start()
	t.Cleanup(c.http.Close)

	var err error
	if c.tcp, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.tcp.Close() })
	go func() {
		for {
			conn, err := c.tcp.Accept()
			if err != nil {
				return
			}
			c.tcpConns.Add(1)
			t.Logf("canary: TCP connection from %s", conn.RemoteAddr())
			conn.Close()
		}
	}()
	if c.udp, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.udp.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.udp.ReadFrom(buf); err != nil {
				return
			}
			c.udpPackets.Add(1)
		}
	}()
	return c
}

func (c *canary) httpAddr() string { return strings.TrimPrefix(c.http.URL, "http://") }

// selfTest proves the canaries count what reaches them, then resets them.
func (c *canary) selfTest(t *testing.T) {
	t.Helper()
	resp, err := http.Get(c.http.URL + "/self-test")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	conn, err := net.Dial("tcp", c.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	u, err := net.Dial("udp", c.udp.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = u.Write([]byte("x"))
	u.Close()
	if !testenv.Poll(10*time.Second, 10*time.Millisecond, func() bool {
		return c.httpRequests.Load() > 0 && c.tcpConns.Load() > 0 && c.udpPackets.Load() > 0
	}) {
		t.Fatalf("canary self-test: http %d, tcp %d, udp %d", c.httpRequests.Load(), c.tcpConns.Load(), c.udpPackets.Load())
	}
	c.httpConns.Store(0)
	c.httpRequests.Store(0)
	c.tcpConns.Store(0)
	c.udpPackets.Store(0)
}

// TestRenderNoEgress runs a sketch that tries every way out it can to
// canaries on loopback; none may see a connection.
func TestRenderNoEgress(t *testing.T) {
	b := sharedBrowser(t)
	c := newCanary(t)
	c.selfTest(t)
	_, httpPort, _ := net.SplitHostPort(c.httpAddr())
	code := strings.NewReplacer(
		"HTTPADDR", c.httpAddr(),
		"HTTPPORT", httpPort,
		"TCPADDR", c.tcp.Addr().String(),
		"UDPADDR", c.udp.LocalAddr().String(),
	).Replace(`
async function setup() {
  const base = 'http://HTTPADDR';
  const settle = p => Promise.race([Promise.resolve(p).then(() => 0, () => 0), new Promise(r => setTimeout(r, 1500))]);
  const event = f => settle(new Promise(f));
  // Frames in processes of their own, outside the tab's interception:
  // each says when its fetch has ended, with no time limit, so the
  // render times out if one never runs.
  const framesRan = new Set();
  const frames = new Promise(res => addEventListener('message', e => { framesRan.add(e.data); if (framesRan.size === 2) res(); }));
  const frame = (sandbox, src) => {
    const f = document.createElement('iframe');
    if (sandbox) f.sandbox = 'allow-scripts';
    f.src = 'data:text/html,' + encodeURIComponent("<script>fetch('" + base + "/" + src + "').finally(() => parent.postMessage('" + src + "', '*'))<\/script>");
    document.body.appendChild(f);
  };
  frame(true, 'sandboxed-frame');
  frame(false, 'data-frame');
  const tries = [
    fetch(base + '/fetch'),
    fetch('http://localhost:HTTPPORT/fetch-localhost'),
    fetch('https://HTTPADDR/fetch-https'),
    fetch(base + '/fetch-post', {method: 'POST', body: 'x', mode: 'no-cors'}),
    event(res => { const x = new XMLHttpRequest(); x.open('GET', base + '/xhr'); x.onloadend = res; x.send(); }),
    event(res => { const i = new Image(); i.onload = i.onerror = res; i.src = base + '/img.png'; }),
    loadJSON(base + '/json'),
    event(res => { const ws = new WebSocket('ws://TCPADDR/'); ws.onopen = ws.onerror = ws.onclose = res; }),
    event(res => { const es = new EventSource(base + '/sse'); es.onerror = () => { es.close(); res(); }; }),
    event(res => { const f = document.createElement('iframe'); f.onload = res; f.src = base + '/iframe'; document.body.appendChild(f); }),
    event(res => {
      const src = "fetch('" + base + "/worker').then(() => postMessage(1), () => postMessage(0))";
      const w = new Worker(URL.createObjectURL(new Blob([src], {type: 'text/javascript'})));
      w.onmessage = w.onerror = res;
    }),
    event(res => { const l = document.createElement('link'); l.rel = 'stylesheet'; l.href = base + '/style.css'; l.onload = l.onerror = res; document.head.appendChild(l); }),
    event(res => { const s = document.createElement('script'); s.src = base + '/script.js'; s.onload = s.onerror = res; document.head.appendChild(s); }),
    new FontFace('canary', 'url(' + base + '/font.woff2)').load(),
    event(res => {
      const pc = new RTCPeerConnection({iceServers: [{urls: 'stun:UDPADDR'}]});
      pc.createDataChannel('x');
      pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') res(); };
      pc.createOffer().then(o => pc.setLocalDescription(o));
    }),
  ].map(settle);
  navigator.sendBeacon(base + '/beacon', 'x');
  navigator.sendBeacon('http://localhost:HTTPPORT/beacon-localhost', 'x');
  await Promise.all(tries);
  await frames;
  createCanvas(10, 10);
  background(0, 255, 0);
}`)
	j := flatJob(code, 10, 10)
	j.P5Version = "2"
	_, img := mustRender(t, b, j)
	checkPixels(t, img, []px{{5, 5, green}})
	// A beacon may go out after the page is gone. A negative check, so
	// there is no condition to wait for: give it a second to show up.
	time.Sleep(time.Second)
	for name, n := range map[string]int64{
		"HTTP connections": c.httpConns.Load(), "HTTP requests": c.httpRequests.Load(),
		"TCP (WebSocket) connections": c.tcpConns.Load(), "UDP (STUN) packets": c.udpPackets.Load(),
	} {
		if n != 0 {
			t.Errorf("the canary saw %d %s", n, name)
		}
	}
}

// TestRenderReportsBlockedWebSocket checks that a WebSocket, which Fetch
// interception does not see, still shows up in the error of a sketch that
// depended on it.
func TestRenderReportsBlockedWebSocket(t *testing.T) {
	b := sharedBrowser(t)
	c := newCanary(t)
	addr := c.tcp.Addr().String()
	j := job(`
async function setup() {
  createCanvas(10, 10);
  await new Promise((resolve, reject) => {
    const ws = new WebSocket('ws://`+addr+`/feed');
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('websocket failed'));
  });
}`, 10, 10)
	j.P5Version = "2"
	_, err := render(t, b, j)
	if err == nil || !strings.Contains(err.Error(), "ws://"+addr+"/feed") {
		t.Fatalf("error %v; want one naming ws://%s/feed", err, addr)
	}
	if n := c.tcpConns.Load(); n != 0 {
		t.Errorf("the canary saw %d connections", n)
	}
}

// TestRenderWebSocketStaysAWebSocket: the prelude's record of WebSockets
// (see TestRenderReportsBlockedWebSocket) leaves the constructor what it
// was to a sketch: its name, constants, instanceof and subclasses, and
// records subclasses' sockets too.
func TestRenderWebSocketStaysAWebSocket(t *testing.T) {
	b := sharedBrowser(t)
	j := flatJob(`function setup() {
  createCanvas(10, 10);
  class Feed extends WebSocket {}
  const ws = new WebSocket('wss://feed.example/a'), sub = new Feed('wss://feed.example/b');
  const ok = WebSocket.name === 'WebSocket' && WebSocket.OPEN === 1 && WebSocket.prototype.CLOSED === 3 &&
    ws instanceof WebSocket && sub instanceof Feed && sub instanceof WebSocket &&
    ws.url === 'wss://feed.example/a' && typeof ws.send === 'function';
  background(ok ? 0 : 255, ok ? 255 : 0, 0);
}`, 10, 10)
	out, img := mustRender(t, b, j)
	checkPixels(t, img, []px{{5, 5, green}})
	// And both sockets are on record.
	if w := strings.Join(out.Warnings, "\n"); !strings.Contains(w, "wss://feed.example/a") || !strings.Contains(w, "wss://feed.example/b") {
		t.Errorf("warnings %q; want both sockets named", out.Warnings)
	}
}
