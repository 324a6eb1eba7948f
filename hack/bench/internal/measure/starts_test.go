package measure

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// goAllocs reads a Go program's allocation counters from its metrics, as
// kube-dns exposes them (a registry with the Go collector).
func TestGoAllocs(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	bytes, allocs := goAllocs(context.Background(), strings.TrimPrefix(srv.URL, "http://"))
	if bytes <= 0 || allocs <= 0 {
		t.Errorf("goAllocs = %d bytes, %d objects; want both read", bytes, allocs)
	}
	if b, a := goAllocs(context.Background(), "127.0.0.1:1"); b != -1 || a != -1 {
		t.Errorf("goAllocs of nothing = %d, %d; want -1, -1", b, a)
	}
}
