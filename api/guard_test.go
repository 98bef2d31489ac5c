package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A page on another site cannot make an operator's browser submit jobs:
// cross-origin browser requests that change something are refused with
// the usual JSON error, while same-origin ones and clients that are not
// browsers (no Sec-Fetch-Site, no Origin) go through.
func TestGuardCrossOrigin(t *testing.T) {
	s, err := New(Config{}, fakeQueue{}, nil, http.DefaultClient, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	job := []byte(`{"type":"p5","code":"function setup(){}","width":64,"height":64,"bucket":"renders","filename":"x.png"}`)
	for _, tc := range []struct {
		name         string
		method, path string
		body         []byte
		header       map[string]string
		want         int
	}{
		{"no browser headers", "POST", "/v1/jobs", job, nil, http.StatusAccepted},
		{"same origin", "POST", "/v1/jobs", job, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusAccepted},
		{"typed by the user", "POST", "/v1/jobs", job, map[string]string{"Sec-Fetch-Site": "none"}, http.StatusAccepted},
		{"Origin is the host", "POST", "/v1/jobs", job, map[string]string{"Origin": "http://127.0.0.1:9464"}, http.StatusAccepted},
		{"cross site", "POST", "/v1/jobs", job, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same site, other origin", "POST", "/v1/jobs", job, map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"old browser, other Origin", "POST", "/v1/jobs", job, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"simple text/plain screenshot", "POST", "/api/screenshot", []byte(`{"code":"function setup(){}"}`),
			map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}, http.StatusForbidden},
		{"cross-site read", "GET", "/v1/jobs/x", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://127.0.0.1:9464"+tc.path, bytes.NewReader(tc.body))
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, r)
			if rec.Code != tc.want {
				t.Fatalf("%s %s: %d %s; want %d", tc.method, tc.path, rec.Code, rec.Body, tc.want)
			}
			if tc.want != http.StatusForbidden {
				return
			}
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ErrorCode != "forbidden" || e.Message == "" ||
				rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("refusal %q (%s): want the JSON error body with errorCode forbidden and a message", rec.Body, rec.Header().Get("Content-Type"))
			}
		})
	}
}

// TestGuardToken: with API_TOKEN set, a request needs Bearer credentials
// with that token; the scheme's name is case-insensitive.
func TestGuardToken(t *testing.T) {
	s, err := New(Config{Token: "s3cret"}, fakeQueue{}, nil, http.DefaultClient, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Bearer s3cret2", http.StatusUnauthorized},
		{"Basic czNjcmV0", http.StatusUnauthorized},
		{"Bearer", http.StatusUnauthorized},
		{"Bearer ", http.StatusUnauthorized},
		{"s3cret", http.StatusUnauthorized},
		{"Bearer s3cret", http.StatusAccepted},
		{"bearer s3cret", http.StatusAccepted},
		{"BEARER  s3cret", http.StatusAccepted},
	} {
		req := httptest.NewRequest("GET", "/v1/jobs/x", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("Authorization %q: %d; want %d", tc.auth, rec.Code, tc.want)
		}
	}
}
