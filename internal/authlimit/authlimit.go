// Package authlimit limits failed authentications, for every HTTP surface
// that checks credentials: the OAuth endpoints, the management API and the
// dialects. Only failures count, so a caller that authenticates correctly
// is never slowed; a caller whose failures emptied its bucket is refused
// (429 with Retry-After) before its credentials are looked at, so a flood
// of guesses costs no store queries.
//
// Two buckets guard each request: one per source address (IPv6 grouped by
// /64), so one address cannot spray guesses over many credentials, and one
// per credential the request names (a client_id, say), so a botnet cannot
// spread guesses at one secret over many addresses. A credential's bucket
// is its own: a client under attack is refused, the others are not; and an
// address's bucket is larger than a credential's, so that one client
// failing does not lock out the others behind the same address.
package authlimit

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tokend/tokend"
)

// Limit is a token bucket of failures: Burst failures in a row are
// allowed, then one more each Every.
type Limit struct {
	Burst int           // zero: the default; negative: no limit
	Every time.Duration // zero: the default
}

// Defaults. A credential that fails ten times in a row is misconfigured or
// under attack; either way one attempt every six seconds is plenty. An
// address gets more, since a NAT may hide several callers behind it.
var (
	DefaultCredential = Limit{Burst: 10, Every: 6 * time.Second}
	DefaultAddress    = Limit{Burst: 30, Every: 2 * time.Second}
)

// DefaultMaxTracked bounds each bucket map: entries are small, and an
// attacker who makes up credentials cannot grow the map past this.
const DefaultMaxTracked = 10000

// Options tunes a Limiter; the zero value is a sane production setting.
type Options struct {
	Credential Limit
	Address    Limit
	// MaxTracked bounds how many credentials, and separately how many
	// addresses, are remembered; zero means DefaultMaxTracked.
	MaxTracked int
	// ClientAddress names the source of a request. nil means the host of
	// r.RemoteAddr (IPv6 grouped by /64). Behind a reverse proxy, supply a
	// function that reads the header the proxy sets; X-Forwarded-For is
	// not trusted on its own, since any client can send one.
	ClientAddress func(r *http.Request) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Limiter counts failed authentications. It is safe for concurrent use,
// and one Limiter may serve several surfaces (their credential keys must
// then be told apart, e.g. by a prefix).
type Limiter struct {
	now     func() time.Time
	address func(*http.Request) string
	creds   *buckets
	addrs   *buckets
}

// New returns a limiter.
func New(o Options) *Limiter {
	l := &Limiter{now: o.Now, address: o.ClientAddress}
	if l.now == nil {
		l.now = time.Now
	}
	if l.address == nil {
		l.address = RemoteHost
	}
	max := o.MaxTracked
	if max <= 0 {
		max = DefaultMaxTracked
	}
	l.creds = newBuckets(orDefault(o.Credential, DefaultCredential), max)
	l.addrs = newBuckets(orDefault(o.Address, DefaultAddress), max)
	return l
}

func orDefault(l, def Limit) Limit {
	if l.Burst == 0 {
		l.Burst = def.Burst
	}
	if l.Every <= 0 {
		l.Every = def.Every
	}
	return l
}

// Address is the source r is counted under.
func (l *Limiter) Address(r *http.Request) string { return l.address(r) }

// Wait returns how long the request's source, and the credential it names
// (cred; "" when it names none), must wait before trying again: zero when
// it may try now.
func (l *Limiter) Wait(r *http.Request, cred string) time.Duration {
	now := l.now()
	wait := l.addrs.wait(l.address(r), now)
	if cred != "" {
		wait = max(wait, l.creds.wait(cred, now))
	}
	return wait
}

// Exhausted tells which buckets a failure emptied: each is true only for
// the failure that took the last token, so a caller hears once each time
// a source or credential becomes limited (to record it, say).
type Exhausted struct {
	Address    bool
	Credential bool
}

// Fail counts a failed authentication of the request's source and of the
// credential it named.
func (l *Limiter) Fail(r *http.Request, cred string) Exhausted {
	now := l.now()
	var ex Exhausted
	ex.Address = l.addrs.fail(l.address(r), now)
	if cred != "" {
		ex.Credential = l.creds.fail(cred, now)
	}
	return ex
}

// RemoteHost is the default source address: the peer's IP. IPv6 peers are
// grouped by /64, the block one subscriber usually holds, or a single host
// could rotate through 2^64 addresses to escape the limit.
func RemoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.WithZone("").Prefix(64)
		return p.String()
	}
	return ip.String()
}

// buckets counts failures per key in token buckets; a key is refused once
// its bucket is empty.
//
// A key gets an entry only when it first fails, so successful traffic costs
// no memory. The map is bounded: when it is full, entries whose bucket has
// refilled (they behave exactly like a fresh one) are dropped first, then
// the ones that failed longest ago.
//
// Checking and counting are separate steps, so N requests in flight at once
// may all pass the check before any failure is counted; the overshoot is
// bounded by the concurrency of one key, and the address limit bounds
// that in turn.
type buckets struct {
	limit    rate.Limit
	burst    int
	disabled bool
	max      int

	mu      sync.Mutex
	entries map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time // the latest failure
}

