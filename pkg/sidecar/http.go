package sidecar

import (
	"encoding/json"
	"net/http"
	"strings"
)

const healthcheckPrefix = "/healthcheck/"

// NewHandler serves the sidecar's HTTP paths:
//   - /healthcheck/<label>: the JSON Status of that probe, 200 while it is
//     healthy (see Prober.Status), 503 otherwise, 404 for an unknown label;
//   - /healthz: 200 "ok" while the sidecar runs;
//   - metricsPath: metrics.
//
// Any other path is 404.
func NewHandler(probers []*Prober, metrics http.Handler, metricsPath string) http.Handler {
	byLabel := make(map[string]*Prober, len(probers))
	for _, p := range probers {
		byLabel[p.Probe().Label] = p
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch path := r.URL.Path; {
		case path == metricsPath:
			metrics.ServeHTTP(w, r)
		case path == "/healthz":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("ok\n"))
		case strings.HasPrefix(path, healthcheckPrefix):
			p := byLabel[strings.TrimPrefix(path, healthcheckPrefix)]
			if p == nil {
				http.NotFound(w, r)
				return
			}
			serveStatus(w, p)
		default:
			http.NotFound(w, r)
		}
	})
}

func serveStatus(w http.ResponseWriter, p *Prober) {
	s, healthy := p.Status()
	body, err := json.Marshal(s)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !healthy {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = w.Write(append(body, '\n'))
}
