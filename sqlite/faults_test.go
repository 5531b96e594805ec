package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// The store's answer to a failing disk: every write fails with
// EUNAVAILABLE (the surfaces answer 503), leaves nothing behind, and the
// store writes again as soon as the disk does, without a restart. The
// faults are SQLite's own errors, made on the writer connection: a
// read-only database (SQLITE_READONLY, what a file or mount turned
// read-only gives) and a full one (SQLITE_FULL, from a page limit, what a
// full disk gives). A failed fsync is TestFailedSyncStopsWrites.

// faultFixture is a store with a service, a client and a token with a
// refresh token, and everything the store holds, for comparing.
type faultFixture struct {
	s    *Store
	path string
	tok  *tokend.Token
}

var t1 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func mustFaultFixture(t *testing.T) *faultFixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokend.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateService(ctx, &tokend.Service{ID: 1, CreatedAt: t1, UpdatedAt: t1}))
	must(s.CreateClient(ctx, &tokend.Client{ID: 11, ServiceID: 1, ClientID: "app", Type: tokend.ClientConfidential, CreatedAt: t1, UpdatedAt: t1}))
	tok := &tokend.Token{ServiceID: 1, ClientID: 11, Subject: "alice", GrantType: tokend.GrantPassword, AccessHash: randomHash(t),
		RefreshHash: randomHash(t), Scopes: []string{"read"}, CreatedAt: t1, AccessExpiresAt: t1.Add(time.Hour), RefreshExpiresAt: t1.Add(24 * time.Hour)}
	must(s.CreateToken(ctx, tok))
	must(s.CreateKey(ctx, &tokend.Key{Name: "k", Permissions: []tokend.Permission{tokend.PermAll}, Hash: randomHash(t), CreatedAt: t1}))
	must(s.CreateUser(ctx, &tokend.User{ServiceID: 1, Username: "alice", PasswordHash: "h", CreatedAt: t1, UpdatedAt: t1}))
	return &faultFixture{s: s, path: path, tok: tok}
}

