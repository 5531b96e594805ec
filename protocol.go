package tokend

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The OAuth 2.0 vocabulary that every surface speaking the protocol shares:
// the oauth endpoints, and dialects whose protocol helpers hand an RFC 6749
// or RFC 7662 body to an authorization server front end (Authlete's
// /auth/token and /auth/introspection/standard). Kept here so that the
// rules (which error code, which token type, which claims a property may
// not shadow) are written once.

// OAuthErrorCode returns the RFC 6749 §5.2 error code for a domain error:
// EUNAUTHORIZED → invalid_client, EGRANT → invalid_grant, EFORBIDDEN →
// unauthorized_client, EUNSUPPORTED → unsupported_grant_type, EINVALID on
// the field "scope" → invalid_scope, other EINVALID → invalid_request. It
// returns "" for anything else (a missing service, an unavailable store, an
// internal failure): those are not the client's fault and each surface
// answers them in its own way.
func OAuthErrorCode(err error) string {
	switch ErrorCode(err) {
	case EUNAUTHORIZED:
		return "invalid_client"
	case EGRANT:
		return "invalid_grant"
	case EFORBIDDEN:
		return "unauthorized_client"
	case EUNSUPPORTED:
		return "unsupported_grant_type"
	case EINVALID:
		if ErrorField(err) == "scope" {
			return "invalid_scope"
		}
		return "invalid_request"
	}
	return ""
}

// TokenType is the RFC 6749 §7.1 type of the token's access token: a
// DPoP-bound token must be sent with a DPoP proof (RFC 9449 §5), anything
// else is a bearer token.
func (t *Token) TokenType() string {
	if t.DPoPThumbprint != "" {
		return "DPoP"
	}
	return "Bearer"
}

// OAuthTokenResponse is RFC 6749 §5.1's successful token response.
type OAuthTokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    *int64 `json:"expires_in,omitempty"` // absent for a token that never expires
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// TokenResponse renders what the token endpoint answers for issued.
func (c *Core) TokenResponse(issued *IssuedToken) OAuthTokenResponse {
	t := issued.Token
	resp := OAuthTokenResponse{
		AccessToken:  issued.AccessToken,
		TokenType:    t.TokenType(),
		RefreshToken: issued.RefreshToken,
		Scope:        strings.Join(t.Scopes, " "),
	}
	if !t.Persistent {
		secs := int64(max(t.AccessExpiresAt.Sub(c.Now()), 0) / time.Second)
		resp.ExpiresIn = &secs
	}
	return resp
}

// reservedClaims are the members an introspection response defines (RFC
// 7662 §2.2, the JWT claims it borrows, and tokend's own). A token property
// of the same name is left out rather than allowed to shadow them: a
// resource server must be able to trust "scope" or "sub".
var reservedClaims = map[string]bool{
	"active": true, "scope": true, "client_id": true, "username": true, "token_type": true,
	"exp": true, "iat": true, "nbf": true, "sub": true, "aud": true, "iss": true, "jti": true,
	"cnf": true, "account_id": true, "roles": true, "auth_time": true, "acr": true, "sid": true,
	"authorization_details": true, "act": true, "may_act": true, "client": true,
	"error": true, "error_description": true,
}

