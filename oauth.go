package tokend

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// The OAuth 2.0 protocol rules (RFC 6749, 7009, 7636, 7662, 9700). The
// oauth adapter turns form posts into these calls and domain errors into
// RFC 6749 §5.2 codes: EUNAUTHORIZED → invalid_client, EGRANT →
// invalid_grant, EFORBIDDEN → unauthorized_client, EUNSUPPORTED →
// unsupported_grant_type, EINVALID on field "scope" → invalid_scope, other
// EINVALID → invalid_request.

// ClientCredentials is what a client presented to authenticate.
type ClientCredentials struct {
	ClientID string
	Secret   string // empty for public clients (method "none")
}

// AuthenticateClient checks a client of service sid. Unknown clients, wrong
// secrets and secrets sent by public clients all give the same EUNAUTHORIZED,
// so the answer reveals nothing about which clients exist.
func (c *Core) AuthenticateClient(ctx context.Context, sid int64, cred ClientCredentials) (*Service, *Client, error) {
	bad := Errorf(EUNAUTHORIZED, "client authentication failed")
	svc, err := c.cachedService(ctx, sid)
	if err != nil {
		return nil, nil, err
	}
	if cred.ClientID == "" {
		return nil, nil, Errorf(EUNAUTHORIZED, "client authentication is required")
	}
	if cred.Secret != "" && !WellFormed(cred.Secret, KindClientSecret, false) {
		return nil, nil, bad // mistyped: no store query
	}
	cl, err := c.cachedClient(ctx, sid, cred.ClientID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, bad
	} else if err != nil {
		return nil, nil, err
	}
	switch cl.Type {
	case ClientConfidential:
		h := HashSecret(cred.Secret)
		if cred.Secret == "" || subtle.ConstantTimeCompare(h[:], cl.SecretHash[:]) != 1 {
			return nil, nil, bad
		}
	case ClientPublic:
		if cred.Secret != "" {
			return nil, nil, bad
		}
	}
	return svc, cl, nil
}

// TokenRequest is a token endpoint request after client authentication.
type TokenRequest struct {
	GrantType    string // the RFC 6749 wire value, e.g. "client_credentials"
	Scope        string // space-delimited; empty: the grant's default
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	Username     string
	Password     string
}

// wireGrants maps RFC 6749 grant_type values to grant types.
var wireGrants = map[string]GrantType{
	"authorization_code": GrantAuthorizationCode,
	"client_credentials": GrantClientCredentials,
	"refresh_token":      GrantRefreshToken,
	"password":           GrantPassword,
}

// WireGrantTypes lists the RFC 6749 grant_type values of a service's grants
// that tokend's token endpoint serves, for discovery.
func WireGrantTypes(s *Service) []string {
	var out []string
	for _, w := range []string{"authorization_code", "client_credentials", "refresh_token", "password"} {
		if s.SupportsGrant(wireGrants[w]) {
			out = append(out, w)
		}
	}
	return out
}

// exchange runs the token endpoint; Exchange (observer.go) counts it.
func (c *Core) exchange(ctx context.Context, svc *Service, cl *Client, req TokenRequest) (*IssuedToken, error) {
	if req.GrantType == "" {
		return nil, Invalid("grant_type", "is required")
	}
	g, ok := wireGrants[req.GrantType]
	if !ok {
		return nil, &Error{Code: EUNSUPPORTED, Field: "grant_type", Message: "grant_type " + quoteShort(req.GrantType) + " is not supported"}
	}
	if !svc.SupportsGrant(g) {
		return nil, &Error{Code: EUNSUPPORTED, Field: "grant_type", Message: "this service does not support " + req.GrantType}
	}
	if !cl.AllowsGrant(g) {
		return nil, Errorf(EFORBIDDEN, "client %s may not use the %s grant", cl.ClientID, req.GrantType)
	}
	switch g {
	case GrantClientCredentials:
		if cl.Type != ClientConfidential {
			return nil, Errorf(EFORBIDDEN, "a public client cannot use client_credentials")
		}
		scopes, err := c.requestedScopes(req.Scope, svc, cl, cl.Scopes)
		if err != nil {
			return nil, err
		}
		return c.issue(ctx, svc, cl, TokenInput{GrantType: g, Scopes: scopes, NoRefreshToken: true})
	case GrantPassword:
		return c.passwordGrant(ctx, svc, cl, req)
	case GrantRefreshToken:
		return c.refresh(ctx, svc, cl, req)
	default:
		return c.redeemCode(ctx, svc, cl, req)
	}
}

