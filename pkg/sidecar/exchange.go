package sidecar

import (
	"context"
	"errors"
	"os"

	"github.com/miekg/dns"
)

// exchange sends m to server over UDP, and again over TCP if the answer is
// truncated. It gives up when ctx is done, even in the middle of a read.
func exchange(ctx context.Context, m *dns.Msg, server string) (*dns.Msg, error) {
	r, err := exchangeOver(ctx, "udp", m, server)
	if err == nil && r.Truncated {
		r, err = exchangeOver(ctx, "tcp", m, server)
	}
	return r, err
}

func exchangeOver(ctx context.Context, network string, m *dns.Msg, server string) (*dns.Msg, error) {
	c := &dns.Client{Net: network}
	conn, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// The read deadline comes from ctx's deadline; closing the connection
	// also ends the read when ctx is cancelled.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	r, _, err := c.ExchangeWithConnContext(ctx, m, conn)
	switch {
	case err == nil:
		return r, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded): // ctx's deadline, a moment early
		return nil, context.DeadlineExceeded
	}
	return nil, err
}
