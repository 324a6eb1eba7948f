package apiretry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestDo(t *testing.T) {
	old := Interval
	Interval = time.Millisecond
	defer func() { Interval = old }()

	refused := &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("connect: %w", syscall.ECONNREFUSED)}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "", errors.New("no"))
	untrusted := urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}})
	tests := []struct {
		name     string
		errs     []error // returned by successive calls; then success
		wantErr  error
		wantCall int
	}{
		{name: "succeeds at once", wantCall: 1},
		{name: "retries while refused", errs: []error{refused, refused, refused}, wantCall: 4},
		{name: "retries while unavailable", errs: []error{apierrors.NewServiceUnavailable("starting")}, wantCall: 2},
		{name: "forbidden goes to the reflector", errs: []error{forbidden}, wantErr: forbidden, wantCall: 1},
		{name: "an untrusted certificate goes to the reflector", errs: []error{untrusted}, wantErr: untrusted, wantCall: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &Outage{Resource: "services"}
			calls := 0
			_, err := Do(context.Background(), o, func() (int, error) {
				calls++
				if calls <= len(tt.errs) {
					return 0, tt.errs[calls-1]
				}
				return 1, nil
			})
			if !errors.Is(err, tt.wantErr) || calls != tt.wantCall {
				t.Errorf("err %v after %d calls, want %v after %d", err, calls, tt.wantErr, tt.wantCall)
			}
			if o.Down() {
				t.Error("still marked down after an answer")
			}
		})
	}

	t.Run("gives up when the context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		o := &Outage{Resource: "services"}
		calls := 0
		_, err := Do(ctx, o, func() (int, error) {
			if calls++; calls == 3 {
				cancel()
			}
			return 0, refused
		})
		if !errors.Is(err, syscall.ECONNREFUSED) || calls != 3 {
			t.Errorf("err %v after %d calls", err, calls)
		}
	})
}