// requestedScopes parses a scope parameter; an empty one means def
// (RFC 6749 §3.3 lets the server apply a documented default).
func (c *Core) requestedScopes(param string, svc *Service, cl *Client, def []string) ([]string, error) {
	if strings.TrimSpace(param) == "" {
		return slices.Clone(def), nil
	}
	return c.grantableScopes("scope", strings.Fields(param), svc, cl)
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return `"` + s + `"`
}

func (c *Core) passwordGrant(ctx context.Context, svc *Service, cl *Client, req TokenRequest) (*IssuedToken, error) {
	if req.Username == "" {
		return nil, Invalid("username", "is required")
	}
	if req.Password == "" {
		return nil, Invalid("password", "is required")
	}
	user, err := c.verifyPassword(ctx, svc, req.Username, req.Password)
	if err != nil {
		return nil, err
	}
	scopes, err := c.requestedScopes(req.Scope, svc, cl, cl.Scopes)
	if err != nil {
		return nil, err
	}
	return c.issue(ctx, svc, cl, TokenInput{
		GrantType: GrantPassword, Subject: user.Subject, Scopes: scopes,
		AccountID: user.AccountID, Roles: user.Roles, AuthTime: c.Now(),
	})
}

// refresh runs the refresh_token grant: rotation, reuse detection and the
// grace period for a lost response (RFC 9700 §4.14.2).
func (c *Core) refresh(ctx context.Context, svc *Service, cl *Client, req TokenRequest) (*IssuedToken, error) {
	if req.RefreshToken == "" {
		return nil, Invalid("refresh_token", "is required")
	}
	invalid := Errorf(EGRANT, "the refresh token is invalid, expired or revoked")
	if !WellFormed(req.RefreshToken, KindRefreshToken, true) {
		return nil, invalid // mistyped: no store query
	}
	old := HashSecret(req.RefreshToken)
	now := c.Now()
	var requested []string
	if strings.TrimSpace(req.Scope) != "" {
		var err error
		if requested, err = normScopes("scope", strings.Fields(req.Scope)); err != nil {
			return nil, err
		}
	}
	issued := &IssuedToken{AccessToken: NewSecret(KindAccessToken)}
	apply := func(t *Token) error {
		if t.ServiceID != svc.ID || t.ClientID != cl.ID {
			return invalid // a refresh token is only usable by its client
		}
		if !t.RefreshActive(now) {
			return invalid
		}
		if requested != nil {
			// Narrowing only: never beyond what the refresh token carries.
			if err := scopesWithin("scope", requested, t.EffectiveRefreshScopes(), "scope of the refresh token"); err != nil {
				return err
			}
			t.RefreshScopes = slices.Clone(t.EffectiveRefreshScopes())
			t.Scopes = requested
		} else if t.RefreshScopes != nil {
			t.Scopes = slices.Clone(t.RefreshScopes)
		}
		t.AccessHash = HashSecret(issued.AccessToken)
		t.Minted = true
		if !t.Persistent {
			t.AccessExpiresAt = now.Add(svc.AccessTokenTTL)
		}
		if issued.RefreshToken != "" {
			t.RefreshHash = HashSecret(issued.RefreshToken)
			if !svc.RefreshPolicy.KeepExpiry {
				t.RefreshExpiresAt = now.Add(svc.RefreshTokenTTL)
			}
		}
		t.LastRefreshedAt = now
		return nil
	}

	var t *Token
	var err error
	if svc.RefreshPolicy.Rotate {
		issued.RefreshToken = NewSecret(KindRefreshToken)
		retired := RetiredRefresh{Hash: old, RetiredAt: now}
		if svc.RefreshPolicy.ReuseGrace > 0 {
			retired.Successor = sealSuccessor(req.RefreshToken, issued.AccessToken, issued.RefreshToken)
		}
		t, err = c.store.RotateRefreshToken(ctx, old, retired, apply)
		if ErrorCode(err) == ENOTFOUND {
			return c.replayedRefresh(ctx, svc, cl, req.RefreshToken, old, now)
		}
	} else {
		var cur *Token
		if cur, err = c.store.GetTokenByRefreshHash(ctx, old); ErrorCode(err) == ENOTFOUND {
			return nil, invalid
		} else if err != nil {
			return nil, err
		}
		t, err = c.store.UpdateToken(ctx, cur.ID, func(t *Token) error {
			if t.RefreshHash != old {
				return invalid
			}
			return apply(t)
		})
		issued.RefreshToken = req.RefreshToken // unchanged; returned as RFC 6749 §6 allows
	}
	if err != nil {
		return nil, err
	}
	c.tokens.changedToken(t.ServiceID, t.ID) // its old access token is gone
	issued.Token = t
	return issued, nil
}

