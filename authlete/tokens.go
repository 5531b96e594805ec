package authlete

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
)

// Token management: /auth/token/get/list, create, update, delete, revoke.

// rangeOf reads Authlete's start (inclusive, default 0) and end (exclusive,
// default 5) parameters.
func rangeOf(startParam, endParam string, given map[string]string) (start, end int, err error) {
	start, end = 0, 5
	for _, p := range []struct {
		name string
		dst  *int
	}{{startParam, &start}, {endParam, &end}} {
		v, ok := given[p.name]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, tokend.Invalid(p.name, "must be a whole number, 0 or more")
		}
		*p.dst = n
	}
	if end < start {
		return 0, 0, tokend.Invalid(endParam, "must not be less than start")
	}
	if end-start > tokend.MaxPageSize {
		return 0, 0, tokend.Invalid(endParam, "end - start must be at most %d", tokend.MaxPageSize)
	}
	return start, end, nil
}

// tokenStatuses reads tokenStatus. Authlete removes a token when it is
// revoked, so its statuses never include revoked tokens.
var tokenStatuses = map[string]tokend.TokenStatus{
	"VALID":   tokend.StatusActive,
	"INVALID": tokend.StatusExpired,
	"ALL":     tokend.StatusNotRevoked,
}

type tokenListResponse struct {
	resultBody
	Start        int            `json:"start"`
	End          int            `json:"end"`
	TotalCount   int            `json:"totalCount"`
	Client       *clientSummary `json:"client,omitempty"`
	Subject      string         `json:"subject,omitempty"`
	AccessTokens []accessToken  `json:"accessTokens"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	q, _ := httpx.Query(r, "clientIdentifier", "subject", "start", "end", "tokenStatus")
	for _, name := range []string{"clientIdentifier", "subject", "tokenStatus"} {
		// Empty would read as unset and widen the list the caller meant to narrow.
		if v, ok := q[name]; ok && v == "" {
			return tokend.Invalid(name, "must not be empty")
		}
	}
	start, end, err := rangeOf("start", "end", q)
	if err != nil {
		return err
	}
	query := tokend.TokenQuery{Status: tokend.StatusNotRevoked, Offset: start, PageSize: max(end-start, 1)}
	if v, ok := q["tokenStatus"]; ok {
		st, known := tokenStatuses[v]
		if !known {
			return tokend.Invalid("tokenStatus", "must be VALID, INVALID or ALL, not %.40q", v)
		}
		query.Status = st
	}
	out := tokenListResponse{Start: start}
	if v, ok := q["subject"]; ok {
		query.Subject, out.Subject = &v, v
	}
	if v, ok := q["clientIdentifier"]; ok {
		// The summary comes from the same permission as the list: a key
		// that may read a client's tokens may see which client they are.
		cl, err := s.core.TokenClient(r.Context(), p, sid, v)
		if err != nil {
			return err
		}
		id := strconv.FormatInt(cl.ID, 10)
		query.Client, out.Client = &id, summary(cl)
	}
	list, err := s.core.ListTokens(r.Context(), p, sid, query)
	if err != nil {
		return err
	}
	toks := list.Tokens
	if end == start {
		toks = nil // a range of none still tells the total
	}
	out.AccessTokens = make([]accessToken, len(toks))
	for i, t := range toks {
		out.AccessTokens[i] = accessTokenOf(t)
	}
	out.End, out.TotalCount = start+len(toks), list.TotalCount
	out.resultBody = ok(apiTokenList, "%d of %d tokens listed", len(toks), list.TotalCount)
	return httpx.WriteJSON(w, http.StatusOK, out)
}

type tokenCreateResponse struct {
	resultBody
	AccessToken          string            `json:"accessToken,omitempty"`
	RefreshToken         string            `json:"refreshToken,omitempty"`
	ClientID             int64             `json:"clientId"`
	ClientIdentifier     string            `json:"clientIdentifier,omitempty"`
	ExpiresAt            int64             `json:"expiresAt"`
	ExpiresIn            int64             `json:"expiresIn"`
	GrantType            tokend.GrantType  `json:"grantType"`
	Subject              string            `json:"subject,omitempty"`
	Scopes               []string          `json:"scopes"`
	RefreshTokenScopes   []string          `json:"refreshTokenScopes,omitempty"`
	Properties           []tokend.Property `json:"properties,omitempty"`
	TokenType            string            `json:"tokenType"`
	AuthorizationDetails *authzDetails     `json:"authorizationDetails,omitempty"`
	TokenID              string            `json:"tokenId"`
	SessionID            string            `json:"sessionId,omitempty"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	var req tokenCreateRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	issued, err := s.core.CreateToken(r.Context(), p, sid, in)
	if err != nil {
		return err
	}
	t := issued.Token
	out := tokenCreateResponse{
		// A value the caller brought is theirs already; echoing it, as
		// Authlete does, shows nothing new.
		AccessToken: orElse(issued.AccessToken, req.AccessToken), RefreshToken: orElse(issued.RefreshToken, req.RefreshToken),
		ClientID: t.ClientID, ClientIdentifier: req.ClientIdentifier, GrantType: t.GrantType, Subject: t.Subject,
		Scopes: nonNil(t.Scopes), Properties: t.Properties, TokenType: t.TokenType(),
		AuthorizationDetails: authzFromCore(t.AuthorizationDetails), TokenID: strconv.FormatInt(t.ID, 10), SessionID: t.SessionID,
	}
	if !t.Persistent {
		out.ExpiresAt = millis(t.AccessExpiresAt)
		out.ExpiresIn = int64(t.AccessExpiresAt.Sub(t.CreatedAt) / time.Second)
	}
	if t.HasRefresh() {
		out.RefreshTokenScopes = nonNil(t.EffectiveRefreshScopes())
	}
	out.resultBody = ok(apiTokenCreate, "created token %d", t.ID)
	out.Action = "OK"
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tokenUpdateRequest is Authlete's TokenUpdateRequest.
type tokenUpdateRequest struct {
	AccessToken                               string             `json:"accessToken"`
	AccessTokenHash                           string             `json:"accessTokenHash"`
	AccessTokenExpiresAt                      int64              `json:"accessTokenExpiresAt"`
	RefreshTokenExpiresAt                     int64              `json:"refreshTokenExpiresAt"`
	Scopes                                    []string           `json:"scopes"`
	Properties                                *[]tokend.Property `json:"properties"`
	AccessTokenPersistent                     bool               `json:"accessTokenPersistent"`
	AccessTokenValueUpdated                   bool               `json:"accessTokenValueUpdated"`
	AccessTokenExpiresAtUpdatedOnScopeUpdate  bool               `json:"accessTokenExpiresAtUpdatedOnScopeUpdate"`
	RefreshTokenExpiresAtUpdatedOnScopeUpdate bool               `json:"refreshTokenExpiresAtUpdatedOnScopeUpdate"`
	CertificateThumbprint                     string             `json:"certificateThumbprint"`
	DPoPKeyThumbprint                         string             `json:"dpopKeyThumbprint"`
	AuthorizationDetails                      *authzDetails      `json:"authorizationDetails"`
	ForExternalAttachment                     bool               `json:"forExternalAttachment"`
	TokenID                                   string             `json:"tokenId"`
}

type tokenUpdateResponse struct {
	resultBody
	AccessToken           string            `json:"accessToken,omitempty"`
	AccessTokenExpiresAt  int64             `json:"accessTokenExpiresAt"`
	RefreshTokenExpiresAt int64             `json:"refreshTokenExpiresAt"`
	Scopes                []string          `json:"scopes"`
	Properties            []tokend.Property `json:"properties,omitempty"`
	AuthorizationDetails  *authzDetails     `json:"authorizationDetails,omitempty"`
	TokenType             string            `json:"tokenType"`
	TokenID               string            `json:"tokenId"`
}

// updateToken reads Authlete's fields as Authlete does: accessToken before
// accessTokenHash; expiry times in milliseconds, 0 or less for unchanged;
// scopes and properties null for unchanged; accessTokenPersistent true
// makes the token persistent (and accessTokenExpiresAt is then ignored),
// while a new accessTokenExpiresAt makes a persistent token expire; the
// thumbprints unchanged when empty. The two ...UpdatedOnScopeUpdate flags
// take the new expiry from scope attributes, which tokend's scopes do not
// have, so they change nothing here, as in Authlete for such scopes.
func (s *Server) updateToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	var req tokenUpdateRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.ForExternalAttachment {
		return unsupported("forExternalAttachment", "tokend has no OpenID Connect for Identity Assurance")
	}
	id := tokend.TokenIdentifier{Value: req.AccessToken, Match: tokend.MatchValue, SkipRevoked: true}
	if req.AccessToken == "" {
		if req.AccessTokenHash == "" {
			return tokend.Invalid("accessToken", "is required (or accessTokenHash)")
		}
		id = tokend.TokenIdentifier{Value: req.AccessTokenHash, Match: tokend.MatchHash, SkipRevoked: true}
	}
	tok, err := s.core.ResolveToken(r.Context(), p, sid, id, tokend.PermTokensWrite)
	if err != nil {
		return err
	}
	if req.TokenID != "" && req.TokenID != strconv.FormatInt(tok.ID, 10) {
		return unsupported("tokenId", "token ids are assigned by tokend; this one is "+strconv.FormatInt(tok.ID, 10))
	}
	var u tokend.TokenUpdate
	if req.Scopes != nil {
		u.Scopes = &req.Scopes
	}
	u.Properties = req.Properties
	switch {
	case req.AccessTokenPersistent:
		u.Persistent = ptr(true)
	case req.AccessTokenExpiresAt > 0:
		u.Persistent, u.AccessExpiresAt = ptr(false), ptr(time.UnixMilli(req.AccessTokenExpiresAt))
	}
	if req.RefreshTokenExpiresAt > 0 {
		u.RefreshExpiresAt = ptr(time.UnixMilli(req.RefreshTokenExpiresAt))
	}
	if req.CertificateThumbprint != "" {
		u.CertThumbprint = &req.CertificateThumbprint
	}
	if req.DPoPKeyThumbprint != "" {
		u.DPoPThumbprint = &req.DPoPKeyThumbprint
	}
	if req.AuthorizationDetails != nil {
		details, err := req.AuthorizationDetails.rfc9396()
		if err != nil {
			return err
		}
		u.AuthorizationDetails = &details
	}
	u.NewAccessToken = req.AccessTokenValueUpdated
	issued, err := s.core.UpdateToken(r.Context(), p, sid, tok.ID, u)
	if tokend.ErrorCode(err) == tokend.ECONFLICT {
		return tokend.NotFound("token") // revoked meanwhile: gone, in Authlete's terms
	} else if err != nil {
		return err
	}
	t := issued.Token
	out := tokenUpdateResponse{
		AccessToken: orElse(issued.AccessToken, req.AccessToken), AccessTokenExpiresAt: millis(t.AccessExpiresAt),
		RefreshTokenExpiresAt: millis(t.RefreshExpiresAt), Scopes: nonNil(t.Scopes), Properties: t.Properties,
		AuthorizationDetails: authzFromCore(t.AuthorizationDetails), TokenType: t.TokenType(), TokenID: strconv.FormatInt(t.ID, 10),
	}
	out.resultBody = ok(apiTokenUpdate, "updated token %d", t.ID)
	out.Action = "OK"
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func ptr[T any](v T) *T { return &v }

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	id := tokend.TokenIdentifier{Value: r.PathValue("accessTokenIdentifier"), SkipRevoked: true}
	tok, err := s.core.ResolveToken(r.Context(), p, sid, id, tokend.PermTokensWrite)
	if err != nil {
		return err
	}
	if err := s.core.DeleteToken(r.Context(), p, sid, tok.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type tokenRevokeRequest struct {
	AccessTokenIdentifier  string  `json:"accessTokenIdentifier"`
	RefreshTokenIdentifier string  `json:"refreshTokenIdentifier"`
	ClientIdentifier       string  `json:"clientIdentifier"`
	Subject                *string `json:"subject"`
}

type tokenRevokeResponse struct {
	resultBody
	Count int `json:"count"`
}

// revokeTokens takes the first of Authlete's selectors that is given, in
// Authlete's order: the access token, the refresh token, the client and
// subject, the client, the subject. A token that does not exist (or was
// revoked before) counts as none revoked.
func (s *Server) revokeTokens(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	var req tokenRevokeRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	var sel tokend.RevokeRequest
	switch {
	case req.AccessTokenIdentifier != "" || req.RefreshTokenIdentifier != "":
		// The key and the service first, so that "not found" below can
		// only be about the token.
		if err := p.Authorize(sid, tokend.PermTokensWrite); err != nil {
			return err
		}
		if _, err := s.core.CachedService(r.Context(), sid); err != nil {
			return err
		}
		id := tokend.TokenIdentifier{Value: req.AccessTokenIdentifier, SkipRevoked: true}
		if req.AccessTokenIdentifier == "" {
			id = tokend.TokenIdentifier{Value: req.RefreshTokenIdentifier, Refresh: true, SkipRevoked: true}
		}
		tok, err := s.core.ResolveToken(r.Context(), p, sid, id, tokend.PermTokensWrite)
		if tokend.ErrorCode(err) == tokend.ENOTFOUND {
			return writeRevoked(w, 0)
		} else if err != nil {
			return err
		}
		sel.TokenID = tok.ID
	case req.ClientIdentifier != "" || req.Subject != nil:
		sel.Client, sel.Subject = req.ClientIdentifier, req.Subject
	default:
		return tokend.Invalid("body", "name what to revoke: accessTokenIdentifier, refreshTokenIdentifier, clientIdentifier and/or subject")
	}
	n, err := s.core.RevokeTokens(r.Context(), p, sid, sel)
	if err != nil {
		return err
	}
	return writeRevoked(w, n)
}

func writeRevoked(w http.ResponseWriter, n int) error {
	return httpx.WriteJSON(w, http.StatusOK, tokenRevokeResponse{resultBody: ok(apiTokenRevoke, "%d tokens revoked", n), Count: n})
}
