package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend"
)

// The operator's pages. Each is one or two core calls with the signed-in
// key's principal; what the key may not see, the page does not show.

func (c *Console) signInForm(w http.ResponseWriter, r *http.Request) error {
	if _, ok := c.currentSession(r, operatorSession); ok {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return nil
	}
	return c.render(w, http.StatusOK, "signin", page{Title: "Sign in"})
}

// signIn checks the key before keeping it: a wrong key gets the form
// again, with the core's reason, and no session.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) error {
	key, err := formValue(w, r, "key")
	if err != nil {
		return err
	}
	if ok, err := c.signInAllowed(w, r, "signin", page{Title: "Sign in"}); !ok {
		return err
	}
	p, err := c.core.AuthenticateKey(r.Context(), key)
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
		c.signInFailed(r)
		return c.render(w, http.StatusUnauthorized, "signin", page{Title: "Sign in", Error: tokend.ErrorMessage(err)})
	} else if err != nil {
		return err
	}
	c.forgetSession(r, operatorSession) // a new session id on every sign-in
	c.startSession(w, operatorSession, key)
	c.logger.InfoContext(r.Context(), "console: signed in", "actor", p.Actor())
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
	return nil
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) error {
	c.endSession(w, r, operatorSession)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	return nil
}

// home lists the services the key reaches; a key of one service goes
// straight to it.
func (c *Console) home(w http.ResponseWriter, r *http.Request, v *view) error {
	if v.p.ServiceID != 0 {
		http.Redirect(w, r, servicePath(v.p.ServiceID)+"/", http.StatusSeeOther)
		return nil
	}
	svcs, err := c.core.ListServices(r.Context(), v.p)
	if err != nil {
		return err
	}
	return c.render(w, http.StatusOK, "home", page{Title: "Services", Actor: v.actor, Data: svcs})
}

func servicePath(sid int64) string { return "/console/services/" + strconv.FormatInt(sid, 10) }

// pathID reads a numeric path parameter; anything else names nothing.
func pathID(r *http.Request, name string) (int64, error) {
	s := r.PathValue(name)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, tokend.NotFound(strings.TrimSuffix(name, "id") + " " + strconv.Quote(s))
	}
	return id, nil
}

// serviceOf loads the page's service for its header. A key that may not
// read services still works with the service's tokens and clients, so the
// page then shows only the id.
func (c *Console) serviceOf(r *http.Request, v *view) (*tokend.Service, error) {
	sid, err := pathID(r, "sid")
	if err != nil {
		return nil, tokend.NotFound("service")
	}
	svc, err := c.core.GetService(r.Context(), v.p, sid)
	if tokend.ErrorCode(err) == tokend.EFORBIDDEN {
		return &tokend.Service{ID: sid, Name: "service " + strconv.FormatInt(sid, 10)}, nil
	}
	return svc, err
}

type servicePageData struct {
	Issuer string
}

func (c *Console) servicePage(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	return c.render(w, http.StatusOK, "service", page{Title: svc.Name, Actor: v.actor, Service: svc,
		Data: servicePageData{Issuer: c.core.IssuerOf(svc)}})
}

// clientsPageSize is the console's page of clients and tokens: a screen's
// worth, fetched with the keyset paging the API uses.
const clientsPageSize = 50

type clientsPageData struct {
	Clients []*tokend.Client
	Next    string // the next page's URL, "" on the last
}

func (c *Console) clientsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			return tokend.Invalid("after", "must be a client id")
		}
	}
	list, more, err := c.core.ListClients(r.Context(), v.p, svc.ID, after, clientsPageSize)
	if err != nil {
		return err
	}
	d := clientsPageData{Clients: list}
	if more && len(list) > 0 {
		d.Next = servicePath(svc.ID) + "/clients?after=" + strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return c.render(w, http.StatusOK, "clients", page{Title: "Clients · " + svc.Name, Actor: v.actor, Service: svc, Data: d})
}

// clientForm is the new-client form, as shown and as posted back.
type clientForm struct {
	Name, Description, URL, Developer, Type, RedirectURIs string
	FirstParty                                            bool
	GrantTypes, Scopes                                    []string
	// The service's choices; nil when the key may not read the service,
	// and the form then takes space-separated text.
	GrantChoices, ScopeChoices []string
	GrantText, ScopeText       string
}

func (c *Console) newClientForm(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	f := clientForm{Type: string(tokend.ClientConfidential)}
	f.choices(svc)
	return c.render(w, http.StatusOK, "client_new", page{Title: "New client · " + svc.Name, Actor: v.actor, Service: svc, Data: f})
}