// replayedRefresh handles a refresh token that rotation already retired:
// within the grace period its client gets the same successor again (the
// first response was lost); otherwise it is reuse, and the whole grant is
// revoked, since either the client or an attacker holds a stolen copy.
func (c *Core) replayedRefresh(ctx context.Context, svc *Service, cl *Client, raw string, old Hash, now time.Time) (*IssuedToken, error) {
	invalid := Errorf(EGRANT, "the refresh token is invalid, expired or revoked")
	r, err := c.store.GetRetiredRefresh(ctx, old)
	if ErrorCode(err) == ENOTFOUND {
		return nil, invalid
	} else if err != nil {
		return nil, err
	}
	t, err := c.store.GetToken(ctx, r.TokenID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, invalid
	} else if err != nil {
		return nil, err
	}
	if t.ServiceID != svc.ID || t.ClientID != cl.ID {
		return nil, invalid
	}
	grace := svc.RefreshPolicy.ReuseGrace
	if grace > 0 && len(r.Successor) > 0 && now.Sub(r.RetiredAt) <= grace && t.RevokedAt.IsZero() {
		if access, refresh, ok := openSuccessor(raw, r.Successor); ok &&
			t.RefreshHash == HashSecret(refresh) && t.AccessHash == HashSecret(access) {
			return &IssuedToken{Token: t, AccessToken: access, RefreshToken: refresh}, nil
		}
	}
	if t.RevokedAt.IsZero() {
		actx := auditDetail(c.audited(ctx, clientActor(cl), svc.ID, AuditRefreshReuse, TargetGrant, idString(t.GrantID)), t.Subject, ReasonRefreshReuse)
		_, err := c.revoke(actx, RevokeFilter{ServiceID: svc.ID, GrantID: t.GrantID}, now, ReasonRefreshReuse, "")
		c.tokens.changedService(svc.ID) // a grant may span several records
		if err != nil {
			return nil, err
		}
	}
	c.obs.RefreshReuseDetected(svc.ID)
	return nil, Errorf(EGRANT, "the refresh token was already used; its grant has been revoked")
}

// ReasonRefreshReuse is the revocation reason of a grant whose retired
// refresh token was presented again.
const ReasonRefreshReuse = "refresh_token_reuse"

// ReasonCodeReuse is the revocation reason of tokens whose authorization
// code was presented a second time (RFC 6749 §4.1.2).
const ReasonCodeReuse = "authorization_code_reuse"

