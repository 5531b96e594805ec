package tokend

import (
	"context"
	"time"
)

// Observer hears of the token events operators count; package
// internal/metrics turns them into Prometheus counters. The core tells it
// after the event, on the caller's goroutine, on the hottest paths of the
// service (introspection, the token endpoint): an Observer must be quick,
// must not block and must not call the core.
//
// The core calls it rather than the store, because only the core knows
// what an event means: a store sees an UPDATE, not a reuse detection.
type Observer interface {
	// TokenIssued: a token of grant g was issued in service sid, by a
	// token endpoint (any dialect) or the management API.
	TokenIssued(sid int64, g GrantType)
	// TokenIntrospected: an introspection in service sid was answered
	// (RFC 7662, or a resource server's access check); g is the token's
	// grant type, "" when no token of the service has the value.
	TokenIntrospected(sid int64, g GrantType, active bool)
	// TokensRevoked: one request revoked n > 0 tokens of service sid; g is
	// the token's grant type when the request named one token, "" when it
	// named many (a client's, a subject's, a grant's).
	TokensRevoked(sid int64, g GrantType, n int)
	// RefreshReuseDetected: a refresh token that rotation had retired was
	// presented again after its grace period (RFC 9700 §4.14.2).
	RefreshReuseDetected(sid int64)
}

// nopObserver is the observer of a core configured without one.
type nopObserver struct{}

func (nopObserver) TokenIssued(int64, GrantType)             {}
func (nopObserver) TokenIntrospected(int64, GrantType, bool) {}
func (nopObserver) TokensRevoked(int64, GrantType, int)      {}
func (nopObserver) RefreshReuseDetected(int64)               {}

// revoke revokes what f selects and tells the observer how many it
// revoked; g is the token's grant type when f names one token.
func (c *Core) revoke(ctx context.Context, f RevokeFilter, at time.Time, reason string, g GrantType) (int, error) {
	n, err := c.store.RevokeTokens(ctx, f, at, reason)
	if n > 0 {
		c.obs.TokensRevoked(f.ServiceID, g, n)
	}
	return n, err
}

// Exchange runs the token endpoint for an authenticated client.
func (c *Core) Exchange(ctx context.Context, svc *Service, cl *Client, req TokenRequest) (*IssuedToken, error) {
	issued, err := c.exchange(ctx, svc, cl, req)
	if err == nil {
		// Counted by the grant asked for: a refresh is a REFRESH_TOKEN
		// issue, whatever grant started its family.
		c.obs.TokenIssued(svc.ID, wireGrants[req.GrantType])
	}
	return issued, err
}

// CreateToken mints a token in service sid for a client.
func (c *Core) CreateToken(ctx context.Context, p *Principal, sid int64, in TokenInput) (*IssuedToken, error) {
	issued, err := c.createToken(ctx, p, sid, in)
	if err == nil {
		c.obs.TokenIssued(sid, issued.Token.GrantType)
	}
	return issued, err
}

// Introspect tells whether raw is a live token of service svc. Anything
// else (unknown, expired, revoked, malformed, another service's) is simply
// inactive. This is the hot path: a malformed value costs no store query,
// and the service and client come from the cache.
func (c *Core) Introspect(ctx context.Context, svc *Service, raw, hint string) (*Introspection, error) {
	in, err := c.introspect(ctx, svc, raw, hint)
	if err == nil {
		var g GrantType
		if in.Token != nil {
			g = in.Token.GrantType
		}
		c.obs.TokenIntrospected(svc.ID, g, in.Active)
	}
	return in, err
}

// CheckAccessToken answers an AccessCheck for service sid; p needs
// tokens.introspect there. Problems with the token are in the result; the
// error is for the request itself (bad scopes or subject, permissions, an
// unavailable store).
func (c *Core) CheckAccessToken(ctx context.Context, p *Principal, sid int64, q AccessCheck) (*AccessCheckResult, error) {
	res, err := c.checkAccessToken(ctx, p, sid, q)
	if err == nil {
		var g GrantType
		if res.Token != nil {
			g = res.Token.GrantType
		}
		c.obs.TokenIntrospected(sid, g, res.Problem == AccessOK)
	}
	return res, err
}