func (f *clientForm) choices(svc *tokend.Service) {
	if svc.CreatedAt.IsZero() { // the stand-in for a service the key may not read
		return
	}
	f.GrantChoices = []string{}
	for _, g := range svc.GrantTypesSupported {
		f.GrantChoices = append(f.GrantChoices, string(g))
	}
	f.ScopeChoices = svc.ScopesSupported
	if f.ScopeChoices == nil {
		f.ScopeChoices = []string{}
	}
}

type clientCreatedData struct {
	Client *tokend.Client
	Secret string
}

// createClient creates the client and shows its secret on this one page,
// which is never cached; no other page shows it again.
func (c *Console) createClient(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	f := clientForm{
		Name: strings.TrimSpace(pf.Get("name")), Description: strings.TrimSpace(pf.Get("description")),
		URL: strings.TrimSpace(pf.Get("url")), Developer: strings.TrimSpace(pf.Get("developer")),
		Type: pf.Get("type"), RedirectURIs: pf.Get("redirect_uris"), FirstParty: pf.Get("first_party") == "on",
		GrantTypes: pf["grant_types"], Scopes: pf["scopes"],
		GrantText: pf.Get("grant_types_text"), ScopeText: pf.Get("scopes_text"),
	}
	f.choices(svc)
	in := tokend.ClientInput{Name: &f.Name, FirstParty: &f.FirstParty}
	for _, opt := range []struct {
		v   string
		dst **string
	}{{f.Description, &in.Description}, {f.URL, &in.URL}, {f.Developer, &in.Developer}} {
		if opt.v != "" {
			s := opt.v
			*opt.dst = &s
		}
	}
	if f.Type != "" {
		t := tokend.ClientType(f.Type)
		in.Type = &t
	}
	grants, scopes := f.GrantTypes, f.Scopes
	if f.GrantChoices == nil {
		grants, scopes = strings.Fields(f.GrantText), strings.Fields(f.ScopeText)
	}
	// Nothing ticked: the core's defaults (everything the service allows).
	if len(grants) > 0 {
		gs := make([]tokend.GrantType, len(grants))
		for i, g := range grants {
			gs[i] = tokend.GrantType(g)
		}
		in.GrantTypes = &gs
	}
	if len(scopes) > 0 {
		in.Scopes = &scopes
	}
	if uris := strings.Fields(f.RedirectURIs); len(uris) > 0 {
		in.RedirectURIs = &uris
	}
	cl, secret, err := c.core.CreateClient(r.Context(), v.p, svc.ID, in)
	if tokend.ErrorCode(err) == tokend.EINVALID {
		return c.render(w, http.StatusBadRequest, "client_new", page{Title: "New client · " + svc.Name, Actor: v.actor, Service: svc,
			Error: tokend.ErrorField(err) + ": " + tokend.ErrorMessage(err), Field: tokend.ErrorField(err), Data: f})
	} else if err != nil {
		return err
	}
	c.logger.InfoContext(r.Context(), "console: client created", "actor", v.actor, "service", svc.ID, "client", cl.ID)
	return c.render(w, http.StatusCreated, "client_created", page{Title: "Client created · " + svc.Name, Actor: v.actor, Service: svc,
		Data: clientCreatedData{Client: cl, Secret: secret}})
}

func (c *Console) clientPage(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	cl, err := c.core.GetClient(r.Context(), v.p, svc.ID, r.PathValue("client"))
	if err != nil {
		return err
	}
	return c.render(w, http.StatusOK, "client", page{Title: cl.Name + " · " + svc.Name, Actor: v.actor, Service: svc, Data: cl})
}

// tokenFilters are the token list's query parameters, as the form sends
// them: the API's, with empty fields meaning unset and the creation times
// as a datetime-local input gives them (UTC).
var tokenFilters = []string{"subject", "client", "grant_type", "scope", "account_id", "role", "status",
	"created_after", "created_before", "order_by", "order", "page_size"}

type tokenRow struct {
	Token      *tokend.Token
	Status     tokend.TokenStatus
	ClientName string
}

type tokensPageData struct {
	Form       map[string]string
	Rows       []tokenRow
	Total      int
	Next       string // the next page's URL, "" on the last
	First      string // the first page's URL, when this is a later one
	GrantTypes []tokend.GrantType
	BulkURL    string // the bulk revocation preview for the client/subject filter
}

// parseTime reads a creation-time filter: RFC 3339, or a datetime-local
// value (no zone: UTC, as the form says).
func parseTime(name, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, tokend.Invalid(name, "must be a date and time, such as 2026-05-01T12:00 (UTC)")
}

