package console

import (
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"sync"
	"time"
)

// A session keeps a signed-in browser's credential on the server: the
// management key of an operator, or the access token of an end user. The
// browser holds only a random session id in an HttpOnly, SameSite=Strict
// cookie, so the credential is never in a URL, in local storage or
// reachable by a script; and the store keys sessions by the id's SHA-256,
// so that not even a dump of this process's memory yields a usable cookie
// from the map's keys.
//
// The credential is checked again on every request (the core resolves it
// afresh): a key deleted or expired, or a token revoked, ends the session
// at its next request.
//
// Sessions live in this process's memory only, so that no credential ever
// rests on disk. With several nodes behind a load balancer, route the
// console's paths to one node, or with sticky sessions.

// sessionKind tells an operator's session from an end user's; each has its
// own cookie, so that both may be open in one browser.
type sessionKind int

const (
	operatorSession sessionKind = iota
	userSession
)

type session struct {
	kind    sessionKind
	secret  string // the management key or the access token
	created time.Time
	seen    time.Time
}

// sessionStore maps the SHA-256 of a session id to its session.
type sessionStore struct {
	now   func() time.Time
	idle  time.Duration // a session unused this long ends
	max   time.Duration // and any session this old
	limit int           // sessions kept at most; the least recently used go first

	mu   sync.Mutex
	byID map[[32]byte]*session
}

func newSessionStore(now func() time.Time, idle, max time.Duration, limit int) *sessionStore {
	return &sessionStore{now: now, idle: idle, max: max, limit: limit, byID: map[[32]byte]*session{}}
}

// create stores a session for secret and returns its id: 26 characters of
// crypto/rand base32, 130 bits.
func (s *sessionStore) create(kind sessionKind, secret string) string {
	id := rand.Text()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= s.limit {
		s.evictLocked(now)
	}
	s.byID[sha256.Sum256([]byte(id))] = &session{kind: kind, secret: secret, created: now, seen: now}
	return id
}

// get returns the live session of kind that id names, and marks it used.
func (s *sessionStore) get(kind sessionKind, id string) (*session, bool) {
	if id == "" {
		return nil, false
	}
	h := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.byID[h]
	if !ok || se.kind != kind {
		return nil, false
	}
	if s.expired(se, now) {
		delete(s.byID, h)
		return nil, false
	}
	se.seen = now
	return se, true
}

func (s *sessionStore) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, sha256.Sum256([]byte(id)))
}

func (s *sessionStore) expired(se *session, now time.Time) bool {
	return now.Sub(se.seen) >= s.idle || now.Sub(se.created) >= s.max
}

// evictLocked makes room: the expired sessions go, and if none had, the
// least recently used one.
func (s *sessionStore) evictLocked(now time.Time) {
	var oldest [32]byte
	var oldestSeen time.Time
	for h, se := range s.byID {
		if s.expired(se, now) {
			delete(s.byID, h)
			continue
		}
		if oldestSeen.IsZero() || se.seen.Before(oldestSeen) {
			oldest, oldestSeen = h, se.seen
		}
	}
	if len(s.byID) >= s.limit {
		delete(s.byID, oldest)
	}
}

// cookieNames: with HTTPS the __Host- prefix makes browsers refuse the
// cookie unless it is Secure, host-only and for the whole site.
func cookieName(kind sessionKind, secure bool) string {
	name := "tokend-console"
	if kind == userSession {
		name = "tokend-apps"
	}
	if secure {
		return "__Host-" + name
	}
	return name
}

func (c *Console) sessionCookie(kind sessionKind, value string, maxAge int) *http.Cookie {
	path := "/console/"
	if c.opts.Secure {
		path = "/" // __Host- cookies must be for the whole site
	}
	return &http.Cookie{
		Name: cookieName(kind, c.opts.Secure), Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: c.opts.Secure, SameSite: http.SameSiteStrictMode,
	}
}

// startSession signs the browser in.
func (c *Console) startSession(w http.ResponseWriter, kind sessionKind, secret string) {
	id := c.sessions.create(kind, secret)
	http.SetCookie(w, c.sessionCookie(kind, id, int(c.opts.SessionMaxAge/time.Second)))
}

// endSession signs the browser out: the server forgets the session and the
// browser the cookie.
func (c *Console) endSession(w http.ResponseWriter, r *http.Request, kind sessionKind) {
	c.forgetSession(r, kind)
	http.SetCookie(w, c.sessionCookie(kind, "", -1))
}

// forgetSession ends the request's session on the server only: a sign-in
// replaces it with a new one (and a new id) rather than keep the old id.
func (c *Console) forgetSession(r *http.Request, kind sessionKind) {
	if ck, err := r.Cookie(cookieName(kind, c.opts.Secure)); err == nil {
		c.sessions.delete(ck.Value)
	}
}

// currentSession returns the request's session of kind, if any.
func (c *Console) currentSession(r *http.Request, kind sessionKind) (*session, bool) {
	ck, err := r.Cookie(cookieName(kind, c.opts.Secure))
	if err != nil {
		return nil, false
	}
	return c.sessions.get(kind, ck.Value)
}
