package tokend_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/tokend/tokend"
)

// auditLog returns every entry, newest first, read with the org key.
func (f *fixture) auditLog(tb testing.TB) []*tokend.AuditEntry {
	tb.Helper()
	l, err := f.core.ListAudit(context.Background(), f.org, tokend.AuditQuery{PageSize: tokend.MaxPageSize})
	if err != nil {
		tb.Fatal(err)
	}
	return l.Entries
}

// latest returns the newest entry, which the test's last call must have made.
func (f *fixture) latest(tb testing.TB) *tokend.AuditEntry {
	tb.Helper()
	log := f.auditLog(tb)
	if len(log) == 0 {
		tb.Fatal("the audit log is empty")
	}
	return log[0]
}

// TestAuditManagementActions performs each management action and checks
// the entry it left: actor, tenant, action, target and never a secret.
func TestAuditManagementActions(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	actor := f.org.Actor()
	sid := f.svc.ID
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	var (
		tok    *tokend.IssuedToken
		cl     *tokend.Client
		key    *tokend.Key
		secret string
	)
	steps := []struct {
		name       string
		do         func() error
		action     tokend.AuditAction
		sid        func() int64
		targetType string
		targetID   func() string
		subject    string
		reason     string
	}{
		{"TokenCreate", func() (err error) {
			tok, err = f.core.CreateToken(ctx, f.org, sid, tokend.TokenInput{Client: f.cl.ClientID, GrantType: tokend.GrantAuthorizationCode, Subject: "alice", Scopes: []string{"read"}})
			return err
		}, tokend.AuditTokenCreate, nil, tokend.TargetToken, func() string { return id(tok.Token.ID) }, "alice", ""},
		{"TokenUpdate", func() error {
			_, err := f.core.UpdateToken(ctx, f.org, sid, tok.Token.ID, tokend.TokenUpdate{AccountID: ptr("acct")})
			return err
		}, tokend.AuditTokenUpdate, nil, tokend.TargetToken, func() string { return id(tok.Token.ID) }, "alice", ""},
		{"TokenRevoke", func() error {
			_, err := f.core.RevokeTokens(ctx, f.org, sid, tokend.RevokeRequest{TokenID: tok.Token.ID, Reason: "leaked"})
			return err
		}, tokend.AuditTokenRevoke, nil, tokend.TargetToken, func() string { return id(tok.Token.ID) }, "", "leaked"},
		{"TokensRevokeBySubject", func() error {
			_, err := f.core.RevokeTokens(ctx, f.org, sid, tokend.RevokeRequest{Subject: ptr("alice")})
			return err
		}, tokend.AuditTokenRevoke, nil, tokend.TargetSubject, func() string { return "alice" }, "alice", "revoked"},
		{"TokenDelete", func() error { return f.core.DeleteToken(ctx, f.org, sid, tok.Token.ID) },
			tokend.AuditTokenDelete, nil, tokend.TargetToken, func() string { return id(tok.Token.ID) }, "alice", ""},
		{"ClientCreate", func() (err error) {
			cl, secret, err = f.core.CreateClient(ctx, f.org, sid, tokend.ClientInput{Name: ptr("audited")})
			return err
		}, tokend.AuditClientCreate, nil, tokend.TargetClient, func() string { return id(cl.ID) }, "", ""},
		{"ClientUpdate", func() error {
			_, err := f.core.UpdateClient(ctx, f.org, sid, cl.ClientID, tokend.ClientInput{Name: ptr("renamed")})
			return err
		}, tokend.AuditClientUpdate, nil, tokend.TargetClient, func() string { return id(cl.ID) }, "", ""},
		{"ClientRotateSecret", func() (err error) {
			_, secret, err = f.core.RotateClientSecret(ctx, f.org, sid, cl.ClientID)
			return err
		}, tokend.AuditClientRotateSecret, nil, tokend.TargetClient, func() string { return id(cl.ID) }, "", ""},
		{"ClientDelete", func() error { return f.core.DeleteClient(ctx, f.org, sid, cl.ClientID) },
			tokend.AuditClientDelete, nil, tokend.TargetClient, func() string { return id(cl.ID) }, "", tokend.ClientReason},
		{"KeyCreate", func() (err error) {
			key, secret, err = f.core.CreateKey(ctx, f.org, sid, tokend.KeyInput{Name: "ro", Permissions: []tokend.Permission{tokend.PermTokensRead}})
			return err
		}, tokend.AuditKeyCreate, nil, tokend.TargetKey, func() string { return id(key.ID) }, "", ""},
		{"KeyDelete", func() error { return f.core.DeleteKey(ctx, f.org, sid, key.ID) },
			tokend.AuditKeyDelete, nil, tokend.TargetKey, func() string { return id(key.ID) }, "", ""},
		{"UserCreate", func() error {
			_, err := f.core.CreateUser(ctx, f.org, sid, tokend.UserInput{Username: "bob", Password: ptr("hunter2 hunter2")})
			return err
		}, tokend.AuditUserCreate, nil, tokend.TargetUser, func() string { return "bob" }, "", ""},
		{"UserDelete", func() error { return f.core.DeleteUser(ctx, f.org, sid, "bob") },
			tokend.AuditUserDelete, nil, tokend.TargetUser, func() string { return "bob" }, "", ""},
		{"ServiceUpdate", func() error {
			_, err := f.core.UpdateService(ctx, f.org, sid, tokend.ServiceInput{Description: ptr("audited")})
			return err
		}, tokend.AuditServiceUpdate, nil, tokend.TargetService, func() string { return id(sid) }, "", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			e := f.latest(t)
			wantSID := sid
			if st.sid != nil {
				wantSID = st.sid()
			}
			if e.Action != st.action || e.Actor != actor || e.ServiceID != wantSID || e.TargetType != st.targetType ||
				e.TargetID != st.targetID() || e.Subject != st.subject || e.Reason != st.reason {
				t.Fatalf("entry %+v; want %s by %s in %d on %s:%s subject %q reason %q",
					*e, st.action, actor, wantSID, st.targetType, st.targetID(), st.subject, st.reason)
			}
			if !e.Time.Equal(f.core.Now()) {
				t.Errorf("entry time %v, want the clock's %v", e.Time, f.core.Now())
			}
			for _, s := range []string{secret, tok.AccessToken, tok.RefreshToken, "hunter2"} {
				if s != "" && strings.Contains(e.TargetID+e.Reason+e.Subject+e.Actor, s) {
					t.Fatalf("entry %+v holds a secret", *e)
				}
			}
		})
	}
	t.Run("ServiceCreateAndDelete", func(t *testing.T) {
		svc, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("brief")})
		if err != nil {
			t.Fatal(err)
		}
		if e := f.latest(t); e.Action != tokend.AuditServiceCreate || e.ServiceID != svc.ID || e.TargetID != id(svc.ID) {
			t.Fatalf("entry %+v", *e)
		}
		if err := f.core.DeleteService(ctx, f.org, svc.ID); err != nil {
			t.Fatal(err)
		}
		if e := f.latest(t); e.Action != tokend.AuditServiceDelete || e.ServiceID != svc.ID {
			t.Fatalf("entry %+v", *e)
		}
		// The deleted tenant's log stays readable to the organization.
		l, err := f.core.ListAudit(ctx, f.org, tokend.AuditQuery{ServiceID: svc.ID})
		if err != nil || len(l.Entries) != 2 {
			t.Fatalf("deleted service's log: %v, %v", l, err)
		}
	})
	t.Run("BootstrapKey", func(t *testing.T) {
		log := f.auditLog(t)
		first := log[len(log)-1]
		if first.Action != tokend.AuditKeyCreate || first.Actor != "system" || first.ServiceID != 0 || first.Reason != "bootstrap" ||
			first.TargetID != strconv.FormatInt(f.org.KeyID, 10) {
			t.Fatalf("first entry %+v, want the bootstrap key's creation", *first)
		}
	})
	t.Run("RefusedActionLeavesNoEntry", func(t *testing.T) {
		before := len(f.auditLog(t))
		_, err := f.core.CreateToken(ctx, f.org, sid, tokend.TokenInput{Client: f.cl.ClientID, GrantType: tokend.GrantAuthorizationCode, Scopes: []string{"read"}})
		wantCode(t, err, tokend.EINVALID, "subject")
		if after := len(f.auditLog(t)); after != before {
			t.Fatalf("a refused request left %d entries", after-before)
		}
	})
}

