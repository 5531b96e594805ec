package kustvakt

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/httpx"
)

// tokenJSON is one entry of the token list. Kustvakt's service writes the
// scopes as "scope", its wiki as "scopes": both are sent. "token" is the
// hash of the value (tokend keeps no values), which the revocation routes
// accept in its place.
type tokenJSON struct {
	Token                  string   `json:"token"`
	CreatedDate            string   `json:"created_date"`
	ExpiresIn              int64    `json:"expires_in"` // seconds left; -1: never expires
	UserAuthenticationTime *string  `json:"user_authentication_time"`
	Scope                  []string `json:"scope"`
	Scopes                 []string `json:"scopes"`
	ClientID               string   `json:"client_id"`
	ClientName             string   `json:"client_name"`
	ClientDescription      string   `json:"client_description"`
	ClientURL              string   `json:"client_url"`
}

// tokenList is POST /api/v1.0/oauth2/token/list.
func (s *Server) tokenList(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r)
	if err != nil {
		return err
	}
	refresh, err := tokenType(f)
	if err != nil {
		return err
	}
	sess, err := s.session(r, f)
	if err != nil {
		return err
	}
	tokens, err := s.core.ListUserTokens(r.Context(), sess, refresh, f["client_id"])
	if err != nil {
		return err
	}
	svc, now := sess.Service(), s.core.Now()
	loc, zone := svc.Location(), svc.LocationName()
	out := make([]tokenJSON, len(tokens))
	for i, ut := range tokens {
		t := ut.Token
		scopes := t.Scopes
		if refresh {
			scopes = t.EffectiveRefreshScopes()
		}
		e := tokenJSON{
			Token:       ut.Hash.String(),
			CreatedDate: javaZoned(ut.IssuedAt, loc, zone),
			ExpiresIn:   -1,
			Scope:       nonNil(scopes),
			Scopes:      nonNil(scopes),
		}
		if !ut.ExpiresAt.IsZero() {
			e.ExpiresIn = int64(max(ut.ExpiresAt.Sub(now), 0) / time.Second)
		}
		if !t.AuthTime.IsZero() {
			at := javaZoned(t.AuthTime, loc, zone)
			e.UserAuthenticationTime = &at
		}
		if cl := ut.Client; cl != nil {
			e.ClientID, e.ClientName, e.ClientDescription, e.ClientURL = cl.ClientID, cl.Name, cl.Description, cl.URL
		}
		out[i] = e
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// revokeSuper is POST /api/v1.0/oauth2/revoke/super: one of the user's
// tokens, by value or by the hash the list shows.
func (s *Server) revokeSuper(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r)
	if err != nil {
		return err
	}
	if f["token"] == "" {
		return tokend.Invalid("token", "is required: the token's value, or the token as the list shows it")
	}
	sess, err := s.session(r, f)
	if err != nil {
		return err
	}
	if err := s.core.RevokeUserToken(r.Context(), sess, f["token"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// revokeSuperAll is POST /api/v1.0/oauth2/revoke/super/all: every token
// one client holds for the user.
func (s *Server) revokeSuperAll(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r)
	if err != nil {
		return err
	}
	if f["client_id"] == "" {
		return tokend.Invalid("client_id", "is required: the client whose tokens to revoke")
	}
	sess, err := s.session(r, f)
	if err != nil {
		return err
	}
	if _, err := s.core.RevokeUserClient(r.Context(), sess, f["client_id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// clientJSON is one entry of the client list.
type clientJSON struct {
	ClientID          string `json:"client_id"`
	ClientName        string `json:"client_name"`
	ClientType        string `json:"client_type"`
	ClientDescription string `json:"client_description"`
	ClientURL         string `json:"client_url"`
}

// clientList is POST /api/v1.0/oauth2/client/list with
// filter_by=authorized_only: the clients holding live tokens for the user.
func (s *Server) clientList(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r)
	if err != nil {
		return err
	}
	switch v := f["filter_by"]; v {
	case "authorized_only":
	case "":
		return tokend.Invalid("filter_by", "is required: authorized_only")
	default:
		return tokend.Invalid("filter_by", "must be authorized_only (tokend keeps no client owners, so owned_only has no answer), not %q", shorten(v))
	}
	sess, err := s.session(r, f)
	if err != nil {
		return err
	}
	grants, err := s.core.UserClients(r.Context(), sess)
	if err != nil {
		return err
	}
	out := make([]clientJSON, len(grants))
	for i, g := range grants {
		cl := g.Client
		out[i] = clientJSON{ClientID: cl.ClientID, ClientName: cl.Name, ClientType: string(cl.Type), ClientDescription: cl.Description, ClientURL: cl.URL}
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// revoke is POST /api/v1.0/oauth2/revoke, RFC 7009 style: a client
// revokes one of its own tokens, by value or by hash. The client
// authenticates with client_id and client_secret in the form, or with
// HTTP Basic (RFC 6749 §2.3.1), not both.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r)
	if err != nil {
		return err
	}
	cred, err := clientCredentials(r, f)
	if err != nil {
		return err
	}
	if f["token"] == "" {
		return tokend.Invalid("token", "is required")
	}
	key, actor := clientKey(cred.ClientID)
	if err := s.limits.Check(r, key); err != nil {
		return err
	}
	svc, cl, err := s.core.AuthenticateClientAnywhere(r.Context(), cred)
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
		s.failed(r, authlimit.Failure{Credential: key, Actor: actor})
	}
	if err != nil {
		return err
	}
	hint := f["token_type_hint"]
	if hint == "" {
		hint = f["token_type"] // Kustvakt's name for the hint
	}
	err = s.core.RevokeByClientValueOrHash(r.Context(), svc, cl, f["token"], hint)
	if tokend.ErrorCode(err) == tokend.EFORBIDDEN {
		// Authenticated, but the token is another client's: a refused
		// request, not a failed authentication.
		return &kvError{status: http.StatusBadRequest, code: "unauthorized_client", domain: err}
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// clientCredentials reads a client's credentials from the form or from
// HTTP Basic.
func clientCredentials(r *http.Request, f form) (tokend.ClientCredentials, error) {
	headers := r.Header.Values("Authorization")
	if len(headers) == 0 {
		return tokend.ClientCredentials{ClientID: f["client_id"], Secret: f["client_secret"]}, nil
	}
	if len(headers) > 1 {
		return tokend.ClientCredentials{}, tokend.Invalid("Authorization", "header appears more than once")
	}
	if _, ok := f["client_secret"]; ok {
		return tokend.ClientCredentials{}, tokend.Invalid("client_secret", "must not be sent together with an Authorization header: use one client authentication method")
	}
	scheme, rest, _ := strings.Cut(headers[0], " ")
	bad := tokend.Errorf(tokend.EUNAUTHORIZED, "malformed HTTP Basic client credentials (base64 of form-url-encoded client_id:client_secret)")
	if !strings.EqualFold(scheme, "Basic") {
		return tokend.ClientCredentials{}, tokend.Errorf(tokend.EUNAUTHORIZED, "unsupported Authorization scheme: use Basic with the client's credentials")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return tokend.ClientCredentials{}, bad
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	id, err1 := url.QueryUnescape(user)
	secret, err2 := url.QueryUnescape(pass)
	if !ok || err1 != nil || err2 != nil || id == "" {
		return tokend.ClientCredentials{}, bad
	}
	if v, ok := f["client_id"]; ok && v != id {
		return tokend.ClientCredentials{}, tokend.Invalid("client_id", "differs from the client_id of the HTTP Basic credentials")
	}
	return tokend.ClientCredentials{ClientID: id, Secret: secret}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
