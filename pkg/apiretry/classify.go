package apiretry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// Cause is what a failed API call means, a bounded label of the
// kubedns_api_errors_total metric.
type Cause string

// The causes of an outage, retried by Do.
const (
	// Unreachable: connection refused or reset, EOF, no route, 503.
	Unreachable Cause = "unreachable"
	// Timeout: the call or the connection timed out, or the API server
	// timed out serving it.
	Timeout Cause = "timeout"
	// Throttled: 429 Too Many Requests.
	Throttled Cause = "throttled"
)

// The causes that retrying will not fix, returned by Do to its caller.
const (
	// TLS: the API server's certificate is not trusted or not valid, or
	// the handshake failed.
	TLS Cause = "tls"
	// DNS: the API server's host name did not resolve.
	DNS Cause = "dns"
	// Unauthorized: 401, the credentials were rejected.
	Unauthorized Cause = "unauthorized"
	// Forbidden: 403, RBAC does not allow the call.
	Forbidden Cause = "forbidden"
	// NotFound: 404, the API server does not serve the resource.
	NotFound Cause = "not_found"
	// Other: any other error (500, bad request, a malformed answer…).
	Other Cause = "other"
)

// Causes lists every cause, outages first.
var Causes = []Cause{Unreachable, Timeout, Throttled, TLS, DNS, Unauthorized, Forbidden, NotFound, Other}

// Outage reports whether c means the API server is away or overloaded for
// now, so that the same call is worth retrying soon.
func (c Cause) Outage() bool { return c == Unreachable || c == Timeout || c == Throttled }

// Classify says what err, returned by an API call, means. It returns "" for
// nil, for a cancelled context, and for 410 Gone and "resource version too
// large" (the reflector lists again), which are not failures.
func Classify(err error) Cause {
	c, _ := classify(err)
	return c
}

// classify returns the cause and, for the log, what an operator should know
// of it (prefixed with "kubedns cannot watch; " when reported).
func classify(err error) (Cause, string) {
	if err == nil || errors.Is(err, context.Canceled) {
		return "", ""
	}
	if status := apierrors.APIStatus(nil); errors.As(err, &status) {
		return classifyStatus(err)
	}
	if c, why := classifyTLS(err); c != "" {
		return c, why
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return DNS, "the API server's host name does not resolve: check the server of the kubeconfig or --kube-master-url"
	}
	if utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EPIPE) {
		return Unreachable, "the API server cannot be reached"
	}
	if ne, ok := errors.AsType[net.Error](err); (ok && ne.Timeout()) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "i/o timeout") {
		return Timeout, "the API server did not answer in time"
	}
	if msg := err.Error(); strings.Contains(msg, "tls: ") || strings.Contains(msg, "x509: ") {
		return TLS, "the TLS handshake with the API server failed"
	}
	return Other, "the API server's answer is an error kubedns does not retry by itself"
}

// classifyStatus classifies an error the API server answered with.
func classifyStatus(err error) (Cause, string) {
	switch {
	case apierrors.IsResourceExpired(err) || apierrors.IsGone(err) ||
		apierrors.HasStatusCause(err, metav1.CauseTypeResourceVersionTooLarge):
		return "", "" // the reflector lists again, from a version the server has
	case apierrors.IsTooManyRequests(err):
		return Throttled, "the API server asks its clients to slow down (429)"
	case apierrors.IsServiceUnavailable(err):
		return Unreachable, "the API server is not serving (503)"
	case apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err):
		return Timeout, "the API server did not answer in time"
	case apierrors.IsUnauthorized(err):
		return Unauthorized, "unauthorized: the API server rejected the token or client certificate of the kubeconfig or service account"
	case apierrors.IsForbidden(err):
		return Forbidden, "check the ClusterRole"
	case apierrors.IsNotFound(err):
		return NotFound, "the API server does not serve this resource (404): is it older than the API kubedns reads?"
	}
	return Other, "the API server's answer is an error kubedns does not retry by itself"
}

// classifyTLS recognises the typed errors of crypto/tls and crypto/x509.
func classifyTLS(err error) (Cause, string) {
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return TLS, "the API server's certificate is not trusted by the CA of the kubeconfig or service account"
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return TLS, "the API server's certificate is not valid for the address in the kubeconfig (or --kube-master-url)"
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return TLS, "the API server's certificate is invalid (expired, not yet valid, or not for serving)"
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok || errors.Is(err, http.ErrSchemeMismatch) {
		return TLS, "the API server does not answer TLS at that address: check the scheme and port of its URL"
	}
	if _, ok := errors.AsType[tls.AlertError](err); ok {
		return TLS, "the API server refused the TLS handshake: check the client certificate of the kubeconfig"
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return TLS, "the API server's certificate could not be verified"
	}
	if is[x509.SystemRootsError](err) || is[x509.ConstraintViolationError](err) ||
		is[x509.UnhandledCriticalExtension](err) || is[x509.InsecureAlgorithmError](err) {
		return TLS, "the API server's certificate could not be verified"
	}
	return "", ""
}

// is reports whether err's tree holds an error of type E.
func is[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}