// TestAuditSecurityEvents checks the entries of refresh-token reuse,
// authorization-code reuse and revocation by a client.
func TestAuditSecurityEvents(t *testing.T) {
	f := MustOAuthFixture(t)
	ctx := context.Background()
	client := "client:" + strconv.FormatInt(f.conf.ID, 10)

	t.Run("RefreshReuse", func(t *testing.T) {
		first := f.MustPasswordToken(t)
		if _, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: first.RefreshToken}); err != nil {
			t.Fatal(err)
		}
		_, err := f.exchange(t, f.conf, tokend.TokenRequest{GrantType: "refresh_token", RefreshToken: first.RefreshToken})
		wantCode(t, err, tokend.EGRANT, "")
		e := f.latest(t)
		if e.Action != tokend.AuditRefreshReuse || e.Actor != client || e.TargetType != tokend.TargetGrant ||
			e.TargetID != strconv.FormatInt(first.Token.GrantID, 10) || e.Subject != "alice" || e.Reason != tokend.ReasonRefreshReuse {
			t.Fatalf("entry %+v", *e)
		}
	})
	t.Run("RevokeByClient", func(t *testing.T) {
		it := f.MustPasswordToken(t)
		svc, _ := f.core.CachedService(ctx, f.svc.ID)
		if err := f.core.RevokeByClient(ctx, svc, f.conf, it.AccessToken, ""); err != nil {
			t.Fatal(err)
		}
		e := f.latest(t)
		if e.Action != tokend.AuditTokenRevoke || e.Actor != client || e.TargetID != strconv.FormatInt(it.Token.ID, 10) || e.Reason != "revoked_by_client" {
			t.Fatalf("entry %+v", *e)
		}
	})
	t.Run("RepeatedAuthFailure", func(t *testing.T) {
		if err := f.core.RecordAuthFailures(ctx, f.svc.ID, "address:192.0.2.7", "oauth"); err != nil {
			t.Fatal(err)
		}
		e := f.latest(t)
		if e.Action != tokend.AuditAuthFailures || e.Actor != "address:192.0.2.7" || e.ServiceID != f.svc.ID || !strings.Contains(e.Reason, "oauth") {
			t.Fatalf("entry %+v", *e)
		}
	})
}

