package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/client"
)

// TestSignInLimit: an address that keeps failing to sign in is refused
// with 429 and Retry-After before its key is even looked at, the right key
// included, and the audit log records it.
func TestSignInLimit(t *testing.T) {
	e := MustEnv(t)
	b := e.browser(t)
	var r response
	for range 60 {
		if r = b.post("/console/signin", url.Values{"key": {"tkk_wrong"}}); r.status == http.StatusTooManyRequests {
			break
		}
		if r.status != http.StatusUnauthorized {
			t.Fatalf("wrong key: %d", r.status)
		}
	}
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "too many failed") {
		t.Fatalf("60 wrong keys: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if r := b.post("/console/signin", url.Values{"key": {e.key}}); r.status != http.StatusTooManyRequests || r.header.Get("Set-Cookie") != "" {
		t.Fatalf("the right key from a refused address: %d", r.status)
	}
	if r := b.post("/console/apps/signin", url.Values{"access_token": {"tka_x"}}); r.status != http.StatusTooManyRequests {
		t.Fatalf("the apps sign-in from a refused address: %d", r.status)
	}
	log, err := e.api.ListAudit(context.Background(), client.AuditQuery{Action: "auth.repeated_failure"})
	if err != nil || len(log.Entries) == 0 || !strings.Contains(log.Entries[0].Reason, "console") {
		t.Fatalf("the audit log of repeated failures: %+v, %v", log, err)
	}
}
