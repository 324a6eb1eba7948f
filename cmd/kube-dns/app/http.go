package app

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// newMux serves the original's paths: /readiness, /cache and the metrics path.
func newMux(ready func() bool, snapshot func() *records.Snapshot, g prometheus.Gatherer, metricsPath string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/readiness", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/cache", func(w http.ResponseWriter, _ *http.Request) {
		s := snapshot()
		if s == nil {
			http.Error(w, "no records yet: the first sync has not finished", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(cacheDump(s))
	})
	if metricsPath == "" {
		metricsPath = "/metrics"
	}
	mux.Handle(metricsPath, promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return mux
}

// cacheDump is the /cache body: every name with its records, in zone-file form.
type cacheDumpBody struct {
	Serial uint32              `json:"serial"`
	Names  map[string][]string `json:"names"`
}

func cacheDump(s *records.Snapshot) cacheDumpBody {
	body := cacheDumpBody{Serial: s.Serial(), Names: make(map[string][]string, s.Len())}
	s.Range(func(n *records.Node) {
		rrs := []string{}
		for _, set := range n.Sets() {
			answers, _ := set.Records(n.Name())
			for _, rr := range answers {
				rrs = append(rrs, rr.String())
			}
		}
		body.Names[n.Name()] = rrs
	})
	return body
}
