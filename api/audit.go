package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/wire"
)

// auditFilterParams filter the audit log; the list pages it too.
var auditFilterParams = []string{"actor", "action", "target_type", "target_id", "subject", "since", "until"}

// The organization's routes take "service" as well; exports take no paging.
var (
	serviceAuditList   = append([]string{"order", "page_size", "page_token"}, auditFilterParams...)
	serviceAuditExport = auditFilterParams
	auditListParams    = append(append([]string{}, serviceAuditList...), "service")
	auditExportParams  = append(append([]string{}, serviceAuditExport...), "service")
)

// exportPageTimeout bounds the writing of one page of an export.
const exportPageTimeout = time.Minute

// AuditExportContentType is the media type of an audit export: JSON lines.
const AuditExportContentType = "application/x-ndjson"

// registerAudit adds the audit routes: the organization's log, which an
// organization key may filter by service, and each service's.
func (a *API) registerAudit(mux *http.ServeMux) {
	a.route(mux, "GET /v1/audit", a.listAudit, auditListParams...)
	a.route(mux, "GET /v1/audit/export", a.exportAudit, auditExportParams...)
	a.route(mux, "GET /v1/services/{sid}/audit", a.listAudit, serviceAuditList...)
	a.route(mux, "GET /v1/services/{sid}/audit/export", a.exportAudit, serviceAuditExport...)
}

// auditQuery reads the query parameters (already checked against the
// route's list) into the core's query.
func auditQuery(r *http.Request) (tokend.AuditQuery, error) {
	var q tokend.AuditQuery
	params, err := httpx.Query(r, auditListParams...)
	if err != nil {
		return q, err
	}
	for name, v := range params {
		if v == "" {
			return q, tokend.Invalid(name, "must not be empty")
		}
	}
	if strings.Contains(r.Pattern, "{sid}") {
		if q.ServiceID, err = pathID(r, "sid"); err != nil {
			return q, err
		}
	} else if v, ok := params["service"]; ok {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return q, tokend.Invalid("service", "must be a positive numeric id")
		}
		q.ServiceID = id
	}
	q.Actor, q.Action, q.TargetType = params["actor"], params["action"], params["target_type"]
	q.TargetID, q.Subject, q.PageToken = params["target_id"], params["subject"], params["page_token"]
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if v, ok := params[f.name]; ok {
			if *f.t, err = time.Parse(time.RFC3339Nano, v); err != nil {
				return q, tokend.Invalid(f.name, "must be an RFC 3339 time, e.g. 2026-04-01T12:00:00Z")
			}
		}
	}
	switch params["order"] {
	case "", "desc":
	case "asc":
		q.Ascending = true
	default:
		return q, tokend.Invalid("order", "must be asc or desc, not %.40q", params["order"])
	}
	if v, ok := params["page_size"]; ok {
		if q.PageSize, err = strconv.Atoi(v); err != nil {
			return q, tokend.Invalid("page_size", "must be an integer")
		}
		if q.PageSize < 1 {
			return q, tokend.Invalid("page_size", "must be between 1 and %d", tokend.MaxPageSize)
		}
	}
	return q, nil
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	q, err := auditQuery(r)
	if err != nil {
		return err
	}
	l, err := a.core.ListAudit(r.Context(), p, q)
	if err != nil {
		return err
	}
	out := wire.AuditList{Entries: make([]wire.AuditEntry, len(l.Entries)), NextPageToken: l.NextPageToken}
	for i, e := range l.Entries {
		out.Entries[i] = auditJSON(e)
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// exportAudit writes every matching entry, oldest first, as JSON lines:
// one wire.AuditEntry per line, for log pipelines. The first page is read
// before the status is sent, so a refused request gets a proper error; a
// store failure later cuts the response short (the connection is dropped),
// so a truncated export is never mistaken for a complete one.
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	q, err := auditQuery(r)
	if err != nil {
		return err
	}
	q.Ascending, q.PageSize = true, tokend.MaxPageSize
	l, err := a.core.ListAudit(r.Context(), p, q)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", AuditExportContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	buf := make([]byte, 0, 64<<10)
	for {
		for _, e := range l.Entries {
			buf = appendJSONLine(buf, auditJSON(e))
		}
		// The server's write timeout bounds a whole answer; an export of
		// a long log is as long as it needs, but each page must move.
		_ = rc.SetWriteDeadline(time.Now().Add(exportPageTimeout))
		if _, err := w.Write(buf); err != nil {
			return nil // the client went away
		}
		buf = buf[:0]
		_ = rc.Flush()
		if l.NextPageToken == "" {
			return nil
		}
		q.PageToken = l.NextPageToken
		if l, err = a.core.ListAudit(r.Context(), p, q); err != nil {
			a.logger.ErrorContext(r.Context(), "audit export failed part way; dropping the connection",
				"request_id", httpx.RequestID(r.Context()), "err", err.Error())
			panic(http.ErrAbortHandler)
		}
	}
}

func appendJSONLine(buf []byte, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // wire.AuditEntry always marshals
	}
	return append(append(buf, b...), '\n')
}

func auditJSON(e *tokend.AuditEntry) wire.AuditEntry {
	out := wire.AuditEntry{ID: e.ID, Time: e.Time, Actor: e.Actor, Action: string(e.Action),
		TargetType: e.TargetType, TargetID: e.TargetID, Subject: e.Subject, Reason: e.Reason}
	if e.ServiceID != 0 {
		sid := e.ServiceID
		out.ServiceID = &sid
	}
	return out
}