// tokenQuery turns the filter form into the core's query; the core judges
// the values, as it does for the API.
func tokenQuery(form map[string]string, pageToken string) (tokend.TokenQuery, error) {
	var q tokend.TokenQuery
	opt := func(name string) *string {
		if v := form[name]; v != "" {
			return &v
		}
		return nil
	}
	q.Subject, q.Client, q.Scope, q.AccountID, q.Role = opt("subject"), opt("client"), opt("scope"), opt("account_id"), opt("role")
	if v := form["grant_type"]; v != "" {
		g := tokend.GrantType(v)
		q.GrantType = &g
	}
	q.Status = tokend.TokenStatus(form["status"])
	q.OrderBy = tokend.OrderKey(form["order_by"])
	switch form["order"] {
	case "", "desc":
		q.Desc = true
	case "asc":
	default:
		return q, tokend.Invalid("order", "must be asc or desc")
	}
	var err error
	if v := form["created_after"]; v != "" {
		if q.CreatedAfter, err = parseTime("created_after", v); err != nil {
			return q, err
		}
	}
	if v := form["created_before"]; v != "" {
		if q.CreatedBefore, err = parseTime("created_before", v); err != nil {
			return q, err
		}
	}
	q.PageSize = clientsPageSize
	if v := form["page_size"]; v != "" {
		if q.PageSize, err = strconv.Atoi(v); err != nil || q.PageSize < 1 {
			return q, tokend.Invalid("page_size", "must be between 1 and %d", tokend.MaxPageSize)
		}
	}
	q.PageToken = pageToken
	return q, nil
}

func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	query := r.URL.Query()
	form := map[string]string{}
	keep := url.Values{}
	for _, name := range tokenFilters {
		if val := strings.TrimSpace(query.Get(name)); val != "" {
			form[name] = val
			keep.Set(name, val)
		}
	}
	d := tokensPageData{Form: form, GrantTypes: tokend.GrantTypes}
	base := servicePath(svc.ID) + "/tokens"
	pg := page{Title: "Tokens · " + svc.Name, Actor: v.actor, Service: svc, Data: &d}
	q, err := tokenQuery(form, query.Get("page_token"))
	var list *tokend.TokenList
	if err == nil {
		list, err = c.core.ListTokens(r.Context(), v.p, svc.ID, q)
	}
	if tokend.ErrorCode(err) == tokend.EINVALID {
		// The form again, saying which filter is wrong.
		pg.Error, pg.Field = tokend.ErrorField(err)+": "+tokend.ErrorMessage(err), tokend.ErrorField(err)
		return c.render(w, http.StatusBadRequest, "tokens", pg)
	} else if err != nil {
		return err
	}
	d.Total = list.TotalCount
	names := map[int64]string{}
	for _, t := range list.Tokens {
		if _, ok := names[t.ClientID]; !ok {
			names[t.ClientID] = ""
			// A key without clients.read, or a deleted client: the id.
			if cl, err := c.core.GetClient(r.Context(), v.p, svc.ID, strconv.FormatInt(t.ClientID, 10)); err == nil {
				names[t.ClientID] = cl.Name
			}
		}
		d.Rows = append(d.Rows, tokenRow{Token: t, Status: t.Status(c.now()), ClientName: names[t.ClientID]})
	}
	if list.NextPageToken != "" {
		next := cloneValues(keep)
		next.Set("page_token", list.NextPageToken)
		d.Next = base + "?" + next.Encode()
	}
	if query.Get("page_token") != "" {
		d.First = base + "?" + keep.Encode()
	}
	if form["client"] != "" || form["subject"] != "" {
		bulk := url.Values{}
		for _, k := range []string{"client", "subject"} {
			if form[k] != "" {
				bulk.Set(k, form[k])
			}
		}
		d.BulkURL = servicePath(svc.ID) + "/revoke?" + bulk.Encode()
	}
	return c.render(w, http.StatusOK, "tokens", pg)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

type tokenPageData struct {
	Token  *tokend.Token
	Status tokend.TokenStatus
	Client *tokend.Client // nil: deleted, or the key may not read clients
	Trail  auditTrail
}

// flashes are the messages a redirect after an action may ask a page to
// show: fixed texts, so a link cannot make the console say anything else.
var flashes = map[string]string{
	"revoked": "The token was revoked.",
}

