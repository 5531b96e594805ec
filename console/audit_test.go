package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

// TestAuditPages: the service's log with the API's filters and paging, the
// organization's log for organization keys only, and each token's trail.
func TestAuditPages(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	b := e.browser(t)
	b.mustSignIn(e.key)
	tok := f.aliceApp[7]
	if r := b.post(fmt.Sprintf("%s/tokens/%d/revoke", servicePath(f), tok.ID), url.Values{"reason": {"lost phone"}}); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantRows   int // -1: not checked
		wantInBody string
	}{
		{"OKRevocations", servicePath(f) + "/audit?action=token.revoke", 200, 1, "lost phone"},
		{"OKByTarget", fmt.Sprintf("%s/audit?target_type=token&target_id=%d", servicePath(f), tok.ID), 200, 2, "token.create"},
		{"OKBySubject", servicePath(f) + "/audit?subject=bob", 200, 1, "token.create"},
		{"OKByActor", servicePath(f) + "/audit?actor=key:1&action=client.create", 200, 3, ""},
		{"OKNothingSince", servicePath(f) + "/audit?since=2030-01-01T00:00", 200, 0, "No entries match"},
		{"ErrAction", servicePath(f) + "/audit?action=token.explode", 400, -1, "action: unknown action"},
		{"ErrSince", servicePath(f) + "/audit?since=soon", 400, -1, "since"},
		{"OKOrganization", "/console/audit?action=service.create", 200, 1, fmt.Sprint(f.svc.ID)},
		{"ErrOrganizationServiceFilter", "/console/audit?service=abc", 400, -1, "service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get(tt.path)
			if r.status != tt.wantStatus || !strings.Contains(r.body, tt.wantInBody) {
				t.Fatalf("%d, want %d with %q\n%s", r.status, tt.wantStatus, tt.wantInBody, r.body)
			}
			if tt.wantRows >= 0 {
				if n := strings.Count(r.body, "data-audit-id="); n != tt.wantRows {
					t.Fatalf("%d entries, want %d", n, tt.wantRows)
				}
			}
		})
	}
	t.Run("OKPagesCoverTheLogOnce", func(t *testing.T) {
		want, err := e.api.ListAudit(context.Background(), client.AuditQuery{Service: f.svc.ID, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Entries) <= 30 {
			t.Fatalf("the fixture made %d entries; the test needs several pages of 10", len(want.Entries))
		}
		seen := map[string]bool{}
		path := servicePath(f) + "/audit?page_size=10"
		for pages := 0; path != ""; pages++ {
			if pages > 5 {
				t.Fatal("paging does not end")
			}
			r := b.get(path)
			for _, id := range between(r.body, `data-audit-id="`, `"`) {
				if seen[id] {
					t.Fatalf("entry %s on two pages", id)
				}
				seen[id] = true
			}
			path = linkTo(r.body, "audit-next-page")
		}
		if len(seen) != len(want.Entries) {
			t.Fatalf("pages showed %d entries, the API %d", len(seen), len(want.Entries))
		}
	})
	t.Run("OKTokenTrail", func(t *testing.T) {
		r := b.get(fmt.Sprintf("%s/tokens/%d", servicePath(f), tok.ID))
		trail := r.body[strings.Index(r.body, `<div id="trail">`):]
		if !strings.Contains(trail, "token.revoke") || !strings.Contains(trail, "token.create") || !strings.Contains(trail, "lost phone") {
			t.Fatalf("trail:\n%s", trail)
		}
	})
	t.Run("OKTrailWithoutAuditRead", func(t *testing.T) {
		k, err := e.api.CreateServiceKey(context.Background(), f.svc.ID, wire.KeyInput{Name: "reader", Permissions: []string{"tokens.read"}})
		if err != nil {
			t.Fatal(err)
		}
		rb := e.browser(t)
		rb.mustSignIn(k.Key)
		r := rb.get(fmt.Sprintf("%s/tokens/%d", servicePath(f), tok.ID))
		if r.status != 200 || !strings.Contains(r.body, `id="trail-forbidden"`) || !strings.Contains(r.body, "audit.read") {
			t.Fatalf("token page for a key without audit.read: %d\n%s", r.status, r.body)
		}
		if r := rb.get("/console/audit"); r.status != http.StatusForbidden {
			t.Fatalf("the organization's log for a service key: %d", r.status)
		}
	})
}
