package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tokend/tokend"
)

// The audit pages: a service's log (or, for an organization key, every
// tenant's) with the API's filters and cursor paging, and each token's
// trail on its own page. They read the log through the core's ListAudit,
// as GET /v1/audit does, so a key sees what audit.read lets it see.

// auditFilters are the log's filters, as the form sends them.
var auditFilters = []string{"actor", "action", "target_type", "target_id", "subject", "since", "until", "order", "page_size", "service"}

type auditPageData struct {
	Form    map[string]string
	Entries []*tokend.AuditEntry
	Actions []tokend.AuditAction
	Org     bool   // the organization's log (a service filter is offered)
	Next    string // the next page's URL, "" on the last
	First   string // the first page's URL, when this is a later one
	Base    string // the form's action
}

// auditQuery turns the filter form into the core's query.
func auditQuery(form map[string]string, pageToken string) (tokend.AuditQuery, error) {
	q := tokend.AuditQuery{Actor: form["actor"], Action: form["action"], TargetType: form["target_type"],
		TargetID: form["target_id"], Subject: form["subject"], PageToken: pageToken, PageSize: clientsPageSize}
	var err error
	if v := form["since"]; v != "" {
		if q.Since, err = parseTime("since", v); err != nil {
			return q, err
		}
	}
	if v := form["until"]; v != "" {
		if q.Until, err = parseTime("until", v); err != nil {
			return q, err
		}
	}
	switch form["order"] {
	case "", "desc":
	case "asc":
		q.Ascending = true
	default:
		return q, tokend.Invalid("order", "must be asc or desc")
	}
	if v := form["page_size"]; v != "" {
		if q.PageSize, err = strconv.Atoi(v); err != nil || q.PageSize < 1 {
			return q, tokend.Invalid("page_size", "must be between 1 and %d", tokend.MaxPageSize)
		}
	}
	if v := form["service"]; v != "" {
		if q.ServiceID, err = strconv.ParseInt(v, 10, 64); err != nil || q.ServiceID <= 0 {
			return q, tokend.Invalid("service", "must be a service id")
		}
	}
	return q, nil
}

// serviceAuditPage is a service's log.
func (c *Console) serviceAuditPage(w http.ResponseWriter, r *http.Request, v *view) error {
	svc, err := c.serviceOf(r, v)
	if err != nil {
		return err
	}
	return c.auditPage(w, r, v, svc, servicePath(svc.ID)+"/audit")
}

// orgAuditPage is the organization's log: every tenant's entries and the
// organization's own (its keys), for organization keys.
func (c *Console) orgAuditPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return c.auditPage(w, r, v, nil, "/console/audit")
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, v *view, svc *tokend.Service, base string) error {
	query := r.URL.Query()
	form := map[string]string{}
	keep := url.Values{}
	for _, name := range auditFilters {
		if name == "service" && svc != nil {
			continue
		}
		if val := strings.TrimSpace(query.Get(name)); val != "" {
			form[name] = val
			keep.Set(name, val)
		}
	}
	d := auditPageData{Form: form, Actions: tokend.AuditActions, Org: svc == nil, Base: base}
	title := "Audit log"
	if svc != nil {
		title += " · " + svc.Name
	}
	pg := page{Title: title, Actor: v.actor, Service: svc, Data: &d}
	q, err := auditQuery(form, query.Get("page_token"))
	if svc != nil {
		q.ServiceID = svc.ID
	}
	var list *tokend.AuditList
	if err == nil {
		list, err = c.core.ListAudit(r.Context(), v.p, q)
	}
	if tokend.ErrorCode(err) == tokend.EINVALID {
		pg.Error, pg.Field = tokend.ErrorField(err)+": "+tokend.ErrorMessage(err), tokend.ErrorField(err)
		return c.render(w, http.StatusBadRequest, "audit", pg)
	} else if err != nil {
		return err
	}
	d.Entries = list.Entries
	if list.NextPageToken != "" {
		next := cloneValues(keep)
		next.Set("page_token", list.NextPageToken)
		d.Next = base + "?" + next.Encode()
	}
	if query.Get("page_token") != "" {
		d.First = base + "?" + keep.Encode()
	}
	return c.render(w, http.StatusOK, "audit", pg)
}

// auditTrail is what the log says about one token: the entries naming it,
// and those naming its family (a refresh token's reuse revokes the
// family). Bulk revocations name the client or the subject instead; the
// page links to those. nil, with the reason, when the key may not read the
// log.
type auditTrail struct {
	Entries   []*tokend.AuditEntry
	Forbidden string
	More      bool // more entries than shown
}

const trailSize = 50

func (c *Console) tokenTrail(r *http.Request, v *view, t *tokend.Token) auditTrail {
	var out auditTrail
	targets := [][2]string{{tokend.TargetToken, strconv.FormatInt(t.ID, 10)}}
	targets = append(targets, [2]string{tokend.TargetGrant, strconv.FormatInt(t.GrantID, 10)})
	for _, tg := range targets {
		list, err := c.core.ListAudit(r.Context(), v.p, tokend.AuditQuery{ServiceID: t.ServiceID, TargetType: tg[0], TargetID: tg[1], PageSize: trailSize})
		if code := tokend.ErrorCode(err); code == tokend.EFORBIDDEN {
			out.Forbidden = tokend.ErrorMessage(err)
			return out
		} else if err != nil {
			out.Forbidden = "the audit log could not be read: " + tokend.ErrorMessage(err)
			return out
		}
		out.Entries = append(out.Entries, list.Entries...)
		out.More = out.More || list.NextPageToken != ""
	}
	// Newest first, as the log lists them.
	slices.SortFunc(out.Entries, func(a, b *tokend.AuditEntry) int {
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	return out
}
