// Package apiretry decides what a failed Kubernetes API call means, retries
// it at once when it means an outage, and reports it once when it does not.
//
// Connection refused or reset, EOF, timeouts, 429 and 503 are an outage: Do
// retries the call inside it, with a jittered exponential backoff (250 ms
// doubling to 2 s, or the server's Retry-After) so that replicas do not
// relist in lockstep, and a caller catches up within about 2 s of the API
// server's return instead of client-go's reflector backoff of up to a minute.
// Anything else (an untrusted certificate, a host name that does not
// resolve, 401, 403, 404, …) will not mend by itself: Do returns it to the
// reflector, which backs off as usual, after logging it once per cause and
// resource in words that say what to fix. Every failure is counted in
// kubedns_api_errors_total.
package apiretry