func (c *Console) tokenPage(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return tokend.NotFound("token")
	}
	t, err := c.core.GetToken(r.Context(), v.p, svc.ID, id)
	if err != nil {
		return err
	}
	d := tokenPageData{Token: t, Status: t.Status(c.now()), Trail: c.tokenTrail(r, v, t)}
	if cl, err := c.core.GetClient(r.Context(), v.p, svc.ID, strconv.FormatInt(t.ClientID, 10)); err == nil {
		d.Client = cl
	}
	return c.render(w, http.StatusOK, "token", page{Title: "Token " + strconv.FormatInt(t.ID, 10) + " · " + svc.Name, Actor: v.actor,
		Service: svc, Flash: flashes[r.URL.Query().Get("done")], Data: d})
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return tokend.NotFound("token")
	}
	reason, err := formValue(w, r, "reason")
	if err != nil {
		return err
	}
	if _, err := c.core.RevokeTokens(r.Context(), v.p, svc.ID, tokend.RevokeRequest{TokenID: id, Reason: reason}); err != nil {
		return err
	}
	c.logger.InfoContext(r.Context(), "console: token revoked", "actor", v.actor, "service", svc.ID, "token", id)
	http.Redirect(w, r, servicePath(svc.ID)+"/tokens/"+strconv.FormatInt(id, 10)+"?done=revoked", http.StatusSeeOther)
	return nil
}

// bulkRequest reads the client and subject a bulk revocation names, from
// the query (preview) or the form (confirmation).
func bulkRequest(vals url.Values) tokend.RevokeRequest {
	var req tokend.RevokeRequest
	req.Client = strings.TrimSpace(vals.Get("client"))
	if s := strings.TrimSpace(vals.Get("subject")); s != "" {
		req.Subject = &s
	}
	return req
}

type revokePageData struct {
	Client  string
	Subject string
	Preview *tokend.RevokePreview
	Rows    []tokenRow
	Revoked int // on the result page
	Done    bool
	Listing string // the list of the tokens concerned
}

// previewSample is how many of the tokens a bulk revocation would hit the
// preview lists.
const previewSample = 10

// revokePreview shows how many tokens a bulk revocation would revoke, and
// the newest of them, with a button to confirm. Nothing is revoked here.
func (c *Console) revokePreview(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	req := bulkRequest(r.URL.Query())
	d := revokePageData{Client: req.Client, Listing: c.listingURL(svc.ID, req)}
	if req.Subject != nil {
		d.Subject = *req.Subject
	}
	pg := page{Title: "Revoke in bulk · " + svc.Name, Actor: v.actor, Service: svc, Data: &d}
	if req.Client == "" && req.Subject == nil {
		return c.render(w, http.StatusOK, "revoke", pg) // the form alone
	}
	prev, err := c.core.PreviewRevoke(r.Context(), v.p, svc.ID, req, previewSample)
	if code := tokend.ErrorCode(err); code == tokend.EINVALID || code == tokend.ENOTFOUND {
		pg.Error = tokend.ErrorMessage(err)
		if f := tokend.ErrorField(err); f != "" {
			pg.Error = f + ": " + pg.Error
		}
		return c.render(w, statuses[code], "revoke", pg)
	} else if err != nil {
		return err
	}
	d.Preview = prev
	for _, t := range prev.Sample {
		d.Rows = append(d.Rows, tokenRow{Token: t, Status: t.Status(c.now())})
	}
	return c.render(w, http.StatusOK, "revoke", pg)
}

func (c *Console) listingURL(sid int64, req tokend.RevokeRequest) string {
	q := url.Values{"status": {"all"}}
	if req.Client != "" {
		q.Set("client", req.Client)
	}
	if req.Subject != nil {
		q.Set("subject", *req.Subject)
	}
	return servicePath(sid) + "/tokens?" + q.Encode()
}

// revokeBulk revokes what the confirmed preview named and says how many
// tokens that was (it may differ from the preview's count if tokens were
// issued or revoked meanwhile).
func (c *Console) revokeBulk(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	req := bulkRequest(r.PostForm)
	if req.Client == "" && req.Subject == nil {
		return tokend.Invalid("client", "name a client and/or a subject")
	}
	req.Reason = strings.TrimSpace(r.PostForm.Get("reason"))
	n, err := c.core.RevokeTokens(r.Context(), v.p, svc.ID, req)
	if err != nil {
		return err
	}
	c.logger.InfoContext(r.Context(), "console: tokens revoked in bulk", "actor", v.actor, "service", svc.ID, "count", n)
	d := revokePageData{Client: req.Client, Revoked: n, Done: true, Listing: c.listingURL(svc.ID, req)}
	if req.Subject != nil {
		d.Subject = *req.Subject
	}
	return c.render(w, http.StatusOK, "revoke", page{Title: "Revoked · " + svc.Name, Actor: v.actor, Service: svc, Data: &d})
}
