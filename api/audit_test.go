package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/wire"
)

func TestAuditRoutes(t *testing.T) {
	e := MustEnv(t)
	svc := MustPhotos(t, e, "photos")
	other := MustPhotos(t, e, "other")
	cl := MustClient(t, e, e.root, svc.ID, wire.ClientInput{})
	tok := MustToken(t, e, svc.ID, wire.TokenInput{Client: cl.ClientID, GrantType: "AUTHORIZATION_CODE", Subject: "alice", Scopes: []string{"photos.read"}})
	e.MustDo(t, "POST", fmt.Sprintf("/v1/services/%d/tokens/%d/revoke", svc.ID, tok.ID), e.root, nil, http.StatusOK, nil)
	auditor := MustKey(t, e, svc.ID, tokend.PermAuditRead)
	noAudit := MustKey(t, e, svc.ID, tokend.PermTokensRead)
	orgAuditor := MustKey(t, e, 0, tokend.PermAuditRead)

	t.Run("OKServiceLog", func(t *testing.T) {
		var l wire.AuditList
		e.MustDo(t, "GET", fmt.Sprintf("/v1/services/%d/audit?action=token.revoke", svc.ID), auditor, nil, http.StatusOK, &l)
		if len(l.Entries) != 1 {
			t.Fatalf("%d revocations, want 1: %+v", len(l.Entries), l)
		}
		got := l.Entries[0]
		if got.TargetType != "token" || got.TargetID != strconv.FormatInt(tok.ID, 10) || got.ServiceID == nil || *got.ServiceID != svc.ID ||
			got.Actor == "" || got.Reason != "revoked" || got.Subject != "" {
			t.Fatalf("entry %+v", got)
		}
	})
	t.Run("OKOrganizationFilterByService", func(t *testing.T) {
		var l wire.AuditList
		e.MustDo(t, "GET", fmt.Sprintf("/v1/audit?service=%d&target_type=service", other.ID), orgAuditor, nil, http.StatusOK, &l)
		if len(l.Entries) != 1 || l.Entries[0].Action != "service.create" {
			t.Fatalf("%+v", l)
		}
	})
	t.Run("OKPaging", func(t *testing.T) {
		var all wire.AuditList
		e.MustDo(t, "GET", "/v1/audit?page_size=1000", orgAuditor, nil, http.StatusOK, &all)
		var seen []int64
		path := "/v1/audit?page_size=2&order=asc"
		for {
			var l wire.AuditList
			e.MustDo(t, "GET", path, orgAuditor, nil, http.StatusOK, &l)
			for _, en := range l.Entries {
				seen = append(seen, en.ID)
			}
			if l.NextPageToken == "" {
				break
			}
			path = "/v1/audit?page_size=2&order=asc&page_token=" + l.NextPageToken
		}
		if len(seen) != len(all.Entries) || len(seen) < 6 {
			t.Fatalf("paged %d entries, the log holds %d", len(seen), len(all.Entries))
		}
		for i := range seen {
			if seen[i] != all.Entries[len(all.Entries)-1-i].ID {
				t.Fatalf("ascending pages %v differ from the descending list", seen)
			}
		}
	})
	t.Run("OKExport", func(t *testing.T) {
		res := e.MustDo(t, "GET", fmt.Sprintf("/v1/services/%d/audit/export", svc.ID), auditor, nil, http.StatusOK, nil)
		if ct := res.header.Get("Content-Type"); ct != AuditExportContentType {
			t.Fatalf("Content-Type %q", ct)
		}
		var lines []wire.AuditEntry
		sc := bufio.NewScanner(bytes.NewReader(res.body))
		for sc.Scan() {
			var en wire.AuditEntry
			if err := jsonDecodeStrict(sc.Bytes(), &en); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			lines = append(lines, en)
		}
		var l wire.AuditList
		e.MustDo(t, "GET", fmt.Sprintf("/v1/services/%d/audit?order=asc&page_size=1000", svc.ID), auditor, nil, http.StatusOK, &l)
		a, _ := json.Marshal(lines)
		b, _ := json.Marshal(l.Entries)
		if !bytes.Equal(a, b) || len(lines) < 4 {
			t.Fatalf("export:\n%s\nlist:\n%s", a, b)
		}
	})
	t.Run("OKExportManyPages", func(t *testing.T) {
		for i := range tokend.MaxPageSize + 5 {
			if err := e.core.RecordAuthFailures(t.Context(), other.ID, fmt.Sprintf("address:10.0.%d.%d", i/256, i%256), "test"); err != nil {
				t.Fatal(err)
			}
		}
		res := e.MustDo(t, "GET", fmt.Sprintf("/v1/audit/export?service=%d&action=auth.repeated_failure", other.ID), orgAuditor, nil, http.StatusOK, nil)
		if n := bytes.Count(res.body, []byte("\n")); n != tokend.MaxPageSize+5 {
			t.Fatalf("exported %d lines, want %d", n, tokend.MaxPageSize+5)
		}
	})
	errs := []struct {
		name, path, key string
		status          int
		code, field     string
	}{
		{"ErrNoPermission", fmt.Sprintf("/v1/services/%d/audit", svc.ID), noAudit, 403, "forbidden", ""},
		{"ErrOtherService", fmt.Sprintf("/v1/services/%d/audit", other.ID), auditor, 404, "not_found", ""},
		{"ErrServiceKeyOrgLog", "/v1/audit", auditor, 403, "forbidden", ""},
		{"ErrUnknownAction", "/v1/audit?action=nope", orgAuditor, 400, "invalid", "action"},
		{"ErrBadSince", "/v1/audit?since=yesterday", orgAuditor, 400, "invalid", "since"},
		{"ErrUntilBeforeSince", "/v1/audit?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", orgAuditor, 400, "invalid", "until"},
		{"ErrBadService", "/v1/audit?service=x", orgAuditor, 400, "invalid", "service"},
		{"ErrServiceOnServiceRoute", fmt.Sprintf("/v1/services/%d/audit?service=1", svc.ID), auditor, 400, "invalid", "service"},
		{"ErrEmptyFilter", "/v1/audit?actor=", orgAuditor, 400, "invalid", "actor"},
		{"ErrPageSize", "/v1/audit?page_size=0", orgAuditor, 400, "invalid", "page_size"},
		{"ErrPageToken", "/v1/audit?page_token=xyz", orgAuditor, 400, "invalid", "page_token"},
		{"ErrOrder", "/v1/audit?order=up", orgAuditor, 400, "invalid", "order"},
		{"ErrExportPaging", "/v1/audit/export?page_size=5", orgAuditor, 400, "invalid", "page_size"},
		{"ErrExportNoPermission", fmt.Sprintf("/v1/services/%d/audit/export", svc.ID), noAudit, 403, "forbidden", ""},
		{"ErrNoKey", "/v1/audit", "", 401, "unauthorized", ""},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			e.MustError(t, "GET", tt.path, tt.key, nil, tt.status, tt.code, tt.field)
		})
	}
}
