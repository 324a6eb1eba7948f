package sidecar

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestHandlerPaths(t *testing.T) {
	srv := startDNS(t, "127.0.0.1:0", &answer{})
	fc := newFakeClock(0, nil)
	ok := NewProber(Probe{Label: "kubedns", Server: srv.addr, Name: "a.", Interval: time.Second, Type: dns.TypeA}, nil, fc.clock())
	ok.probeOnce(context.Background())
	waiting := NewProber(Probe{Label: "dnsmasq", Server: srv.addr, Name: "a.", Interval: time.Second, Type: dns.TypeA}, nil, fc.clock())
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("metrics")) })
	h := NewHandler([]*Prober{ok, waiting}, metrics, "/custom/metrics")

	tests := []struct {
		method, path string
		code         int
		body         string // "" to skip
		contentType  string // "" to skip
	}{
		{method: "GET", path: "/healthz", code: 200, body: "ok\n", contentType: "text/plain; charset=utf-8"},
		{method: "GET", path: "/custom/metrics", code: 200, body: "metrics"},
		{method: "GET", path: "/metrics", code: 404},
		{method: "GET", path: "/healthcheck/kubedns", code: 200, contentType: "application/json"},
		{method: "HEAD", path: "/healthcheck/kubedns", code: 200},
		{method: "GET", path: "/healthcheck/dnsmasq", code: 503, body: `{"IsOk":false,"LatencySeconds":0,"Err":"waiting for first probe"}` + "\n", contentType: "application/json"},
		{method: "GET", path: "/healthcheck/KUBEDNS", code: 404},
		{method: "GET", path: "/healthcheck/", code: 404},
		{method: "GET", path: "/healthcheck", code: 404},
		{method: "GET", path: "/healthcheck/kubedns/x", code: 404},
		{method: "GET", path: "/", code: 404},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.code {
				t.Errorf("code %d, want %d", w.Code, tt.code)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body %q, want %q", w.Body.String(), tt.body)
			}
			if ct := w.Header().Get("Content-Type"); tt.contentType != "" && ct != tt.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentType)
			}
		})
	}

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthcheck/kubedns", nil))
	if s := decodeStatus(t, w.Body.String()); !s.IsOk || s.Err != "" {
		t.Errorf("kubedns: %+v", s)
	}
}
