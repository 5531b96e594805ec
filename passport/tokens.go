package passport

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/httpx"
)

// Query parameters of the list, spelt as Passport's gateway spells the
// fields of its request message.
const (
	paramPageSize    = "page_params.page_size"
	paramPageNumber  = "page_params.page_number"
	paramSeconds     = "page_params.first_request_timestamp.seconds"
	paramNanos       = "page_params.first_request_timestamp.nanos"
	paramOrderKey    = "order_params.order_key"
	paramOrderDir    = "order_params.order_direction"
	paramAccountID   = "account_id"
	paramUserID      = "user_id"
	paramGrantFlow   = "grant_flow"
	paramRole        = "role"
	paramTokenID     = "token_id"
	paramClientID    = "client_id"
	paramGrantType   = "grant_type"
	paramScope       = "scope"
	paramSecret      = "client_secret"
	directionDefault = "ORDER_DIRECTION_ENUM_UNSPECIFIED"
)

var listParams = []string{
	paramPageSize, paramPageNumber, paramSeconds, paramNanos, paramOrderKey, paramOrderDir,
	paramAccountID, paramUserID, paramGrantFlow, paramRole,
}

// The range of a google.protobuf.Timestamp: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z, in seconds since the epoch.
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
)

// orderKeys maps Passport's order keys to the core's. Passport's
// updated_at is the last time the record's values changed: its last
// refresh (never-refreshed tokens first in ascending order).
var orderKeys = map[string]tokend.OrderKey{
	"created_at": tokend.OrderCreatedAt,
	"expires_at": tokend.OrderExpiresAt,
	"updated_at": tokend.OrderLastRefreshedAt,
}

// coreFields maps the core's names for list inputs to Passport's, so an
// error names the parameter the caller sent.
var coreFields = map[string]string{
	"page_size":   paramPageSize,
	"page_number": paramPageNumber,
	"subject":     paramUserID,
	"account_id":  paramAccountID,
	"role":        paramRole,
	"grant_type":  paramGrantFlow,
	"order_by":    paramOrderKey,
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, c caller) error {
	params, err := httpx.Query(r, listParams...)
	if err != nil {
		return err
	}
	for _, name := range listParams { // in a fixed order, so the error names the same one every time
		if v, ok := params[name]; ok && v == "" {
			return tokend.Invalid(name, "must not be empty (leave the parameter out instead)")
		}
	}
	q, err := listQuery(params)
	if err != nil {
		return err
	}
	page, err := s.core.ListTokensSnapshot(r.Context(), c.p, c.sid, q)
	if err != nil {
		return renameField(err, coreFields)
	}
	clients, err := s.core.TokenClients(r.Context(), c.p, c.sid, page.Tokens)
	if err != nil {
		return err
	}
	now := s.core.Now()
	out := tokenList{Tokens: make([]tokenJSON, len(page.Tokens)), Pagination: pagination{
		TotalElements: page.Total, TotalPages: page.TotalPages, CurrentPage: page.PageNumber, PageSize: page.PageSize,
		FirstRequestTimestamp: timestamp{Seconds: page.Snapshot.Unix(), Nanos: int32(page.Snapshot.Nanosecond())},
	}}
	for i, t := range page.Tokens {
		out.Tokens[i] = renderToken(t, clients[t.ClientID], now)
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// listQuery parses the list's parameters, each already known and non-empty.
func listQuery(params map[string]string) (tokend.SnapshotQuery, error) {
	var q tokend.SnapshotQuery
	var err error
	if v, ok := params[paramPageSize]; ok {
		if q.PageSize, err = positive(paramPageSize, v); err != nil {
			return q, err
		}
	}
	if v, ok := params[paramPageNumber]; ok {
		if q.PageNumber, err = positive(paramPageNumber, v); err != nil {
			return q, err
		}
	}
	if q.Snapshot, err = snapshot(params); err != nil {
		return q, err
	}
	if v, ok := params[paramOrderKey]; ok {
		k, known := orderKeys[v]
		if !known {
			return q, tokend.Invalid(paramOrderKey, "must be created_at, expires_at or updated_at, not %.40q", v)
		}
		q.OrderBy = k
	}
	switch v := params[paramOrderDir]; v {
	case "", directionDefault:
	case "ASC", "DESC":
		desc := v == "DESC"
		q.Desc = &desc
	default:
		return q, tokend.Invalid(paramOrderDir, "must be ASC, DESC or %s, not %.40q", directionDefault, v)
	}
	if v, ok := params[paramGrantFlow]; ok {
		g, known := grantOfFlow[v]
		if !known {
			return q, tokend.Invalid(paramGrantFlow, "must be one of %s, not %.60q", strings.Join(grantFlows, ", "), v)
		}
		q.GrantType = &g
	}
	q.Subject = optional(params, paramUserID)
	q.AccountID = optional(params, paramAccountID)
	q.Role = optional(params, paramRole)
	return q, nil
}

func optional(params map[string]string, name string) *string {
	if v, ok := params[name]; ok {
		return &v
	}
	return nil
}

// positive reads a decimal integer of at least 1; the core bounds it.
func positive(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, tokend.Invalid(name, "must be a positive integer, not %.40q", v)
	}
	return n, nil
}

// snapshot reads first_request_timestamp. seconds alone means nanos 0;
// nanos alone has no instant to refine, so it is an error.
func snapshot(params map[string]string) (*time.Time, error) {
	secText, hasSec := params[paramSeconds]
	nanoText, hasNanos := params[paramNanos]
	if !hasSec {
		if hasNanos {
			return nil, tokend.Invalid(paramSeconds, "is required with %s", paramNanos)
		}
		return nil, nil
	}
	sec, err := strconv.ParseInt(secText, 10, 64)
	if err != nil || sec < minTimestampSeconds || sec > maxTimestampSeconds {
		return nil, tokend.Invalid(paramSeconds, "must be an integer from %d (0001-01-01T00:00:00Z) to %d (9999-12-31T23:59:59Z), not %.40q",
			int64(minTimestampSeconds), int64(maxTimestampSeconds), secText)
	}
	var nanos int64
	if hasNanos {
		nanos, err = strconv.ParseInt(nanoText, 10, 64)
		if err != nil || nanos < 0 || nanos > 999_999_999 {
			return nil, tokend.Invalid(paramNanos, "must be an integer from 0 to 999999999, not %.40q", nanoText)
		}
	}
	at := time.Unix(sec, nanos).UTC()
	return &at, nil
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, c caller) error {
	if _, err := httpx.Query(r); err != nil {
		return err
	}
	id, err := tokenID(r)
	if err != nil {
		return err
	}
	t, err := s.core.GetToken(r.Context(), c.p, c.sid, id)
	if err != nil {
		return err
	}
	clients, err := s.core.TokenClients(r.Context(), c.p, c.sid, []*tokend.Token{t})
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, renderToken(t, clients[t.ClientID], s.core.Now()))
}

