package authlete

import (
	"net/http"
	"strconv"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
)

// Client authorizations ("connected apps") and granted scopes. Each route
// comes in the TypeScript SDK's form (GET or DELETE, the subject in the
// path and again in the query) and the Java client's (POST, the subject in
// a JSON body). tokend keeps no grant apart from the tokens, so deleting a
// client's granted scopes revokes the tokens that carry them, as deleting
// its authorization does.

// subjectBody is the Java client's body for the routes that name a subject.
type subjectBody struct {
	Subject string `json:"subject"`
}

// subjectOf reads the subject from the path (checked against the query's,
// which the SDK sends too) or from the POST body.
func subjectOf(w http.ResponseWriter, r *http.Request) (string, error) {
	if r.Method == http.MethodPost {
		var body subjectBody
		if err := httpx.DecodeJSON(w, r, &body); err != nil {
			return "", err
		}
		if body.Subject == "" {
			return "", tokend.Invalid("subject", "is required")
		}
		return body.Subject, nil
	}
	subject := r.PathValue("subject")
	q, _ := httpx.Query(r, "subject", "developer", "start", "end")
	if v, ok := q["subject"]; ok && v != subject {
		return "", tokend.Invalid("subject", "the query's subject differs from the path's")
	}
	return subject, nil
}

// authListRequest is the Java client's body for the authorization list.
type authListRequest struct {
	Subject   string  `json:"subject"`
	Developer *string `json:"developer"`
	Start     *int    `json:"start"`
	End       *int    `json:"end"`
}

type authListResponse struct {
	resultBody
	Start      int             `json:"start"`
	End        int             `json:"end"`
	Developer  string          `json:"developer,omitempty"`
	Subject    string          `json:"subject"`
	TotalCount int             `json:"totalCount"`
	Clients    []clientSummary `json:"clients"`
}

func (s *Server) listAuthorizations(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	var subject string
	var developer *string
	params := map[string]string{}
	if r.Method == http.MethodPost {
		var req authListRequest
		if err := httpx.DecodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.Subject == "" {
			return tokend.Invalid("subject", "is required")
		}
		subject, developer = req.Subject, req.Developer
		for name, v := range map[string]*int{"start": req.Start, "end": req.End} {
			if v != nil {
				params[name] = strconv.Itoa(*v)
			}
		}
	} else {
		var err error
		if subject, err = subjectOf(w, r); err != nil {
			return err
		}
		q, _ := httpx.Query(r, "subject", "developer", "start", "end")
		if v, ok := q["developer"]; ok {
			developer = &v
		}
		params = q
	}
	start, end, err := rangeOf("start", "end", params)
	if err != nil {
		return err
	}
	gs, err := s.core.AuthorizedClients(r.Context(), p, sid, subject, developer)
	if err != nil {
		return err
	}
	page := gs[min(start, len(gs)):min(end, len(gs))]
	out := authListResponse{Start: start, End: start + len(page), Subject: subject, TotalCount: len(gs),
		Clients: make([]clientSummary, 0, len(page))}
	if developer != nil {
		out.Developer = *developer
	}
	for _, g := range page {
		if cs := summary(g.Client); cs != nil {
			out.Clients = append(out.Clients, *cs)
		}
	}
	out.resultBody = ok(apiAuthList, "%d of %d authorized clients listed", len(page), len(gs))
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// authUpdateRequest is ClientAuthorizationUpdateRequest.
type authUpdateRequest struct {
	Subject string    `json:"subject"`
	Scopes  *[]string `json:"scopes"`
}

func (s *Server) updateAuthorization(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	var req authUpdateRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Subject == "" {
		return tokend.Invalid("subject", "is required")
	}
	if req.Scopes == nil {
		return tokend.Invalid("scopes", "is required: the update replaces the scopes of the client's tokens for the subject")
	}
	n, err := s.core.UpdateGrantScopes(r.Context(), p, sid, r.PathValue("clientId"), req.Subject, *req.Scopes)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, ok(apiAuthUpdate, "the scopes of %d tokens were replaced", n))
}

type authDeleteResponse struct {
	resultBody
	ClientID int64  `json:"clientId"`
	Subject  string `json:"subject"`
	Count    int    `json:"count"`
}

func (s *Server) deleteAuthorization(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	return s.revokeGrant(w, r, p, sid, apiAuthDelete)
}

func (s *Server) deleteGrantedScopes(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	return s.revokeGrant(w, r, p, sid, apiScopesDelete)
}

// revokeGrant revokes every token the client holds for the subject.
func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64, api string) error {
	subject, err := subjectOf(w, r)
	if err != nil {
		return err
	}
	// Resolved first so that an unknown client is a 404 whether it is
	// named by number or by alias.
	cl, err := s.core.TokenClient(r.Context(), p, sid, r.PathValue("clientId"))
	if err != nil {
		return err
	}
	n, err := s.core.RevokeSubjectGrant(r.Context(), p, sid, subject, strconv.FormatInt(cl.ID, 10))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, authDeleteResponse{resultBody: ok(api, "%d tokens revoked", n),
		ClientID: cl.ID, Subject: subject, Count: n})
}

// grantedScopesResponse is GrantedScopesGetResponse: the SDK reads it with
// its ClientAuthorizationDeleteResponse model, which has the same fields.
type grantedScopesResponse struct {
	resultBody
	ServiceAPIKey       int64    `json:"serviceApiKey"`
	ClientID            int64    `json:"clientId"`
	Subject             string   `json:"subject"`
	LatestGrantedScopes []string `json:"latestGrantedScopes,omitempty"`
	MergedGrantedScopes []string `json:"mergedGrantedScopes,omitempty"`
	ModifiedAt          int64    `json:"modifiedAt"`
}

func (s *Server) getGrantedScopes(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	subject, err := subjectOf(w, r)
	if err != nil {
		return err
	}
	g, err := s.core.GrantedScopes(r.Context(), p, sid, r.PathValue("clientId"), subject)
	if err != nil {
		return err
	}
	out := grantedScopesResponse{ServiceAPIKey: sid, ClientID: g.Client.ID, Subject: subject,
		LatestGrantedScopes: g.Latest, MergedGrantedScopes: g.Merged, ModifiedAt: millis(g.ModifiedAt)}
	if g.Merged == nil {
		out.resultBody = ok(apiScopesGet, "the subject has granted this client nothing")
	} else {
		out.resultBody = ok(apiScopesGet, "the subject has granted this client %d scopes", len(g.Merged))
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}