func (c *Core) redeemCode(ctx context.Context, svc *Service, cl *Client, req TokenRequest) (*IssuedToken, error) {
	if req.Code == "" {
		return nil, Invalid("code", "is required")
	}
	invalid := Errorf(EGRANT, "the authorization code is invalid, expired or already used")
	if !WellFormed(req.Code, KindAuthorizationCode, false) {
		return nil, invalid
	}
	now := c.Now()
	var issued *IssuedToken
	code, t, err := c.store.RedeemAuthorizationCode(ctx, HashSecret(req.Code), now, func(code *AuthorizationCode) (*Token, error) {
		if code.ServiceID != svc.ID || code.ClientID != cl.ID || !now.Before(code.ExpiresAt) {
			return nil, invalid
		}
		// RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
		if req.RedirectURI != code.RedirectURI {
			return nil, Errorf(EGRANT, "redirect_uri does not match the one the code was issued for")
		}
		if err := verifyPKCE(code, req.CodeVerifier); err != nil {
			return nil, err
		}
		var err error
		issued, err = c.prepare(svc, cl, TokenInput{
			GrantType: GrantAuthorizationCode, Subject: code.Subject, Scopes: code.Scopes,
			AccountID: code.AccountID, Roles: code.Roles, AuthTime: code.AuthTime, ACR: code.ACR,
			SessionID: code.SessionID, Resources: code.Resources, AuthorizationDetails: code.AuthorizationDetails,
		})
		if err != nil {
			return nil, err
		}
		return issued.Token, nil
	})
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil, invalid
	case ErrorCode(err) == ECONFLICT && code != nil:
		// A second use: whoever holds the code now, the tokens of the first
		// use may be in the wrong hands (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
		if code.TokenID != 0 && code.ServiceID == svc.ID {
			actx := auditDetail(c.audited(ctx, clientActor(cl), svc.ID, AuditCodeReuse, TargetToken, idString(code.TokenID)), code.Subject, ReasonCodeReuse)
			_, err := c.revoke(actx, RevokeFilter{ServiceID: svc.ID, TokenID: code.TokenID}, now, ReasonCodeReuse, GrantAuthorizationCode)
			c.tokens.changedToken(svc.ID, code.TokenID)
			if err != nil {
				return nil, err
			}
		}
		return nil, invalid
	case err != nil:
		return nil, err
	}
	issued.Token = t
	return issued, nil
}

// verifyPKCE checks RFC 7636 §4.6.
func verifyPKCE(code *AuthorizationCode, verifier string) error {
	if code.CodeChallenge == "" {
		if verifier != "" {
			return Errorf(EGRANT, "code_verifier was sent but the code has no code_challenge")
		}
		return nil
	}
	if verifier == "" {
		return Invalid("code_verifier", "is required: the code was issued with a code_challenge")
	}
	if !validPKCEValue(verifier) {
		return Invalid("code_verifier", "must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636)")
	}
	var got string
	switch code.CodeChallengeMethod {
	case "plain":
		got = verifier
	default:
		sum := sha256.Sum256([]byte(verifier))
		got = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(code.CodeChallenge)) != 1 {
		return Errorf(EGRANT, "code_verifier does not match the code_challenge")
	}
	return nil
}

func validPKCEValue(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return false
		}
	}
	return true
}

// Introspection is what RFC 7662 tells about a token.
type Introspection struct {
	Active    bool
	Token     *Token
	Client    *Client // nil if the client was deleted
	Refresh   bool    // the presented value is the record's refresh token
	ExpiresAt time.Time
}

// AuthorizeIntrospection checks a management key that wants to introspect
// tokens of service sid.
func (c *Core) AuthorizeIntrospection(p *Principal, sid int64) error {
	return p.authorize(sid, PermTokensIntrospect)
}