// introspectionJSON is RFC 7662 §2.2's answer for an active token. A struct
// rather than a map: this is the resource servers' hot path.
type introspectionJSON struct {
	Active               bool            `json:"active"`
	Scope                string          `json:"scope"`
	ClientID             string          `json:"client_id,omitempty"`
	Sub                  string          `json:"sub,omitempty"`
	Username             string          `json:"username,omitempty"`
	TokenType            string          `json:"token_type"`
	Exp                  int64           `json:"exp,omitempty"`
	Iat                  int64           `json:"iat"`
	Nbf                  int64           `json:"nbf"`
	Aud                  []string        `json:"aud,omitempty"`
	Iss                  string          `json:"iss"`
	Jti                  string          `json:"jti"`
	Cnf                  *confirmation   `json:"cnf,omitempty"`
	AccountID            string          `json:"account_id,omitempty"`
	Roles                []string        `json:"roles,omitempty"`
	AuthTime             int64           `json:"auth_time,omitempty"`
	ACR                  string          `json:"acr,omitempty"`
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

// confirmation is RFC 7800's cnf: the key the token is bound to.
type confirmation struct {
	X5tS256 string `json:"x5t#S256,omitempty"`
	JKT     string `json:"jkt,omitempty"`
}

// inactiveIntrospection is the whole answer for anything but an active
// token: the endpoint must not tell why.
var inactiveIntrospection = json.RawMessage(`{"active":false}`)

// IntrospectionResponse renders RFC 7662 §2.2's answer (a value that
// encodes to the JSON object). A token's properties become top-level
// members, except those named like a standard member and, unless
// withHidden, the hidden ones: hidden properties are for the service, not
// for the parties its tokens are shown to.
func (c *Core) IntrospectionResponse(svc *Service, in *Introspection, withHidden bool) any {
	if !in.Active || in.Token == nil {
		return inactiveIntrospection
	}
	t := in.Token
	iat := issuedAt(svc, t, in.Refresh).Unix()
	out := &introspectionJSON{
		Active: true, Scope: strings.Join(t.Scopes, " "), TokenType: t.TokenType(),
		Iat: iat, Nbf: iat, Aud: t.Resources, Iss: c.IssuerOf(svc), Jti: strconv.FormatInt(t.ID, 10),
		AccountID: t.AccountID, Roles: t.Roles, ACR: t.ACR, AuthorizationDetails: t.AuthorizationDetails,
	}
	if in.Client != nil {
		out.ClientID = in.Client.ClientID
	}
	if t.Subject != "" {
		out.Sub, out.Username = t.Subject, t.Subject
	}
	if in.Refresh {
		out.TokenType = "refresh_token"
	}
	if !in.ExpiresAt.IsZero() {
		out.Exp = in.ExpiresAt.Unix()
	}
	if t.CertThumbprint != "" || t.DPoPThumbprint != "" {
		out.Cnf = &confirmation{X5tS256: t.CertThumbprint, JKT: t.DPoPThumbprint}
	}
	if !t.AuthTime.IsZero() {
		out.AuthTime = t.AuthTime.Unix()
	}
	return withProperties(out, t.Properties, withHidden)
}

// withProperties adds a token's properties as top-level members; one named
// like a standard member is left out, so it can never shadow it.
func withProperties(out *introspectionJSON, props []Property, withHidden bool) any {
	var extra map[string]string // most tokens have none: no map then
	for _, p := range props {
		if (withHidden || !p.Hidden) && !reservedClaims[p.Key] {
			if extra == nil {
				extra = make(map[string]string, len(props))
			}
			extra[p.Key] = p.Value
		}
	}
	if len(extra) == 0 {
		return out
	}
	base, err1 := json.Marshal(out)
	more, err2 := json.Marshal(extra)
	if err1 != nil || err2 != nil {
		return out
	}
	return json.RawMessage(append(append(base[:len(base)-1], ','), more[1:]...))
}

// issuedAt is when the presented value was minted: a refresh mints a new
// access token (and, under rotation, a new refresh token) in the same
// record, so the record's creation time is only right until then.
func issuedAt(svc *Service, t *Token, refresh bool) time.Time {
	if t.LastRefreshedAt.IsZero() || (refresh && !svc.RefreshPolicy.Rotate) {
		return t.CreatedAt
	}
	return t.LastRefreshedAt
}

// WireGrant returns the grant type an RFC 6749 grant_type value names, for
// the grants tokend's token endpoint serves.
func WireGrant(grantType string) (GrantType, bool) {
	g, ok := wireGrants[grantType]
	return g, ok
}

// OAuthParameters reads an application/x-www-form-urlencoded OAuth request
// body: each parameter at most once (RFC 6749 §3.1 and §3.2: which copy
// would we believe?), and one sent without a value treated as omitted. The
// error's field is "body", not the parameter, so that a repeated scope is
// invalid_request rather than invalid_scope. Unknown parameters are kept,
// for the caller to ignore.
func OAuthParameters(encoded string) (map[string]string, error) {
	values, err := url.ParseQuery(encoded)
	if err != nil {
		return nil, Invalid("body", "is not valid form encoding")
	}
	out := make(map[string]string, len(values))
	for name, vs := range values {
		if len(vs) > 1 {
			return nil, Invalid("body", "parameter %.40q is given more than once", name)
		}
		if vs[0] != "" {
			out[name] = vs[0]
		}
	}
	return out, nil
}
