package cmd

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
	"github.com/empplay/empplay/supervisor"
)

// TestStatusAuthorize: requeue needs the admin token in its header, from
// the page's own origin; a cookie or form field never stands in for it,
// and without ADMIN_TOKEN nothing is allowed.
func TestStatusAuthorize(t *testing.T) {
	const token = "s3cret-admin"
	for _, tc := range []struct {
		name       string
		configured string
		headers    map[string]string
		body       string
		ok         bool
	}{
		{"same origin with the token", token, map[string]string{"X-Admin-Token": token, "Origin": "http://status.test", "Sec-Fetch-Site": "same-origin"}, "", true},
		{"no browser headers (curl) with the token", token, map[string]string{"X-Admin-Token": token}, "", true},
		{"read-only page", "", map[string]string{"X-Admin-Token": token}, "", false},
		{"read-only page, empty token", "", map[string]string{"X-Admin-Token": ""}, "", false},
		{"no token", token, nil, "", false},
		{"wrong token", token, map[string]string{"X-Admin-Token": token + "x"}, "", false},
		{"bearer instead of the header", token, map[string]string{"Authorization": "Bearer " + token}, "", false},
		{"cookie", token, map[string]string{"Cookie": "X-Admin-Token=" + token}, "", false},
		{"form field", token, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "token=" + token + "&X-Admin-Token=" + token, false},
		{"foreign origin", token, map[string]string{"X-Admin-Token": token, "Origin": "https://evil.example"}, "", false},
		{"cross-site", token, map[string]string{"X-Admin-Token": token, "Sec-Fetch-Site": "cross-site"}, "", false},
		{"same-site, other origin", token, map[string]string{"X-Admin-Token": token, "Sec-Fetch-Site": "same-site"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &statusPage{token: tc.configured}
			r := httptest.NewRequest(http.MethodPost, "http://status.test/status/requeue", strings.NewReader(tc.body))
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if err := p.authorize(r); (err == nil) != tc.ok {
				t.Errorf("authorize = %v; want allowed %v", err, tc.ok)
			}
		})
	}
}

// TestStatusObserve: the page keeps the last recentJobs finished jobs with
// their output URL redacted, and times the job in hand from its first
// report.
func TestStatusObserve(t *testing.T) {
	now := time.Unix(1000, 0)
	p := newStatusPage(nil, nil, nil, "", slog.New(slog.DiscardHandler))
	p.now = func() time.Time { return now }
	p.observe(0, empplay.Report{State: empplay.StateBusy, Job: "a"})
	now = now.Add(3 * time.Second)
	p.observe(0, empplay.Report{State: empplay.StateBusy, Job: "a"})
	if got := p.jobSeen[0]; got.id != "a" || !got.since.Equal(time.Unix(1000, 0)) {
		t.Errorf("job in hand %+v; want a, since its first report", got)
	}
	for i := range recentJobs + 5 {
		p.observe(1, empplay.Report{State: empplay.StateIdle, Done: &empplay.JobEvent{ID: string(rune('A' + i%26)), Outcome: "success",
			Src: "https://acct.blob.core.windows.net/c/x.png?sv=1&sig=SECRET%2B&se=2"}})
	}
	if len(p.finished) != recentJobs {
		t.Fatalf("%d finished jobs kept; want %d", len(p.finished), recentJobs)
	}
	if got := p.finished[len(p.finished)-1].Src; strings.Contains(got, "SECRET") || !strings.Contains(got, "sig=REDACTED") {
		t.Errorf("src %q; want the signature redacted", got)
	}
	p.observe(0, empplay.Report{State: empplay.StateIdle})
	if _, ok := p.jobSeen[0]; ok {
		t.Error("an idle report left the job in hand")
	}
}

// TestStatusReadOnly: without ADMIN_TOKEN the page says it is read-only
// (the page draws no requeue button then) and requeue is refused, with a
// dead letter in a real Redis that a requeue would otherwise move.
func TestStatusReadOnly(t *testing.T) {
	rc := testRedis(t)
	ctx := testenv.Context(t, time.Minute)
	keys := queue.NewKeys("")
	envelope := `{"id":"dead1","raw":"{}","attempts":3,"error":"boom at https://a.blob.core.windows.net/c/x?sig=SECRET","at":1}`
	if err := rc.Do(ctx, rc.B().Lpush().Key(keys.Dead()).Element(envelope).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	p := newStatusPage(supervisor.New(supervisor.Config{Slots: 1, Logger: logger}), queue.NewAdmin(rc, ""), &redisCheck{c: rc}, "", logger)
	mux := http.NewServeMux()
	p.register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/status.json")
	if err != nil {
		t.Fatal(err)
	}
	var body statusBody
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if body.Admin || !body.Redis || body.Queue.Dead != 1 || len(body.Dead) != 1 || body.Dead[0].ID != "dead1" || len(body.Workers) != 1 {
		t.Errorf("status %+v; want read-only, Redis up, one worker slot and the dead letter", body)
	}
	if e := body.Dead[0].Error; strings.Contains(e, "SECRET") {
		t.Errorf("dead letter error %q shows the signature", e)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/status/requeue", strings.NewReader(`{"id":"dead1"}`))
	req.Header.Set("X-Admin-Token", "")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("requeue on a read-only page: %s; want 403", resp.Status)
	}
	if n, _ := rc.Do(ctx, rc.B().Llen().Key(keys.Dead()).Build()).AsInt64(); n != 1 {
		t.Errorf("%d dead letters after a refused requeue; want 1", n)
	}
}

// testRedis starts a real Redis for the test and returns a client of it.
func testRedis(t *testing.T) rueidis.Client {
	t.Helper()
	r := testenv.StartRedis(t)
	opt, err := queue.Options(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	return rc
}
