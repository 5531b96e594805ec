package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tokend/tokend/client"
)

// TestBrowserAudit: an operator revokes a token from its page, sees the
// revocation in the token's audit trail, then finds it in the service's
// audit log with the action filter, and pages through the log; the API's
// audit log says the same.
func TestBrowserAudit(t *testing.T) {
	e := MustEnv(t)
	f := MustFixture(t, e)
	b := newTab(t)
	ctx := context.Background()
	tok := f.aliceApp[2]

	b.signIn(e)
	b.open(fmt.Sprintf("%s%s/tokens/%d", e.url, servicePath(f), tok.ID))
	b.fill("reason", "stolen laptop")
	b.submit("revoke-token")
	if got := b.text("#token-status"); got != "revoked" {
		t.Fatalf("status after revoking: %q", got)
	}
	trail := b.text("#trail")
	if !strings.Contains(trail, "token.revoke") || !strings.Contains(trail, "stolen laptop") || !strings.Contains(trail, "key:1") {
		t.Fatalf("the token's trail does not show the revocation:\n%s", trail)
	}

	b.open(e.url + servicePath(f) + "/audit")
	b.fill("a-action", "token.revoke")
	b.submit("apply-audit-filters")
	if n := b.count("#audit tbody tr"); n != 1 {
		t.Fatalf("%d revocations in the log, want 1", n)
	}
	row := b.text("#audit tbody tr")
	if !strings.Contains(row, fmt.Sprintf("token %d", tok.ID)) || !strings.Contains(row, "stolen laptop") {
		t.Fatalf("the log's revocation: %q", row)
	}
	api, err := e.api.ListAudit(ctx, client.AuditQuery{Service: f.svc.ID, Action: "token.revoke"})
	if err != nil || len(api.Entries) != 1 || api.Entries[0].TargetID != fmt.Sprint(tok.ID) || api.Entries[0].Reason != "stolen laptop" {
		t.Fatalf("the API's log: %+v, %v", api, err)
	}

	// Every entry, ten per page.
	b.open(e.url + servicePath(f) + "/audit?page_size=10")
	total := 0
	for {
		total += b.count("#audit tbody tr")
		if b.count("#audit-next-page") == 0 {
			break
		}
		b.submit("audit-next-page")
	}
	all, err := e.api.ListAudit(ctx, client.AuditQuery{Service: f.svc.ID, PageSize: 1000})
	if err != nil || total != len(all.Entries) {
		t.Fatalf("the pages showed %d entries, the API has %d (%v)", total, len(all.Entries), err)
	}
}
