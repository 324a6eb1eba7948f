package httpserver

import (
	"net/http"
	"testing"
	"time"
)

func TestServer(t *testing.T) {
	l := Default()
	h := http.NotFoundHandler()
	s := l.Server("127.0.0.1:1", h)
	if s.Addr != "127.0.0.1:1" || s.Handler == nil || s.ReadHeaderTimeout != l.ReadHeaderTimeout || s.ReadTimeout != l.ReadTimeout ||
		s.WriteTimeout != l.WriteTimeout || s.IdleTimeout != l.IdleTimeout || s.MaxHeaderBytes != l.MaxHeaderBytes {
		t.Errorf("Server: %+v, limits %+v", s, l)
	}
}

// TestDefault keeps the defaults within what the comment of Default
// argues: headers in before the liveness probe's 5 s timeout, a response
// written past Prometheus's 10 s scrape timeout, a scraper's connection
// kept across a 30 s interval, and every field set.
func TestDefault(t *testing.T) {
	l := Default()
	if l.ReadHeaderTimeout <= 0 || l.ReadHeaderTimeout > 5*time.Second {
		t.Errorf("ReadHeaderTimeout %v", l.ReadHeaderTimeout)
	}
	if l.ReadTimeout < l.ReadHeaderTimeout {
		t.Errorf("ReadTimeout %v below ReadHeaderTimeout %v", l.ReadTimeout, l.ReadHeaderTimeout)
	}
	if l.WriteTimeout <= 10*time.Second {
		t.Errorf("WriteTimeout %v", l.WriteTimeout)
	}
	if l.IdleTimeout <= 30*time.Second {
		t.Errorf("IdleTimeout %v", l.IdleTimeout)
	}
	if l.MaxHeaderBytes < 8<<10 || l.MaxHeaderBytes > 64<<10 {
		t.Errorf("MaxHeaderBytes %d", l.MaxHeaderBytes)
	}
}
