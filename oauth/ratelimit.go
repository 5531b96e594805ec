package oauth

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tokend/tokend"
)

// failureLimiter counts failures per key in token buckets. Only failures
// take a token, so a client that authenticates correctly is never slowed;
// a key is refused once its bucket is empty.
//
// A key gets an entry only when it first fails, so successful traffic costs
// no memory. The map is bounded: when it is full, entries whose bucket has
// refilled (they behave exactly like a fresh one) are dropped first, then
// the ones that failed longest ago.
//
// Checking and counting are separate steps, so N requests in flight at once
// may all pass the check before any failure is counted; the overshoot is
// bounded by the concurrency of one key, and the address limiter bounds
// that in turn.
type failureLimiter struct {
	limit    rate.Limit
	burst    int
	disabled bool
	max      int

	mu      sync.Mutex
	entries map[string]*failureEntry
}

type failureEntry struct {
	lim  *rate.Limiter
	last time.Time // the latest failure
}

func newFailureLimiter(l Limit, max int) *failureLimiter {
	return &failureLimiter{
		limit: rate.Every(l.Every), burst: l.Burst, disabled: l.Burst < 0,
		max: max, entries: make(map[string]*failureEntry),
	}
}

// wait returns how long key must wait before it may try again; zero if it
// may try now.
func (f *failureLimiter) wait(key string, now time.Time) time.Duration {
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

// fail counts one failure of key.
func (f *failureLimiter) fail(key string, now time.Time) {
	if f.disabled {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.entries[key]
	if e == nil {
		f.makeRoom(now)
		e = &failureEntry{lim: rate.NewLimiter(f.limit, f.burst)}
		f.entries[key] = e
	}
	e.lim.AllowN(now, 1) // an empty bucket stays empty; wait() refuses it
	e.last = now
}

// makeRoom keeps the map below max. It sweeps only when full and then frees
// an eighth of the room, so its cost is amortised over many insertions.
func (f *failureLimiter) makeRoom(now time.Time) {
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

func (f *failureLimiter) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.entries)
}

// clientKey names a client for the limiter. A client_id longer than any
// the core accepts cannot exist, so it is cut short: an attacker's long
// values then cost no more memory than short ones.
func clientKey(sid int64, clientID string) string {
	if len(clientID) > tokend.MaxNameLen+1 {
		clientID = clientID[:tokend.MaxNameLen+1]
	}
	return strconv.FormatInt(sid, 10) + "\x00" + clientID
}

// remoteHost is the default source address: the peer's IP. IPv6 peers are
// grouped by /64, the block one subscriber usually holds, or a single host
// could rotate through 2^64 addresses to escape the limit.
func remoteHost(r *http.Request) string {
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

// limited checks both limiters before any credential is looked at. The
// answer to an exhausted limiter is 429 with Retry-After, and the core is
// not called at all: a flood of guesses costs no store queries.
func (s *Server) limited(r *http.Request, sid int64, c caller) error {
	now := s.now()
	wait := s.addrs.wait(s.address(r), now)
	if c.cred.ClientID != "" {
		wait = max(wait, s.clients.wait(clientKey(sid, c.cred.ClientID), now))
	}
	if wait == 0 {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	secs = max(secs, 1)
	return &oauthError{
		status: http.StatusTooManyRequests, code: "temporarily_unavailable",
		desc:       "too many failed authentications; retry after " + strconv.Itoa(secs) + " seconds",
		retryAfter: secs,
		domain:     tokend.Errorf(tokend.EUNAUTHORIZED, "rate limited"),
	}
}

// failed counts a failed authentication of c from r's address.
func (s *Server) failed(r *http.Request, sid int64, c caller) {
	now := s.now()
	s.addrs.fail(s.address(r), now)
	if c.cred.ClientID != "" {
		s.clients.fail(clientKey(sid, c.cred.ClientID), now)
	}
}