func newBuckets(l Limit, max int) *buckets {
	return &buckets{
		limit: rate.Every(l.Every), burst: l.Burst, disabled: l.Burst < 0,
		max: max, entries: make(map[string]*bucket),
	}
}

// wait returns how long key must wait before it may try again; zero if it
// may try now.
func (f *buckets) wait(key string, now time.Time) time.Duration {
	if f.disabled {
		return 0
	}
	f.mu.Lock()
	e := f.entries[key]
	f.mu.Unlock()
	if e == nil {
		return 0
	}
	tokens := e.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(f.limit) * float64(time.Second))
}

// fail counts one failure of key and reports whether it emptied the bucket.
func (f *buckets) fail(key string, now time.Time) bool {
	if f.disabled {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.entries[key]
	if e == nil {
		f.makeRoom(now)
		e = &bucket{lim: rate.NewLimiter(f.limit, f.burst)}
		f.entries[key] = e
	}
	// An empty bucket stays empty; wait() refuses it.
	had := e.lim.TokensAt(now) >= 1
	e.lim.AllowN(now, 1)
	e.last = now
	return had && e.lim.TokensAt(now) < 1
}

// makeRoom keeps the map below max. It sweeps only when full and then frees
// an eighth of the room, so its cost is amortised over many insertions.
func (f *buckets) makeRoom(now time.Time) {
	if len(f.entries) < f.max {
		return
	}
	for k, e := range f.entries {
		if e.lim.TokensAt(now) >= float64(f.burst) {
			delete(f.entries, k)
		}
	}
	target := f.max - max(f.max/8, 1)
	if len(f.entries) <= target {
		return
	}
	keys := make([]string, 0, len(f.entries))
	for k := range f.entries {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return f.entries[a].last.Compare(f.entries[b].last) })
	for _, k := range keys[:len(keys)-target] {
		delete(f.entries, k)
	}
}

func (f *buckets) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.entries)
}

// Refused is the error of a request the limiter refused. It unwraps to an
// EUNAUTHORIZED domain error, so that a surface that does not know it
// still refuses the request (with 401), the request log names a code, and
// the adapter does not log it as a failure; the surfaces answer it with
// 429 Too Many Requests and Retry-After, each in its own error shape.
type Refused struct {
	RetryAfter int // seconds, at least 1
	domain     *tokend.Error
}

func (e *Refused) Error() string { return e.domain.Error() }
func (e *Refused) Unwrap() error { return e.domain }

// Message is the refusal's text for callers.
func (e *Refused) Message() string { return e.domain.Message }

// Check refuses a request whose source, or the credential it names, must
// wait: a *Refused, or nil.
func (l *Limiter) Check(r *http.Request, cred string) error {
	return refusal(l.Wait(r, cred))
}

// CheckCredential is Check for the credential alone, for requests that
// relay a credential (an authorization server's front end passing on its
// clients'): their source is the relay, which must not be limited for
// what its clients get wrong.
func (l *Limiter) CheckCredential(cred string) error {
	return refusal(l.creds.wait(cred, l.now()))
}

func refusal(wait time.Duration) error {
	if wait == 0 {
		return nil
	}
	secs := max(int(math.Ceil(wait.Seconds())), 1)
	return &Refused{RetryAfter: secs, domain: tokend.Errorf(tokend.EUNAUTHORIZED,
		"too many failed authentications; retry after %d seconds", secs)}
}

// Failure describes a failed authentication for Failed.
type Failure struct {
	ServiceID  int64  // the service the request named; 0 when none
	Credential string // the credential's bucket key; "" when the request named none
	Actor      string // the credential in audit terms, e.g. "client_id:photo-app"
	Surface    string // where: "oauth", "api", "authlete", "passport", "kustvakt"
	// CredentialOnly counts the failure against the credential alone:
	// see CheckCredential.
	CredentialOnly bool
}

// Failed counts a failed authentication and, when the failure emptied the
// source's or the credential's bucket, records the event in the audit log
// through core: once each time a caller becomes limited, so a flood of
// guesses costs a bounded number of writes. A failure to record is
// returned, for the caller to log; the request's answer does not change.
func (l *Limiter) Failed(r *http.Request, core *tokend.Core, f Failure) error {
	var ex Exhausted
	if f.CredentialOnly {
		ex.Credential = f.Credential != "" && l.creds.fail(f.Credential, l.now())
	} else {
		ex = l.Fail(r, f.Credential)
	}
	ctx := context.WithoutCancel(r.Context())
	var errs []error
	if ex.Address {
		errs = append(errs, core.RecordAuthFailures(ctx, f.ServiceID, "address:"+l.address(r), f.Surface))
	}
	if ex.Credential && f.Actor != "" {
		errs = append(errs, core.RecordAuthFailures(ctx, f.ServiceID, f.Actor, f.Surface))
	}
	return errors.Join(errs...)
}
