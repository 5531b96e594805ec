package tokend

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"slices"
)

// Checking an access token for a resource server that asks tokend whether to
// serve a request (Authlete's /auth/introspection): unlike RFC 7662, the
// answer tells why a token is refused, because the caller is the resource
// server's own back end, authenticated with a management key, and it must
// choose between 401 and 403 and write the WWW-Authenticate challenge.

// AccessCheck is a resource server's question about an access token.
type AccessCheck struct {
	Token       string
	Scopes      []string // each must be granted; none: no scope required
	Subject     string   // the token must act for this subject; "": any
	Certificate []byte   // the DER client certificate of the request (RFC 8705); nil: none
}

// AccessProblem is why a token may not be used as asked.
type AccessProblem string

const (
	AccessOK          AccessProblem = ""
	AccessMissing     AccessProblem = "missing"     // no token was given
	AccessUnknown     AccessProblem = "unknown"     // no such access token: never issued, revoked, deleted or another service's
	AccessExpired     AccessProblem = "expired"     // the access token has expired
	AccessCertificate AccessProblem = "certificate" // bound to a client certificate the request did not present
	AccessDPoP        AccessProblem = "dpop"        // bound to a DPoP key; tokend does not check DPoP proofs here
	AccessScope       AccessProblem = "scope"       // a required scope was not granted
	AccessSubject     AccessProblem = "subject"     // the token acts for another subject
)

// AccessCheckResult is the answer. Token and Client are set when the token
// exists (Client stays nil if its client was deleted).
type AccessCheckResult struct {
	Problem     AccessProblem
	Token       *Token
	Client      *Client
	Existent    bool // the access token exists and is not revoked
	Usable      bool // ... and has not expired, and its binding holds
	Sufficient  bool // ... and carries every scope asked for
	Refreshable bool // its refresh token can still be used
}

// CertificateThumbprint is RFC 8705's x5t#S256 of a DER certificate.
func CertificateThumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// checkAccessToken answers CheckAccessToken (observer.go), which counts it.
func (c *Core) checkAccessToken(ctx context.Context, p *Principal, sid int64, q AccessCheck) (*AccessCheckResult, error) {
	if err := p.authorize(sid, PermTokensIntrospect); err != nil {
		return nil, err
	}
	if _, err := c.cachedService(ctx, sid); err != nil {
		return nil, err
	}
	required, err := normScopes("scopes", q.Scopes)
	if err != nil {
		return nil, err
	}
	if q.Subject != "" {
		if err := validSubject("subject", q.Subject); err != nil {
			return nil, err
		}
	}
	out := &AccessCheckResult{}
	if q.Token == "" {
		out.Problem = AccessMissing
		return out, nil
	}
	t, refresh, err := c.findPresentedCached(ctx, sid, q.Token, "access_token")
	switch {
	case ErrorCode(err) == ENOTFOUND:
		out.Problem = AccessUnknown
		return out, nil
	case err != nil:
		return nil, err
	case refresh || t.ServiceID != sid || !t.RevokedAt.IsZero():
		out.Problem = AccessUnknown
		return out, nil
	}
	now := c.Now()
	out.Token, out.Existent, out.Refreshable = t, true, t.RefreshActive(now)
	if cl, err := c.cachedClientByID(ctx, t.ClientID); err == nil {
		out.Client = cl
	} else if ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	out.Sufficient = !slices.ContainsFunc(required, func(s string) bool { return !slices.Contains(t.Scopes, s) })
	switch {
	case !t.AccessActive(now):
		out.Problem = AccessExpired
	case t.CertThumbprint != "" && (q.Certificate == nil || CertificateThumbprint(q.Certificate) != t.CertThumbprint):
		out.Problem = AccessCertificate
	case t.DPoPThumbprint != "":
		out.Problem = AccessDPoP
	case !out.Sufficient:
		out.Usable, out.Problem = true, AccessScope
	case q.Subject != "" && q.Subject != t.Subject:
		out.Usable, out.Problem = true, AccessSubject
	default:
		out.Usable = true
	}
	return out, nil
}
