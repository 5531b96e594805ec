package tokend

import (
	"context"
	"slices"
)

// Credentials of the dialects (Passport, Kustvakt). Their routes name no
// service: the service is the one the caller's credential belongs to, so
// these functions find it from the credential.

// AuthenticateBearer resolves an OAuth access token that a caller presents
// as its bearer credential to one of tokend's own APIs. The token must be a
// live access token (not a refresh token) of service sid, or of any service
// when sid is 0, and carry scope unless scope is "". A token bound to a
// DPoP key or a certificate is refused: a bare bearer request cannot prove
// possession of the key.
//
// Every refusal is EUNAUTHORIZED with a message saying why; a missing scope
// has Field "scope", so that adapters can answer RFC 6750's
// insufficient_scope.
func (c *Core) AuthenticateBearer(ctx context.Context, sid int64, raw, scope string) (*Service, *Token, error) {
	t, err := c.accessTokenOf(ctx, raw)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, errInvalidAccessToken()
	} else if err != nil {
		return nil, nil, err
	}
	svc, err := c.checkBearer(ctx, sid, t, scope)
	return svc, t, err
}

func errInvalidAccessToken() error { return Errorf(EUNAUTHORIZED, "invalid access token") }

// accessTokenOf finds the token record whose access token is raw:
// EUNAUTHORIZED when raw is empty, ENOTFOUND when no record has it.
func (c *Core) accessTokenOf(ctx context.Context, raw string) (*Token, error) {
	if raw == "" {
		return nil, Errorf(EUNAUTHORIZED, "missing access token: send Authorization: Bearer <access token>")
	}
	if !WellFormed(raw, KindAccessToken, true) || len(raw) > maxSuppliedValue {
		return nil, NotFound("token") // mistyped, or another kind of secret: no store query
	}
	return c.store.GetTokenByAccessHash(ctx, HashSecret(raw))
}

// checkBearer applies AuthenticateBearer's rules to the record found.
func (c *Core) checkBearer(ctx context.Context, sid int64, t *Token, scope string) (*Service, error) {
	if sid != 0 && t.ServiceID != sid {
		return nil, errInvalidAccessToken() // another tenant's token: as if unknown
	}
	switch now := c.Now(); {
	case !t.RevokedAt.IsZero():
		return nil, Errorf(EUNAUTHORIZED, "the access token has been revoked")
	case !t.AccessActive(now):
		return nil, Errorf(EUNAUTHORIZED, "the access token has expired")
	}
	if t.DPoPThumbprint != "" || t.CertThumbprint != "" {
		return nil, Errorf(EUNAUTHORIZED, "the access token is bound to a key (DPoP or certificate) and cannot be used as a bearer token")
	}
	if scope != "" && !slices.Contains(t.Scopes, scope) {
		return nil, &Error{Code: EUNAUTHORIZED, Field: "scope", Message: "the access token lacks the scope " + quoteShort(scope)}
	}
	return c.cachedService(ctx, t.ServiceID)
}

// AuthenticateScoped resolves the credential of a route that either an
// OAuth access token carrying scope or a management key holding perm may
// call, and returns the principal and the service it acts in:
//
//   - an access token acts in its own service with perm and nothing more;
//   - a key must belong to one service (EFORBIDDEN for an organization key,
//     which reaches every service and so names none) and hold perm
//     (EFORBIDDEN otherwise).
//
// A value with a tokend prefix is tried as what the prefix says; one
// without (a migrated token, a caller-chosen bootstrap key) as an access
// token first, then as a key.
func (c *Core) AuthenticateScoped(ctx context.Context, raw, scope string, perm Permission) (*Principal, int64, error) {
	if kind, _ := SecretKindOf(raw); kind != KindManagementKey {
		t, err := c.accessTokenOf(ctx, raw)
		switch {
		case err == nil:
			svc, err := c.checkBearer(ctx, 0, t, scope)
			if err != nil {
				return nil, 0, err
			}
			return &Principal{ServiceID: svc.ID, ClientID: t.ClientID, Permissions: []Permission{perm}}, svc.ID, nil
		case ErrorCode(err) != ENOTFOUND:
			return nil, 0, err
		case kind != "":
			return nil, 0, errInvalidAccessToken()
		}
		// No access token has this foreign value; is it a key?
		if _, err := c.store.GetKeyByHash(ctx, HashSecret(raw)); ErrorCode(err) == ENOTFOUND {
			return nil, 0, Errorf(EUNAUTHORIZED, "invalid access token or management key")
		} else if err != nil {
			return nil, 0, err
		}
	}
	p, err := c.AuthenticateKey(ctx, raw)
	if err != nil {
		return nil, 0, err
	}
	if p.ServiceID == 0 {
		return nil, 0, Errorf(EFORBIDDEN, "an organization key reaches every service and so names none: use a key of one service, or an access token")
	}
	if !p.Can(perm) {
		return nil, 0, Errorf(EFORBIDDEN, "this key lacks the %q permission", perm)
	}
	return p, p.ServiceID, nil
}

// AuthenticateClientAnywhere authenticates a client named by its client_id
// alone, in whichever service has it. A client_id is unique within a
// service only; when several services have it, the secret decides (secrets
// are random, so at most one matches), and a public client, which has no
// secret, cannot be told apart and is refused. The answers are those of
// AuthenticateClient: one EUNAUTHORIZED for every failure.
func (c *Core) AuthenticateClientAnywhere(ctx context.Context, cred ClientCredentials) (*Service, *Client, error) {
	bad := Errorf(EUNAUTHORIZED, "client authentication failed")
	if cred.ClientID == "" {
		return nil, nil, Errorf(EUNAUTHORIZED, "client authentication is required")
	}
	if len(cred.ClientID) > MaxNameLen || (cred.Secret != "" && !WellFormed(cred.Secret, KindClientSecret, false)) {
		return nil, nil, bad // no such client_id can exist, or a mistyped secret: no store query
	}
	candidates, err := c.store.ClientsByClientID(ctx, cred.ClientID)
	if err != nil {
		return nil, nil, err
	}
	if len(candidates) > 1 && cred.Secret == "" {
		return nil, nil, bad
	}
	for _, cand := range candidates {
		svc, cl, err := c.AuthenticateClient(ctx, cand.ServiceID, cred)
		if ErrorCode(err) == EUNAUTHORIZED {
			continue
		}
		return svc, cl, err
	}
	return nil, nil, bad
}