// revoke is DELETE: Passport's tokens are revoked rather than erased, so
// an audit still finds them.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request, c caller) error {
	if _, err := httpx.Query(r); err != nil {
		return err
	}
	id, err := tokenID(r)
	if err != nil {
		return err
	}
	if _, err := s.core.RevokeToken(r.Context(), c.p, c.sid, id, "revoked_by_passport_api"); err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, struct{}{})
}

func tokenID(r *http.Request) (int64, error) {
	v := r.PathValue(paramTokenID)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, tokend.Invalid(paramTokenID, "must be a token_id as the list shows it (a positive decimal number), not %.40q", v)
	}
	return id, nil
}

// issueRequest is the body of POST /v1/iam/oauth/tokens.
type issueRequest struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	GrantType    string `json:"grant_type"`
	Scope        string `json:"scope"`
}

// issueResponse is RFC 6749 §5.1's answer, with the new token's token_id.
type issueResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   *int64 `json:"expires_in,omitempty"`
	Scope       string `json:"scope,omitempty"`
	TokenID     string `json:"token_id"`
}

// issue mints a token with client credentials. The client names the
// service: its client_id is looked up in every service and its secret
// decides.
func (s *Server) issue(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	if _, err := httpx.Query(r); err != nil {
		return err
	}
	var in issueRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	switch {
	case in.ClientID == "":
		return tokend.Invalid(paramClientID, "is required")
	case in.ClientSecret == "":
		return tokend.Invalid(paramSecret, "is required")
	case in.GrantType == "":
		return tokend.Invalid(paramGrantType, "is required")
	case in.GrantType != "client_credentials":
		return tokend.Invalid(paramGrantType, "must be client_credentials, not %.40q", in.GrantType)
	}
	key := "client_id\x00" + shortID(in.ClientID)
	if err := s.limits.Check(r, key); err != nil {
		return err
	}
	svc, cl, err := s.core.AuthenticateClientAnywhere(r.Context(), tokend.ClientCredentials{ClientID: in.ClientID, Secret: in.ClientSecret})
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
		s.failed(r, authlimit.Failure{Credential: key, Actor: "client_id:" + shortID(in.ClientID)})
	}
	if err != nil {
		return err
	}
	issued, err := s.core.Exchange(r.Context(), svc, cl, tokend.TokenRequest{GrantType: in.GrantType, Scope: in.Scope})
	if err != nil {
		return err
	}
	t := issued.Token
	out := issueResponse{AccessToken: issued.AccessToken, TokenType: "Bearer", Scope: strings.Join(t.Scopes, " "), TokenID: strconv.FormatInt(t.ID, 10)}
	if !t.Persistent {
		secs := int64(max(t.AccessExpiresAt.Sub(s.core.Now()), 0) / time.Second)
		out.ExpiresIn = &secs
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// renameField translates a core field name into the parameter's.
func renameField(err error, names map[string]string) error {
	var e *tokend.Error
	if errors.As(err, &e) {
		if to, ok := names[e.Field]; ok {
			return &tokend.Error{Code: e.Code, Field: to, Message: e.Message}
		}
	}
	return err
}

// shortID cuts a client_id to the longest the core accepts: longer ones
// cannot exist, and an attacker's long values must not cost more memory
// in the failure limiter than short ones.
func shortID(clientID string) string {
	if len(clientID) > tokend.MaxNameLen+1 {
		return clientID[:tokend.MaxNameLen+1]
	}
	return clientID
}
