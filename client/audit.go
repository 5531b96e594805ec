package client

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tokend/tokend/wire"
)

// AuditQuery filters and pages the audit log. Zero fields are not sent.
type AuditQuery struct {
	// Service names the tenant: 0 reads the organization's whole log
	// (/v1/audit, an organization key), otherwise the service's.
	Service    int64
	Actor      string // key:ID, client:ID, user:SUBJECT, address:IP, system
	Action     string // e.g. token.revoke
	TargetType string
	TargetID   string
	Subject    string
	Since      time.Time // inclusive
	Until      time.Time // exclusive

	Order     string // desc (default, newest first) or asc
	PageSize  int
	PageToken string
}

// values returns the query string; paging only for lists.
func (q AuditQuery) values(paging bool) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("actor", q.Actor)
	set("action", q.Action)
	set("target_type", q.TargetType)
	set("target_id", q.TargetID)
	set("subject", q.Subject)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(timeParam))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(timeParam))
	}
	if paging {
		set("order", q.Order)
		if q.PageSize > 0 {
			v.Set("page_size", strconv.Itoa(q.PageSize))
		}
		set("page_token", q.PageToken)
	}
	return v
}

func auditPath(sid int64) string {
	if sid == 0 {
		return "/v1/audit"
	}
	return servicePath(sid) + "/audit"
}

// ListAudit returns one page of the audit log.
func (c *Client) ListAudit(ctx context.Context, q AuditQuery) (*wire.AuditList, error) {
	var out wire.AuditList
	if err := c.do(ctx, http.MethodGet, auditPath(q.Service), q.values(true), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllAudit iterates over every matching entry, page by page.
func (c *Client) AllAudit(ctx context.Context, q AuditQuery) iter.Seq2[wire.AuditEntry, error] {
	return func(yield func(wire.AuditEntry, error) bool) {
		for {
			page, err := c.ListAudit(ctx, q)
			if err != nil {
				yield(wire.AuditEntry{}, err)
				return
			}
			for _, e := range page.Entries {
				if !yield(e, nil) {
					return
				}
			}
			if page.NextPageToken == "" {
				return
			}
			q.PageToken = page.NextPageToken
		}
	}
}

// ExportAudit copies every matching entry, oldest first, to w as JSON
// lines (the server's /audit/export), and returns how many bytes it wrote.
// Paging fields of q are ignored. A response the server cut short is an
// error, never a shorter export.
func (c *Client) ExportAudit(ctx context.Context, q AuditQuery, w io.Writer) (int64, error) {
	u := c.base + auditPath(q.Service) + "/export"
	if v := q.values(false); len(v) > 0 {
		u += "?" + v.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, fmt.Errorf("tokend: %w", err)
	}
	req.Header.Set("Accept", "application/x-ndjson")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("tokend: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, decodeError(resp)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("tokend: audit export cut short after %d bytes: %w", n, err)
	}
	return n, nil
}
