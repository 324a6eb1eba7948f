package integration

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// query is one query of a load run and what became of it.
type query struct {
	kind string // what the name is: "cluster", "stub", "upstream"
	name string

	sent, done time.Time
	answer     string // the first A record's address, or the rcode when not NOERROR
	first      error  // why the first attempt failed, when it was retried
	err        error  // why it failed after the retry; nil once answered
}

// load sends queries through a DNS server at a steady rate, each on its own
// socket, as many stub resolvers would: a query is given a second try on
// the same socket when the first brings no answer within attemptTimeout.
type load struct {
	server string
	names  func(i int) (kind, name string)

	sent atomic.Int64
	mu   sync.Mutex
	all  []*query
	wg   sync.WaitGroup
	stop chan struct{}
	done chan struct{}
}

const attemptTimeout = time.Second

// startLoad sends perSecond queries a second to server, the i-th for
// names(i), until stopAndWait.
func startLoad(server string, perSecond int, names func(i int) (kind, name string)) *load {
	l := &load{server: server, names: names, stop: make(chan struct{}), done: make(chan struct{})}
	const tick = 10 * time.Millisecond
	perTick := max(1, perSecond/int(time.Second/tick))
	go func() {
		defer close(l.done)
		t := time.NewTicker(tick)
		defer t.Stop()
		for i := 0; ; {
			select {
			case <-l.stop:
				return
			case <-t.C:
			}
			for range perTick {
				kind, name := names(i)
				q := &query{kind: kind, name: name}
				i++
				l.mu.Lock()
				l.all = append(l.all, q)
				l.mu.Unlock()
				l.wg.Add(1)
				go func() {
					defer l.wg.Done()
					l.ask(q)
				}()
				l.sent.Add(1)
			}
		}
	}()
	return l
}

func (l *load) ask(q *query) {
	q.sent = time.Now()
	defer func() { q.done = time.Now() }()
	conn, err := net.Dial("udp", l.server)
	if err != nil {
		q.err = err
		return
	}
	defer conn.Close()
	co := &dns.Conn{Conn: conn}
	m := new(dns.Msg)
	m.SetQuestion(q.name, dns.TypeA)
	// The retry is the same message (same ID) from the same socket, as
	// glibc's stub resolver sends it: dnsmasq takes that for a retry and
	// forwards it again, where an identical question from another port
	// within 2 s of the first is only queued behind the first's forward.
	q.answer, q.err = askOn(co, m, attemptTimeout)
	if q.err != nil {
		q.first = q.err
		q.answer, q.err = askOn(co, m, 2*attemptTimeout)
	}
}

// askOn sends m on co and returns its answer as exchangeA does.
func askOn(co *dns.Conn, m *dns.Msg, timeout time.Duration) (string, error) {
	resp, _, err := (&dns.Client{Timeout: timeout}).ExchangeWithConn(m, co)
	if err != nil {
		return "", err
	}
	return firstA(resp), nil
}

// waitSent polls until n more queries than now have been sent.
func (l *load) waitSent(n int64) error {
	target := l.sent.Load() + n
	_, err := eventually(time.Duration(n)*10*time.Millisecond+10*time.Second, func() error {
		if l.sent.Load() < target {
			return errors.New("load generator behind")
		}
		return nil
	})
	return err
}

// stopAndWait stops sending and returns every query once all have ended.
func (l *load) stopAndWait() []*query {
	close(l.stop)
	<-l.done
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all
}

// exchangeA asks server for name's A records over UDP and returns the first
// address, or the rcode when it is not NOERROR.
func exchangeA(server, name string, timeout time.Duration) (string, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	resp, _, err := (&dns.Client{Timeout: timeout}).Exchange(m, server)
	if err != nil {
		return "", err
	}
	return firstA(resp), nil
}

// firstA is resp's first address, or its rcode when it is not NOERROR.
func firstA(resp *dns.Msg) string {
	if resp.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[resp.Rcode]
	}
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String()
		}
	}
	return "NODATA"
}

// isTimeout reports whether err is a read that timed out (the server
// stayed silent), as opposed to, say, a closed port.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