// introspect answers Introspect (observer.go), which counts it.
func (c *Core) introspect(ctx context.Context, svc *Service, raw, hint string) (*Introspection, error) {
	inactive := &Introspection{}
	t, refresh, err := c.findPresentedCached(ctx, svc.ID, raw, hint)
	if ErrorCode(err) == ENOTFOUND {
		return inactive, nil
	} else if err != nil {
		return nil, err
	}
	now := c.Now()
	if t.ServiceID != svc.ID {
		return inactive, nil
	}
	out := &Introspection{Token: t, Refresh: refresh}
	if refresh {
		out.Active, out.ExpiresAt = t.RefreshActive(now), t.RefreshExpiresAt
	} else {
		out.Active, out.ExpiresAt = t.AccessActive(now), t.AccessExpiresAt
	}
	if !out.Active {
		return inactive, nil
	}
	if cl, err := c.cachedClientByID(ctx, t.ClientID); err == nil {
		out.Client = cl
	} else if ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	return out, nil
}

// findPresentedCached is findPresented with the introspection cache in
// front of tokend-format access tokens, the values resource servers present.
func (c *Core) findPresentedCached(ctx context.Context, sid int64, raw, hint string) (*Token, bool, error) {
	if kind, ok := SecretKindOf(raw); !ok || kind != KindAccessToken || c.tokens == nil {
		return c.findPresented(ctx, raw, hint)
	}
	h := HashSecret(raw)
	if t, ok := c.tokens.get(h); ok {
		return t, false, nil
	}
	before := c.tokens.serviceGenerations(sid)
	t, err := c.store.GetTokenByAccessHash(ctx, h)
	if err != nil {
		return nil, false, err
	}
	if t.ServiceID == sid {
		c.tokens.put(t, before)
	}
	return t, false, nil
}

// findPresented finds the token record a presented value belongs to, trying
// the hinted kind first (RFC 7009 §2.1: the hint is only a hint).
func (c *Core) findPresented(ctx context.Context, raw, hint string) (*Token, bool, error) {
	kind, ok := SecretKindOf(raw)
	if !ok || raw == "" || len(raw) > maxSuppliedValue {
		return nil, false, NotFound("token")
	}
	h := HashSecret(raw)
	switch kind {
	case KindAccessToken:
		t, err := c.store.GetTokenByAccessHash(ctx, h)
		return t, false, err
	case KindRefreshToken:
		t, err := c.store.GetTokenByRefreshHash(ctx, h)
		return t, true, err
	case "":
		first, second := c.store.GetTokenByAccessHash, c.store.GetTokenByRefreshHash
		refreshFirst := hint == "refresh_token"
		if refreshFirst {
			first, second = second, first
		}
		t, err := first(ctx, h)
		if ErrorCode(err) == ENOTFOUND {
			t, err = second(ctx, h)
			return t, !refreshFirst, err
		}
		return t, refreshFirst, err
	default:
		return nil, false, NotFound("token")
	}
}

// RevokeByClient runs RFC 7009 revocation for an authenticated client.
// Unknown and already revoked tokens are not an error (§2.2); a token of
// another client is refused. A record holds an access token and its
// refresh token, so revoking either revokes both.
func (c *Core) RevokeByClient(ctx context.Context, svc *Service, cl *Client, raw, hint string) error {
	if raw == "" {
		return Invalid("token", "is required")
	}
	t, _, err := c.findPresented(ctx, raw, hint)
	if ErrorCode(err) == ENOTFOUND {
		t, err = c.retiredRecord(ctx, raw)
	}
	if ErrorCode(err) == ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if t.ServiceID != svc.ID {
		return nil // another tenant's token: as if unknown
	}
	if t.ClientID != cl.ID {
		return Errorf(EFORBIDDEN, "the token was not issued to this client")
	}
	ctx = auditDetail(c.audited(ctx, clientActor(cl), svc.ID, AuditTokenRevoke, TargetToken, idString(t.ID)), t.Subject, "revoked_by_client")
	_, err = c.revoke(ctx, RevokeFilter{ServiceID: svc.ID, TokenID: t.ID}, c.Now(), "revoked_by_client", t.GrantType)
	c.tokens.changedToken(svc.ID, t.ID)
	return err
}