func TestListAuditAccess(t *testing.T) {
	f := MustFixture(t)
	ctx := context.Background()
	other, err := f.core.CreateService(ctx, f.org, tokend.ServiceInput{Name: ptr("other")})
	if err != nil {
		t.Fatal(err)
	}
	f.MustIssue(t, "alice", "read")
	keyOf := func(sid int64, perms ...tokend.Permission) *tokend.Principal {
		_, raw, err := f.core.CreateKey(ctx, f.org, sid, tokend.KeyInput{Name: "k", Permissions: perms})
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.core.AuthenticateKey(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	svcReader := keyOf(f.svc.ID, tokend.PermAuditRead)
	tokensOnly := keyOf(f.svc.ID, tokend.PermTokensRead)

	t.Run("OKServiceKeySeesItsService", func(t *testing.T) {
		l, err := f.core.ListAudit(ctx, svcReader, tokend.AuditQuery{ServiceID: f.svc.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Entries) == 0 {
			t.Fatal("no entries")
		}
		for _, e := range l.Entries {
			if e.ServiceID != f.svc.ID {
				t.Fatalf("entry of service %d shown to a key of %d", e.ServiceID, f.svc.ID)
			}
		}
	})
	t.Run("ErrNotFoundOtherService", func(t *testing.T) {
		_, err := f.core.ListAudit(ctx, svcReader, tokend.AuditQuery{ServiceID: other.ID})
		wantCode(t, err, tokend.ENOTFOUND, "")
	})
	t.Run("ErrForbiddenAllServicesForServiceKey", func(t *testing.T) {
		_, err := f.core.ListAudit(ctx, svcReader, tokend.AuditQuery{})
		wantCode(t, err, tokend.EFORBIDDEN, "")
	})
	t.Run("ErrForbiddenWithoutPermission", func(t *testing.T) {
		_, err := f.core.ListAudit(ctx, tokensOnly, tokend.AuditQuery{ServiceID: f.svc.ID})
		wantCode(t, err, tokend.EFORBIDDEN, "")
	})
	t.Run("ErrUnknownAction", func(t *testing.T) {
		_, err := f.core.ListAudit(ctx, f.org, tokend.AuditQuery{Action: "token.explode"})
		wantCode(t, err, tokend.EINVALID, "action")
	})
	t.Run("ErrPageSize", func(t *testing.T) {
		_, err := f.core.ListAudit(ctx, f.org, tokend.AuditQuery{PageSize: tokend.MaxPageSize + 1})
		wantCode(t, err, tokend.EINVALID, "page_size")
	})
	t.Run("Paging", func(t *testing.T) {
		all := f.auditLog(t)
		for _, asc := range []bool{false, true} {
			var seen []int64
			q := tokend.AuditQuery{PageSize: 2, Ascending: asc}
			for {
				l, err := f.core.ListAudit(ctx, f.org, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range l.Entries {
					seen = append(seen, e.ID)
				}
				if l.NextPageToken == "" {
					break
				}
				q.PageToken = l.NextPageToken
			}
			if len(seen) != len(all) {
				t.Fatalf("ascending=%v: paged %d entries, want %d", asc, len(seen), len(all))
			}
			for i := 1; i < len(seen); i++ {
				if (seen[i] > seen[i-1]) != asc {
					t.Fatalf("ascending=%v: ids out of order: %v", asc, seen)
				}
			}
		}
	})
	t.Run("ErrPageTokenOtherOrder", func(t *testing.T) {
		l, err := f.core.ListAudit(ctx, f.org, tokend.AuditQuery{PageSize: 1})
		if err != nil || l.NextPageToken == "" {
			t.Fatalf("%v %v", l, err)
		}
		_, err = f.core.ListAudit(ctx, f.org, tokend.AuditQuery{PageSize: 1, PageToken: l.NextPageToken, Ascending: true})
		wantCode(t, err, tokend.EINVALID, "page_token")
		_, err = f.core.ListAudit(ctx, f.org, tokend.AuditQuery{PageSize: 1, PageToken: l.NextPageToken[:len(l.NextPageToken)-2] + "AA"})
		wantCode(t, err, tokend.EINVALID, "page_token")
	})
}
