package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend"
)

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

// introspect is RFC 7662 token introspection. The caller is a confidential
// client of the service (a resource server registered as a client) or
// holds a management key with tokens.introspect.
//
// Every 401 here carries a challenge, as HTTP requires: the callers are
// servers, so the browser prompt that keeps the token endpoint from
// challenging credential-less requests is no concern.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) error {
	err := s.introspectToken(w, r)
	var oe *oauthError
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED && !errors.As(err, &oe) {
		return &oauthError{
			status: http.StatusUnauthorized, code: "invalid_client", desc: tokend.ErrorMessage(err),
			challenge: `Basic realm="tokend"`, domain: tokend.Errorf(tokend.EUNAUTHORIZED, "client authentication failed"),
		}
	}
	return err
}

func (s *Server) introspectToken(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	sid, err := pathSID(r)
	if err != nil {
		return err
	}
	f, err := readForm(w, r)
	if err != nil {
		return err
	}
	c, err := s.callerOf(r, sid, f, true)
	if err != nil {
		return err
	}
	var svc *tokend.Service
	switch c.method {
	case "":
		return &oauthError{
			status: http.StatusUnauthorized, code: "invalid_client",
			desc:      "authentication is required: client credentials of this service, or Authorization: Bearer <management key>",
			challenge: `Basic realm="tokend", Bearer realm="tokend"`,
			domain:    tokend.Errorf(tokend.EUNAUTHORIZED, "no credentials"),
		}
	case methodBearer:
		if svc, err = s.authorizeKey(r, sid, c); err != nil {
			return err
		}
	default:
		var cl *tokend.Client
		if svc, cl, err = s.authenticate(r, sid, c); err != nil {
			return err
		}
		// A public client proves nothing by naming its client_id, and an
		// introspection answer tells about other clients' tokens.
		if cl.Type != tokend.ClientConfidential {
			return tokend.Errorf(tokend.EUNAUTHORIZED, "a PUBLIC client cannot introspect tokens")
		}
	}
	raw := f["token"]
	if raw == "" {
		return tokend.Invalid("token", "is required")
	}
	in, err := s.core.Introspect(r.Context(), svc, raw, f["token_type_hint"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.introspection(svc, in))
	return nil
}

// authorizeKey checks a management key at the introspection endpoint. An
// invalid key is RFC 6750's invalid_token (401); a valid key that may not
// introspect this service's tokens is insufficient_scope (403), so that an
// operator can tell a wrong key from a key lacking tokens.introspect.
func (s *Server) authorizeKey(r *http.Request, sid int64, c caller) (*tokend.Service, error) {
	if err := s.limited(r, sid, c); err != nil {
		return nil, err
	}
	svc, err := s.core.CachedService(r.Context(), sid)
	if err != nil {
		return nil, err
	}
	p, err := s.core.AuthenticateKey(r.Context(), c.key)
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
		s.failed(r, sid, c)
		return nil, &oauthError{
			status: http.StatusUnauthorized, code: "invalid_token", desc: tokend.ErrorMessage(err),
			challenge: `Bearer realm="tokend", error="invalid_token"`, domain: tokend.Errorf(tokend.EUNAUTHORIZED, "invalid key"),
		}
	} else if err != nil {
		return nil, err
	}
	switch err := s.core.AuthorizeIntrospection(p, sid); tokend.ErrorCode(err) {
	case "":
		return svc, nil
	case tokend.EFORBIDDEN, tokend.ENOTFOUND: // ENOTFOUND: a key of another service
		// RFC 7662 §2.3: a bearer token without sufficient privileges
		// for introspection is answered 401 as in RFC 6750 §3, with the
		// error code that says why.
		return nil, &oauthError{
			status: http.StatusUnauthorized, code: "insufficient_scope",
			desc:      "this key may not introspect tokens of this service (it needs the tokens.introspect permission)",
			challenge: `Bearer realm="tokend", error="insufficient_scope"`, domain: tokend.Errorf(tokend.EFORBIDDEN, "key lacks permission"),
		}
	default:
		return nil, err
	}
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

// inactive is the whole answer for anything but an active token: the
// endpoint must not tell why.
var inactive = json.RawMessage(`{"active":false}`)

// introspection renders RFC 7662 §2.2.
func (s *Server) introspection(svc *tokend.Service, in *tokend.Introspection) any {
	if !in.Active || in.Token == nil {
		return inactive
	}
	t := in.Token
	iat := issuedAt(svc, t, in.Refresh).Unix()
	out := &introspectionJSON{
		Active: true, Scope: strings.Join(t.Scopes, " "), TokenType: tokenType(t),
		Iat: iat, Nbf: iat, Aud: t.Resources, Iss: s.core.IssuerOf(svc), Jti: strconv.FormatInt(t.ID, 10),
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
	return withProperties(out, t.Properties)
}

// withProperties adds a token's visible properties as top-level members;
// one named like a standard member is left out, so it can never shadow it.
func withProperties(out *introspectionJSON, props []tokend.Property) any {
	extra := map[string]string{}
	for _, p := range props {
		if !p.Hidden && !reservedClaims[p.Key] {
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
func issuedAt(svc *tokend.Service, t *tokend.Token, refresh bool) time.Time {
	if t.LastRefreshedAt.IsZero() || (refresh && !svc.RefreshPolicy.Rotate) {
		return t.CreatedAt
	}
	return t.LastRefreshedAt
}
