package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tokend/tokend/internal/pgtest"
)

// proxy forwards TCP connections to a server and can cut them all, and
// refuse new ones, as if the server had stopped; Restore lets them through
// again on the same address.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
	wg           sync.WaitGroup
}

func startProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	p.serve(ln)
	tb.Cleanup(func() { p.Cut(); p.wg.Wait() })
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			for _, pair := range [][2]net.Conn{{c, up}, {up, c}} {
				p.wg.Go(func() {
					io.Copy(pair[0], pair[1])
					pair[0].Close()
					pair[1].Close()
				})
			}
		}
	})
}

// Cut closes every connection and the listener: the server is gone.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Restore accepts connections again, on the same address.
func (p *proxy) Restore(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		tb.Fatal(err)
	}
	p.serve(ln)
}

// proxied returns url with its host replaced by the proxy's.
func proxiedURL(tb testing.TB, raw string) (string, *proxy) {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	p := startProxy(tb, u.Host)
	u.Host = p.addr
	return u.String(), p
}

// TestPostgreSQLStopsMidRun: the database server goes away under a
// running tokend (every connection cut, new ones refused). Every surface
// answers 503 with Retry-After (or, for what it holds in memory, as
// before), a refresh tried meanwhile consumes nothing, and when the server
// is back everything works again without a restart.
func TestPostgreSQLStopsMidRun(t *testing.T) {
	dbURL, px := proxiedURL(t, pgtest.NewDatabase(t))
	s := MustSurfaces(t, dbURL)
	_, refresh := s.password(t, "alice")
	refreshForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}

	reqs := make([]*http.Request, len(probes))
	for i, p := range probes {
		reqs[i] = p.prepare(t, s)
	}
	px.Cut()
	t.Run("Down", func(t *testing.T) {
		for i, p := range probes {
			t.Run(p.name, func(t *testing.T) {
				res, body := s.send(t, http.DefaultClient, reqs[i])
				switch {
				case res.StatusCode == http.StatusServiceUnavailable:
					mustUnavailable(t, res, body)
				case p.write:
					t.Fatalf("%d %s, want 503: this request writes", res.StatusCode, body)
				case res.StatusCode != p.want:
					t.Fatalf("%d %s, want 503 (or %d from memory)", res.StatusCode, body, p.want)
				}
			})
		}
		res, body := s.send(t, http.DefaultClient, s.form("/oauth/%d/token", refreshForm, s.conf.ClientID, s.confSecret))
		mustUnavailable(t, res, body)
	})
	px.Restore(t)
	t.Run("BackByItself", func(t *testing.T) {
		for _, p := range probes {
			t.Run(p.name, func(t *testing.T) {
				res, body := s.send(t, http.DefaultClient, p.prepare(t, s))
				if res.StatusCode != p.want {
					t.Fatalf("after the database came back: %d %s, want %d", res.StatusCode, body, p.want)
				}
			})
		}
		res, body := s.send(t, http.DefaultClient, s.form("/oauth/%d/token", refreshForm, s.conf.ClientID, s.confSecret))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("the refresh token tried during the outage: %d %s; it was consumed", res.StatusCode, body)
		}
		if strings.Contains(s.logs.String(), "panic") {
			t.Fatalf("the server panicked:\n%s", s.logs)
		}
	})
}
