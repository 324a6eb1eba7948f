package apiretry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// urlErr wraps err as net/http's client does.
func urlErr(err error) error {
	return &url.Error{Op: "Get", URL: "https://10.254.0.1:443/api/v1/services?limit=500", Err: err}
}

// get returns the error of a GET of url through c.
func get(t *testing.T, c *http.Client, url string) error {
	t.Helper()
	resp, err := c.Get(url)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s succeeded", url)
	}
	return err
}

// realErrors returns errors of real HTTP calls: to a TLS server that the
// client does not trust, that it trusts under another name, to a plain HTTP
// server over TLS, to a closed port and to a server that answers too late.
func realErrors(t *testing.T) map[string]error {
	t.Helper()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hang) })
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "https://" + closed.Addr().String()
	closed.Close()

	renamed := tlsSrv.Client()
	renamed.Transport.(*http.Transport).TLSClientConfig.ServerName = "kubernetes.invalid"
	return map[string]error{
		"real: untrusted certificate":   get(t, &http.Client{}, tlsSrv.URL),
		"real: certificate of another":  get(t, renamed, tlsSrv.URL),
		"real: HTTPS to an HTTP server": get(t, &http.Client{}, strings.Replace(plain.URL, "http:", "https:", 1)),
		"real: connection refused":      get(t, &http.Client{}, closedURL),
		"real: http client timeout":     get(t, &http.Client{Timeout: 20 * time.Millisecond}, slow.URL),
		"real: deadline of the request": func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, slow.URL, nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}(),
	}
}

type classifyCase struct {
	name  string
	err   error
	want  Cause
	words string // in the explanation
}

func TestClassify(t *testing.T) {
	gr := schema.GroupResource{Resource: "services"}
	tooLarge := apierrors.NewTimeoutError("Too large resource version", 1)
	tooLarge.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: metav1.CauseTypeResourceVersionTooLarge}}
	tests := []classifyCase{
		{name: "nil", err: nil, want: ""},
		{name: "context cancelled", err: urlErr(context.Canceled), want: ""},
		{name: "410 Gone", err: apierrors.NewGone("too old resource version: 1 (5)"), want: ""},
		{name: "410 Expired", err: apierrors.NewResourceExpired("too old resource version"), want: ""},
		{name: "resource version too large", err: tooLarge, want: ""},

		{name: "x509 unknown authority", err: urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}),
			want: TLS, words: "certificate is not trusted by the CA"},
		{name: "x509 hostname", err: urlErr(&tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "10.0.0.1"}}),
			want: TLS, words: "not valid for the address"},
		{name: "x509 expired", err: urlErr(x509.CertificateInvalidError{Reason: x509.Expired}), want: TLS, words: "expired"},
		{name: "tls record header", err: urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}),
			want: TLS, words: "does not answer TLS"},
		{name: "tls alert", err: urlErr(&net.OpError{Op: "remote error", Err: tls.AlertError(42)}), want: TLS, words: "client certificate"},
		{name: "tls, untyped", err: urlErr(errors.New("tls: failed to parse certificate from server")), want: TLS},
		{name: "no such host", err: urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "api.example", IsNotFound: true}}),
			want: DNS, words: "host name does not resolve"},
		{name: "DNS timeout", err: urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "i/o timeout", Name: "api.example", IsTimeout: true}}),
			want: DNS},

		{name: "connection refused", err: urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), want: Unreachable},
		{name: "connection reset", err: urlErr(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), want: Unreachable},
		{name: "no route to host", err: urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}), want: Unreachable},
		{name: "EOF", err: urlErr(io.EOF), want: Unreachable},
		{name: "unexpected EOF", err: urlErr(io.ErrUnexpectedEOF), want: Unreachable},
		{name: "GOAWAY", err: urlErr(errors.New("http2: server sent GOAWAY and closed the connection; LastStreamID=1")), want: Unreachable},
		{name: "503", err: apierrors.NewServiceUnavailable("the server is starting"), want: Unreachable},

		{name: "i/o timeout", err: urlErr(&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}), want: Timeout},
		{name: "TLS handshake timeout", err: urlErr(timeoutError("net/http: TLS handshake timeout")), want: Timeout},
		{name: "context deadline", err: urlErr(fmt.Errorf("awaiting headers: %w", context.DeadlineExceeded)), want: Timeout},
		{name: "504", err: apierrors.NewTimeoutError("list", 2), want: Timeout},
		{name: "server timeout", err: apierrors.NewServerTimeout(gr, "list", 2), want: Timeout},

		{name: "429", err: apierrors.NewTooManyRequests("slow down", 3), want: Throttled},

		{name: "401", err: apierrors.NewUnauthorized("Unauthorized"), want: Unauthorized, words: "rejected the token"},
		{name: "403", err: apierrors.NewForbidden(gr, "", errors.New("no RBAC")), want: Forbidden, words: "check the ClusterRole"},
		{name: "404", err: apierrors.NewNotFound(gr, ""), want: NotFound, words: "does not serve this resource"},
		{name: "500", err: apierrors.NewInternalError(errors.New("boom")), want: Other},
		{name: "400", err: apierrors.NewBadRequest("bad field selector"), want: Other},
		{name: "malformed answer", err: errors.New("kubeclient: decoding ServiceList: proto: illegal wireType 7"), want: Other},
	}
	real := realErrors(t)
	for _, tc := range []classifyCase{
		{name: "real: untrusted certificate", want: TLS, words: "certificate is not trusted by the CA"},
		{name: "real: certificate of another", want: TLS, words: "not valid for the address"},
		{name: "real: HTTPS to an HTTP server", want: TLS, words: "does not answer TLS"},
		{name: "real: connection refused", want: Unreachable},
		{name: "real: http client timeout", want: Timeout},
		{name: "real: deadline of the request", want: Timeout},
	} {
		tc.err = real[tc.name]
		tests = append(tests, tc)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := classify(tt.err)
			if got != tt.want {
				t.Errorf("Classify(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if !strings.Contains(why, tt.words) {
				t.Errorf("explanation %q does not say %q", why, tt.words)
			}
			if got.Outage() != (tt.want == Unreachable || tt.want == Timeout || tt.want == Throttled) {
				t.Errorf("%q.Outage() = %v", got, got.Outage())
			}
		})
	}
}

// timeoutError is a net.Error that timed out, as net/http's TLS handshake timeout.
type timeoutError string

func (e timeoutError) Error() string { return string(e) }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
