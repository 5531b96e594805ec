// Package tokend is the core of the token service: domain types, the rules
// that govern them, the Store contract and the domain error type. It knows
// nothing of HTTP or SQL; adapters call it with plain Go values.
package tokend

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Defaults for a new service.
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	MaxTokenTTL            = 100 * 365 * 24 * time.Hour
)

// Config holds the deployment-wide settings the core needs.
type Config struct {
	// BaseURL is where this deployment is reached, e.g. "https://auth.example.com".
	// A service without a configured issuer gets BaseURL + "/oauth/{id}".
	BaseURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Passwords hashes the built-in users' passwords; nil disables them.
	Passwords PasswordHasher
	// Callback checks passwords with host applications; nil disables it.
	Callback PasswordCallback
	// CacheTTL bounds how long a cached service, client or token is
	// trusted; zero means DefaultCacheTTL.
	CacheTTL time.Duration
	// TokenCacheSize bounds the introspection cache; zero means
	// DefaultTokenCacheSize, a negative value turns it off.
	TokenCacheSize int
	// TokenCacheTTL bounds how long a cached token is trusted against
	// changes made by another process; zero means DefaultTokenCacheTTL.
	// Changes made through this core are seen at once, whatever the TTL.
	TokenCacheTTL time.Duration
	// Observer is told of token events, for metrics (observer.go); nil
	// tells no one.
	Observer Observer
}

// Core applies tokend's rules on top of a Store.
type Core struct {
	store     Store
	baseURL   string
	now       func() time.Time
	cache     *cache
	tokens    *tokenCache // nil when turned off
	passwords PasswordHasher
	callback  PasswordCallback
	dummyOnce sync.Once
	dummyHash string
	obs       Observer // told of token events (observer.go); never nil
}

// New returns a core that persists to store.
func New(store Store, cfg Config) *Core {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	ttl := cfg.CacheTTL
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	c := &Core{store: store, baseURL: strings.TrimRight(cfg.BaseURL, "/"), now: now,
		cache: newCache(ttl), tokens: newTokenCache(cfg.TokenCacheSize, orDefault(cfg.TokenCacheTTL, DefaultTokenCacheTTL)),
		passwords: cfg.Passwords, callback: cfg.Callback, obs: cfg.Observer}
	if c.obs == nil {
		c.obs = nopObserver{}
	}
	return c
}

// Now returns the current time at the store's precision.
func (c *Core) Now() time.Time { return c.now().UTC().Truncate(time.Millisecond) }

// Principal is an authenticated caller of the management surfaces.
type Principal struct {
	KeyID       int64 // the management key, 0 if the caller is not a key
	ClientID    int64 // for an access token's principal: the token's client
	ServiceID   int64 // 0: reaches every service of the organization
	Permissions []Permission
}

// Can reports whether the principal holds permission perm.
func (p *Principal) Can(perm Permission) bool {
	for _, have := range p.Permissions {
		if have == PermAll || have == perm {
			return true
		}
	}
	return false
}

// Actor names the principal in logs and audit records, never with a secret.
func (p *Principal) Actor() string {
	if p.KeyID == 0 && p.ClientID != 0 {
		return fmt.Sprintf("client:%d", p.ClientID)
	}
	return fmt.Sprintf("key:%d", p.KeyID)
}

// authorize checks that p may act with perm on service sid. A service key
// naming another service is told the service does not exist, so tenants
// cannot probe each other.
func (p *Principal) authorize(sid int64, perm Permission) error {
	if p == nil {
		return Errorf(EUNAUTHORIZED, "missing credentials")
	}
	if p.ServiceID != 0 && p.ServiceID != sid {
		return NotFound("service")
	}
	if !p.Can(perm) {
		return Errorf(EFORBIDDEN, "this key lacks the %q permission", perm)
	}
	return nil
}

// authorizeOrg checks that p is an organization key holding perm.
func (p *Principal) authorizeOrg(perm Permission) error {
	if p == nil {
		return Errorf(EUNAUTHORIZED, "missing credentials")
	}
	if p.ServiceID != 0 {
		return Errorf(EFORBIDDEN, "only an organization key may do this")
	}
	if !p.Can(perm) {
		return Errorf(EFORBIDDEN, "this key lacks the %q permission", perm)
	}
	return nil
}

// AuthenticateKey resolves a raw management key.
func (c *Core) AuthenticateKey(ctx context.Context, raw string) (*Principal, error) {
	if raw == "" {
		return nil, Errorf(EUNAUTHORIZED, "missing management key: send Authorization: Bearer <key>")
	}
	if kind, ok := SecretKindOf(raw); kind != "" && (!ok || kind != KindManagementKey) {
		return nil, Errorf(EUNAUTHORIZED, "invalid management key")
	}
	k, err := c.store.GetKeyByHash(ctx, HashSecret(raw))
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(EUNAUTHORIZED, "invalid management key")
	} else if err != nil {
		return nil, err
	}
	if !k.ExpiresAt.IsZero() && !c.Now().Before(k.ExpiresAt) {
		return nil, Errorf(EUNAUTHORIZED, "management key expired")
	}
	return &Principal{KeyID: k.ID, ServiceID: k.ServiceID, Permissions: k.Permissions}, nil
}

// Bootstrap makes sure the deployment has a management key. On an empty
// store it stores raw (or a generated key when raw is empty) as an
// organization key with every permission and returns the value it used;
// otherwise it returns "".
func (c *Core) Bootstrap(ctx context.Context, raw string) (string, error) {
	n, err := c.store.CountKeys(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	if raw == "" {
		raw = NewSecret(KindManagementKey)
	} else if err := validSuppliedToken("TOKEND_BOOTSTRAP_KEY", raw, KindManagementKey); err != nil {
		return "", err
	}
	k := &Key{Name: "bootstrap", Permissions: []Permission{PermAll}, Hash: HashSecret(raw), CreatedAt: c.Now()}
	ctx = auditDetail(c.audited(ctx, "system", 0, AuditKeyCreate, TargetKey, ""), "", "bootstrap")
	if err := c.store.CreateKey(ctx, k); err != nil {
		if ErrorField(err) == "key" && ErrorCode(err) == ECONFLICT {
			// Several nodes started at once on an empty database with the
			// same bootstrap key: another stored it first.
			return "", nil
		}
		return "", err
	}
	return raw, nil
}

// randomID returns an identifier that is hard to guess and exact in
// JavaScript numbers (below 2^53), with at least 13 digits.
func randomID() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("tokend: crypto/rand failed: " + err.Error())
	}
	const lo, span = 1_000_000_000_000, (1 << 53) - 1_000_000_000_000
	return lo + int64(binary.BigEndian.Uint64(b[:])%span)
}

// createWithRandomID retries create when the random id it chose is taken.
func createWithRandomID(create func(id int64) error) error {
	for attempt := 0; ; attempt++ {
		err := create(randomID())
		var e *Error
		if attempt < 5 && errors.As(err, &e) && e.Code == ECONFLICT && e.Field == "id" {
			continue
		}
		return err
	}
}