// contents is what the store holds, read through the Store interface.
func (f *faultFixture) contents(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	svcs, err1 := f.s.ListServices(ctx)
	cls, err2 := f.s.ListClients(ctx, tokend.ClientFilter{ServiceID: 1})
	keys, err3 := f.s.ListKeys(ctx, -1)
	toks, err4 := f.s.ListTokens(ctx, tokend.TokenFilter{ServiceID: 1, Status: tokend.StatusAll, OrderBy: tokend.OrderCreatedAt, Limit: 1000})
	users, err5 := f.s.ListUsers(ctx, 1, 0, 100)
	audit, err6 := f.s.ListAudit(ctx, tokend.AuditFilter{Limit: 1000})
	_, err7 := f.s.GetRetiredRefresh(ctx, f.tok.RefreshHash)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal([]any{svcs, cls, keys, toks.Tokens, users, audit.Entries, tokend.ErrorCode(err7)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writes calls every write method of the store once; each would succeed
// on a healthy disk.
func (f *faultFixture) writes(t *testing.T) map[string]error {
	ctx := tokend.WithAudit(context.Background(), tokend.AuditEntry{Time: t1, Actor: "key:1", Action: tokend.AuditTokenUpdate})
	s, id := f.s, f.tok.ID
	errs := map[string]error{}
	errs["CreateService"] = s.CreateService(ctx, &tokend.Service{ID: 2, CreatedAt: t1, UpdatedAt: t1})
	_, errs["UpdateService"] = s.UpdateService(ctx, 1, func(v *tokend.Service) error { v.Name = "x"; return nil })
	errs["CreateClient"] = s.CreateClient(ctx, &tokend.Client{ID: 12, ServiceID: 1, ClientID: "other", Type: tokend.ClientPublic, CreatedAt: t1, UpdatedAt: t1})
	_, errs["UpdateClient"] = s.UpdateClient(ctx, 11, func(c *tokend.Client) error { c.Name = "x"; return nil })
	errs["CreateKey"] = s.CreateKey(ctx, &tokend.Key{Name: "k2", Permissions: []tokend.Permission{tokend.PermAll}, Hash: randomHash(t), CreatedAt: t1})
	errs["CreateToken"] = s.CreateToken(ctx, &tokend.Token{ServiceID: 1, ClientID: 11, GrantType: tokend.GrantClientCredentials,
		AccessHash: randomHash(t), Scopes: []string{"read"}, CreatedAt: t1, AccessExpiresAt: t1.Add(time.Hour)})
	errs["ImportTokens"] = s.ImportTokens(ctx, []*tokend.Token{{ServiceID: 1, ClientID: 11, GrantType: tokend.GrantClientCredentials,
		AccessHash: randomHash(t), Scopes: []string{"read"}, CreatedAt: t1, AccessExpiresAt: t1.Add(time.Hour)}})
	_, errs["UpdateToken"] = s.UpdateToken(ctx, id, func(t *tokend.Token) error { t.AccountID = "x"; return nil })
	_, errs["RotateRefreshToken"] = s.RotateRefreshToken(ctx, f.tok.RefreshHash, tokend.RetiredRefresh{Hash: f.tok.RefreshHash, RetiredAt: t1},
		func(tk *tokend.Token) error { tk.RefreshHash = randomHash(t); tk.Minted = true; return nil })
	_, errs["RevokeTokens"] = s.RevokeTokens(ctx, tokend.RevokeFilter{ServiceID: 1, TokenID: id}, t1, "r")
	errs["CreateAuthorizationCode"] = s.CreateAuthorizationCode(ctx, &tokend.AuthorizationCode{Hash: randomHash(t), ServiceID: 1, ClientID: 11,
		Subject: "alice", RedirectURI: "https://x/cb", CreatedAt: t1, ExpiresAt: t1.Add(time.Minute)})
	errs["CreateUser"] = s.CreateUser(ctx, &tokend.User{ServiceID: 1, Username: "bob", PasswordHash: "h", CreatedAt: t1, UpdatedAt: t1})
	_, errs["UpdateUser"] = s.UpdateUser(ctx, 1, "alice", func(u *tokend.User) error { u.AccountID = "x"; return nil })
	errs["AppendAudit"] = s.AppendAudit(ctx, tokend.AuditEntry{Time: t1, Actor: "system", Action: tokend.AuditAuthFailures})
	errs["DeleteToken"] = s.DeleteToken(ctx, id)
	errs["DeleteUser"] = s.DeleteUser(ctx, 1, "alice")
	errs["DeleteClient"] = s.DeleteClient(ctx, 11, t1, "gone")
	errs["DeleteService"] = s.DeleteService(ctx, 1)
	return errs
}

// TestReadOnlyDatabase: with the database read-only every write fails
// with EUNAVAILABLE and changes nothing (the refresh token is not
// rotated), reads go on, and writes resume once it is writable again.
func TestReadOnlyDatabase(t *testing.T) {
	f := mustFaultFixture(t)
	before := f.contents(t)
	if _, err := f.s.write.ExecContext(t.Context(), "PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	for name, err := range f.writes(t) {
		if tokend.ErrorCode(err) != tokend.EUNAVAILABLE {
			t.Errorf("%s on a read-only database: %v, want EUNAVAILABLE", name, err)
		}
	}
	if after := f.contents(t); after != before {
		t.Fatalf("failed writes changed the store:\nbefore %s\nafter  %s", before, after)
	}
	if _, err := f.s.GetTokenByRefreshHash(t.Context(), f.tok.RefreshHash); err != nil {
		t.Fatalf("the refresh token is not usable after the failed rotation: %v", err)
	}
	if _, err := f.s.write.ExecContext(t.Context(), "PRAGMA query_only = 0"); err != nil {
		t.Fatal(err)
	}
	for name, err := range f.writes(t) {
		if err != nil {
			t.Errorf("%s once writable again: %v", name, err)
		}
	}
}

// TestDiskFull: with no room left, concurrent writes each either succeed
// (and are stored) or fail with EUNAVAILABLE (and are not): none is lost
// after its caller heard of it, none half-written; once there is room
// again, writes succeed without a restart.
func TestDiskFull(t *testing.T) {
	f := mustFaultFixture(t)
	ctx := t.Context()
	var pages int
	if err := f.s.write.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.write.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages+2)); err != nil {
		t.Fatal(err)
	}
	newToken := func() *tokend.Token {
		return &tokend.Token{ServiceID: 1, ClientID: 11, Subject: "crowd", GrantType: tokend.GrantPassword, AccessHash: randomHash(t),
			RefreshHash: randomHash(t), Scopes: []string{"read"}, CreatedAt: t1, AccessExpiresAt: t1.Add(time.Hour),
			RefreshExpiresAt: t1.Add(24 * time.Hour), Properties: []tokend.Property{{Key: "pad", Value: string(make([]byte, 1500))}}}
	}
	// Fill it: a bounded number of writes must hit the limit.
	full := false
	for range 200 {
		err := f.s.CreateToken(ctx, newToken())
		if err != nil {
			if tokend.ErrorCode(err) != tokend.EUNAVAILABLE {
				t.Fatalf("filling: %v, want EUNAVAILABLE", err)
			}
			full = true
			break
		}
	}
	if !full {
		t.Fatal("200 tokens of 1.5 KB fit in 2 pages: the page limit is not in force")
	}

	const n = 40
	toks := make([]*tokend.Token, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		toks[i] = newToken()
		wg.Go(func() {
			if i%4 == 0 {
				// A rotation among the inserts: it must not be half done.
				_, errs[i] = f.s.RotateRefreshToken(ctx, f.tok.RefreshHash, tokend.RetiredRefresh{Hash: f.tok.RefreshHash, RetiredAt: t1},
					func(tk *tokend.Token) error { tk.RefreshHash = toks[i].RefreshHash; return nil })
				return
			}
			errs[i] = f.s.CreateToken(ctx, toks[i])
		})
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if i%4 == 0 {
			continue
		}
		_, gerr := f.s.GetTokenByAccessHash(ctx, toks[i].AccessHash)
		switch {
		case err == nil && gerr != nil:
			t.Errorf("token %d: the write succeeded but the token is not stored: %v", i, gerr)
		case err != nil && tokend.ErrorCode(err) != tokend.EUNAVAILABLE:
			t.Errorf("token %d: %v, want EUNAVAILABLE", i, err)
		case err != nil && gerr == nil:
			t.Errorf("token %d: the write failed but the token is stored", i)
		case err != nil:
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no write failed on a full database")
	}
	// The rotation: either done (once) with its retired hash recorded, or
	// not at all, with the refresh token still usable.
	cur := mustGet(t, f.s, f.tok.ID)
	_, rerr := f.s.GetRetiredRefresh(ctx, f.tok.RefreshHash)
	rotated := cur.RefreshHash != f.tok.RefreshHash
	if rotated != (rerr == nil) {
		t.Fatalf("half a rotation: refresh hash changed %v, retired hash recorded %v", rotated, rerr == nil)
	}

	if _, err := f.s.write.ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CreateToken(ctx, newToken()); err != nil {
		t.Fatalf("with room again: %v", err)
	}
	var check string
	if err := f.s.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
}

func mustGet(t *testing.T, s *Store, id int64) *tokend.Token {
	t.Helper()
	tok, err := s.GetToken(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestBusyIsRetried: another process holding the write lock (a backup, an
// operator's sqlite3 shell) makes the writer wait and retry, up to
// busy_timeout (10 s), instead of failing the write at once.
func TestBusyIsRetried(t *testing.T) {
	f := mustFaultFixture(t)
	ctx := t.Context()
	other, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	tok := &tokend.Token{ServiceID: 1, ClientID: 11, GrantType: tokend.GrantClientCredentials, AccessHash: randomHash(t),
		Scopes: []string{"read"}, CreatedAt: t1, AccessExpiresAt: t1.Add(time.Hour)}
	go func() { done <- f.s.CreateToken(ctx, tok) }()
	select {
	case err := <-done:
		t.Fatalf("CreateToken returned (%v) while another connection held the write lock", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("CreateToken after the lock was released: %v", err)
	}
}
