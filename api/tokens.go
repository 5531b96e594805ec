package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/wire"
)

var tokenQueryParams = []string{
	"subject", "client", "grant_type", "scope", "account_id", "role", "status",
	"created_after", "created_before", "order_by", "order", "page_size", "page_token", "offset",
}

// tokenQuery turns the list's query parameters into the core's query. It
// checks syntax only (integers, times, asc|desc); the core judges values.
func tokenQuery(q map[string]string) (tokend.TokenQuery, error) {
	var out tokend.TokenQuery
	for _, name := range tokenQueryParams {
		// An empty value would read as "unset" in several places below,
		// silently widening the query the caller meant to narrow.
		if v, ok := q[name]; ok && v == "" {
			return out, tokend.Invalid(name, "must not be empty")
		}
	}
	str := func(name string) *string {
		if v, ok := q[name]; ok {
			return &v
		}
		return nil
	}
	out.Subject = str("subject")
	out.Client = str("client")
	out.Scope = str("scope")
	out.AccountID = str("account_id")
	out.Role = str("role")
	if v, ok := q["grant_type"]; ok {
		g := tokend.GrantType(v)
		out.GrantType = &g
	}
	out.Status = tokend.TokenStatus(q["status"])
	out.OrderBy = tokend.OrderKey(q["order_by"])
	switch q["order"] {
	case "", "desc":
		out.Desc = true
	case "asc":
	default:
		return out, tokend.Invalid("order", "must be asc or desc, not %.40q", q["order"])
	}
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"created_after", &out.CreatedAfter}, {"created_before", &out.CreatedBefore}} {
		name, t := f.name, f.t
		if v, ok := q[name]; ok {
			parsed, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return out, tokend.Invalid(name, "must be an RFC 3339 time, such as 2024-05-01T12:00:00Z")
			}
			*t = parsed
		}
	}
	if v, ok := q["page_size"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return out, tokend.Invalid("page_size", "must be an integer")
		}
		// The core reads 0 as "default"; given explicitly it is out of range.
		if n == 0 {
			return out, tokend.Invalid("page_size", "must be between 1 and %d", tokend.MaxPageSize)
		}
		out.PageSize = n
	}
	if v, ok := q["offset"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return out, tokend.Invalid("offset", "must be an integer")
		}
		out.Offset = n
	}
	out.PageToken = q["page_token"]
	return out, nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	params, err := httpx.Query(r, tokenQueryParams...)
	if err != nil {
		return err
	}
	q, err := tokenQuery(params)
	if err != nil {
		return err
	}
	list, err := a.core.ListTokens(r.Context(), p, sid, q)
	if err != nil {
		return err
	}
	out := wire.TokenList{Tokens: make([]wire.Token, len(list.Tokens)), TotalCount: list.TotalCount, NextPageToken: list.NextPageToken}
	for i, t := range list.Tokens {
		out.Tokens[i] = a.tokenJSON(t, nil)
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	var body wire.TokenInput
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	in, err := tokenInput(body)
	if err != nil {
		return err
	}
	issued, err := a.core.CreateToken(r.Context(), p, sid, in)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusCreated, a.tokenJSON(issued.Token, issued))
}

func (a *API) getToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, id, err := tokenPath(r)
	if err != nil {
		return err
	}
	t, err := a.core.GetToken(r.Context(), p, sid, id)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, a.tokenJSON(t, nil))
}

func tokenPath(r *http.Request) (sid, id int64, err error) {
	if sid, err = pathID(r, "sid"); err != nil {
		return 0, 0, err
	}
	id, err = pathID(r, "id")
	return sid, id, err
}

func (a *API) updateToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, id, err := tokenPath(r)
	if err != nil {
		return err
	}
	var body wire.TokenUpdate
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	issued, err := a.core.UpdateToken(r.Context(), p, sid, id, tokenUpdate(body))
	if err != nil {
		return renameField(err, tokenUpdateFields)
	}
	return httpx.WriteJSON(w, http.StatusOK, a.tokenJSON(issued.Token, issued))
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, id, err := tokenPath(r)
	if err != nil {
		return err
	}
	if err := a.core.DeleteToken(r.Context(), p, sid, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) lookupToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	var body wire.TokenLookup
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	t, err := a.core.FindToken(r.Context(), p, sid, tokend.TokenRef{Value: body.Token, Hash: body.Hash})
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, a.tokenJSON(t, nil))
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, id, err := tokenPath(r)
	if err != nil {
		return err
	}
	var body wire.RevokeReason
	if _, err := httpx.DecodeOptionalJSON(w, r, &body); err != nil {
		return err
	}
	n, err := a.core.RevokeTokens(r.Context(), p, sid, tokend.RevokeRequest{TokenID: id, Reason: body.Reason})
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, wire.RevokeResult{Count: n})
}

func (a *API) revokeTokens(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	var body wire.RevokeRequest
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.ID < 0 {
		return tokend.Invalid("id", "must be a positive numeric id")
	}
	n, err := a.core.RevokeTokens(r.Context(), p, sid, tokend.RevokeRequest{
		TokenID: body.ID,
		Token:   tokend.TokenRef{Value: body.Token, Hash: body.Hash},
		Client:  body.Client,
		Subject: body.Subject,
		Reason:  body.Reason,
	})
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, wire.RevokeResult{Count: n})
}

func (a *API) listGrants(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	subject := r.PathValue("subject")
	gs, err := a.core.SubjectGrants(r.Context(), p, sid, subject)
	if err != nil {
		return err
	}
	out := wire.GrantList{Subject: subject, Grants: make([]wire.Grant, len(gs))}
	for i, g := range gs {
		out.Grants[i] = wire.Grant{
			Client:        clientJSON(g.Client, ""),
			Scopes:        nonNil(g.Scopes),
			FirstIssuedAt: g.FirstIssued.UTC(),
			LastIssuedAt:  g.LastIssued.UTC(),
			TokenCount:    g.TokenCount,
		}
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func (a *API) revokeGrant(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	n, err := a.core.RevokeSubjectGrant(r.Context(), p, sid, r.PathValue("subject"), r.PathValue("client"))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, wire.RevokeResult{Count: n})
}
