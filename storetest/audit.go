package storetest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// entry is an audit entry for tests, timed at t0 plus i milliseconds.
func entry(i int, sid int64, action tokend.AuditAction, targetType, targetID string) tokend.AuditEntry {
	return tokend.AuditEntry{
		Time: t0.Add(time.Duration(i) * time.Millisecond), ServiceID: sid, Actor: "key:" + strconv.Itoa(i%3+1),
		Action: action, TargetType: targetType, TargetID: targetID, Subject: fmt.Sprintf("subject-%d", i%2), Reason: "because",
	}
}

func listAudit(tb testing.TB, s tokend.Store, f tokend.AuditFilter) []*tokend.AuditEntry {
	tb.Helper()
	if f.Limit == 0 {
		f.Limit = 1000
	}
	page, err := s.ListAudit(tb.Context(), f)
	mustNoErr(tb, err, "ListAudit")
	return page.Entries
}

// audited returns a context carrying one entry, and the entry.
func audited(ctx context.Context, sid int64, action tokend.AuditAction, targetType, targetID string) (context.Context, tokend.AuditEntry) {
	e := tokend.AuditEntry{Time: t0, ServiceID: sid, Actor: "key:9", Action: action, TargetType: targetType, TargetID: targetID, Reason: string(action)}
	return tokend.WithAudit(ctx, e), e
}

// lastAudit returns the newest entry with the given action, or nil.
func lastAudit(tb testing.TB, s tokend.Store, action tokend.AuditAction) *tokend.AuditEntry {
	tb.Helper()
	got := listAudit(tb, s, tokend.AuditFilter{Action: action, Limit: 1})
	if len(got) == 0 {
		return nil
	}
	return got[0]
}

func countAudit(tb testing.TB, s tokend.Store) int {
	tb.Helper()
	return len(listAudit(tb, s, tokend.AuditFilter{Limit: 100000}))
}

func testAudit(t *testing.T, s tokend.Store) {
	ctx := t.Context()

	t.Run("AppendAndFilter", func(t *testing.T) {
		var want []tokend.AuditEntry
		for i := range 12 {
			sid := int64(501 + i%2)
			if i == 11 {
				sid = 0 // the organization's own
			}
			want = append(want, entry(i, sid, tokend.AuditTokenRevoke, tokend.TargetToken, strconv.Itoa(100+i)))
		}
		mustNoErr(t, s.AppendAudit(ctx, want...), "AppendAudit")
		all := listAudit(t, s, tokend.AuditFilter{})
		if len(all) != len(want) {
			t.Fatalf("ListAudit returned %d entries, want %d", len(all), len(want))
		}
		for i, got := range all {
			w := want[len(want)-1-i] // newest first
			w.ID = got.ID
			mustEqual(t, "entry", *got, w)
			if i > 0 && got.ID >= all[i-1].ID {
				t.Fatalf("ids do not decrease: %d after %d", got.ID, all[i-1].ID)
			}
		}
		sid := int64(501)
		org := int64(0)
		cases := []struct {
			name string
			f    tokend.AuditFilter
			want int
		}{
			{"Service", tokend.AuditFilter{ServiceID: &sid}, 6},
			{"Organization", tokend.AuditFilter{ServiceID: &org}, 1},
			{"Actor", tokend.AuditFilter{Actor: "key:1"}, 4},
			{"Action", tokend.AuditFilter{Action: tokend.AuditTokenRevoke}, 12},
			{"OtherAction", tokend.AuditFilter{Action: tokend.AuditKeyCreate}, 0},
			{"Target", tokend.AuditFilter{TargetType: tokend.TargetToken, TargetID: "103"}, 1},
			{"Subject", tokend.AuditFilter{Subject: "subject-1"}, 6},
			{"SinceUntil", tokend.AuditFilter{Since: t0.Add(2 * time.Millisecond), Until: t0.Add(5 * time.Millisecond)}, 3},
			{"Combined", tokend.AuditFilter{ServiceID: &sid, Subject: "subject-0"}, 6},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if got := listAudit(t, s, c.f); len(got) != c.want {
					t.Fatalf("%d entries, want %d", len(got), c.want)
				}
			})
		}
		t.Run("PagingDescending", func(t *testing.T) {
			var seen []int64
			f := tokend.AuditFilter{Limit: 5}
			for {
				page, err := s.ListAudit(ctx, f)
				mustNoErr(t, err, "ListAudit")
				for _, e := range page.Entries {
					seen = append(seen, e.ID)
				}
				if !page.More {
					break
				}
				f.BeforeID = page.Entries[len(page.Entries)-1].ID
			}
			mustEqual(t, "paged ids", seen, idsOf(all))
		})
		t.Run("PagingAscending", func(t *testing.T) {
			var seen []int64
			f := tokend.AuditFilter{Limit: 5, Ascending: true}
			for {
				page, err := s.ListAudit(ctx, f)
				mustNoErr(t, err, "ListAudit")
				for _, e := range page.Entries {
					seen = append(seen, e.ID)
				}
				if !page.More {
					break
				}
				f.AfterID = page.Entries[len(page.Entries)-1].ID
			}
			rev := idsOf(all)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			mustEqual(t, "paged ids", seen, rev)
		})
	})

	// Every write method records the entries its context carries, in the
	// same transaction: after a successful write they are there.
	t.Run("RidesOnEveryWrite", func(t *testing.T) {
		svcID := int64(511)
		svc := &tokend.Service{ID: svcID, ScopesSupported: []string{}, GrantTypesSupported: []tokend.GrantType{}, CreatedAt: t0, UpdatedAt: t0}
		type step struct {
			action tokend.AuditAction
			target string // the TargetID the entry is written with; "" for creates
			write  func(ctx context.Context) error
			wantID func() string // the TargetID the store must have recorded
		}
		var (
			tok  = fullToken(svcID, 1, "alice")
			key  = &tokend.Key{ServiceID: svcID, Name: "k", Permissions: []tokend.Permission{tokend.PermAll}, Hash: newHash(), CreatedAt: t0}
			user = &tokend.User{ServiceID: svcID, Username: "bob", PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
			cl   *tokend.Client
			imp  = []*tokend.Token{fullToken(svcID, 1, "carol")}
			tok2 = fullToken(svcID, 1, "dave")
		)
		steps := []step{
			{tokend.AuditServiceCreate, "511", func(ctx context.Context) error { return s.CreateService(ctx, svc) }, nil},
			{tokend.AuditServiceUpdate, "511", func(ctx context.Context) error {
				_, err := s.UpdateService(ctx, svcID, func(sv *tokend.Service) error { sv.Name = "renamed"; return nil })
				return err
			}, nil},
			{tokend.AuditClientCreate, "5111", func(ctx context.Context) error {
				cl = &tokend.Client{ID: 5111, ServiceID: svcID, ClientID: "c", Type: tokend.ClientPublic, CreatedAt: t0, UpdatedAt: t0}
				return s.CreateClient(ctx, cl)
			}, nil},
			{tokend.AuditClientUpdate, "5111", func(ctx context.Context) error {
				_, err := s.UpdateClient(ctx, 5111, func(c *tokend.Client) error { c.Name = "n"; return nil })
				return err
			}, nil},
			{tokend.AuditKeyCreate, "", func(ctx context.Context) error { return s.CreateKey(ctx, key) },
				func() string { return strconv.FormatInt(key.ID, 10) }},
			{tokend.AuditTokenCreate, "", func(ctx context.Context) error { return s.CreateToken(ctx, tok) },
				func() string { return strconv.FormatInt(tok.ID, 10) }},
			{tokend.AuditTokenUpdate, "tok", func(ctx context.Context) error {
				_, err := s.UpdateToken(ctx, tok.ID, func(t *tokend.Token) error { t.AccountID = "changed"; return nil })
				return err
			}, nil},
			{tokend.AuditTokenImport, "batch-1", func(ctx context.Context) error { return s.ImportTokens(ctx, imp) }, nil},
			{tokend.AuditRefreshReuse, "grant", func(ctx context.Context) error {
				_, err := s.RotateRefreshToken(ctx, tok.RefreshHash, tokend.RetiredRefresh{Hash: tok.RefreshHash, RetiredAt: t0},
					func(t *tokend.Token) error { t.RefreshHash = newHash(); return nil })
				return err
			}, nil},
			{tokend.AuditTokenRevoke, "tok", func(ctx context.Context) error {
				_, err := s.RevokeTokens(ctx, tokend.RevokeFilter{ServiceID: svcID, TokenID: tok.ID}, t0, "r")
				return err
			}, nil},
			{tokend.AuditTokenCreate, "code", func(ctx context.Context) error {
				return s.CreateAuthorizationCode(ctx, fullCode(svcID, 5111))
			}, nil},
			{tokend.AuditUserCreate, "bob", func(ctx context.Context) error { return s.CreateUser(ctx, user) }, nil},
			{tokend.AuditUserUpdate, "bob", func(ctx context.Context) error {
				_, err := s.UpdateUser(ctx, svcID, "bob", func(u *tokend.User) error { u.AccountID = "a"; return nil })
				return err
			}, nil},
			{tokend.AuditUserDelete, "bob", func(ctx context.Context) error { return s.DeleteUser(ctx, svcID, "bob") }, nil},
			{tokend.AuditTokenDelete, "tok2", func(ctx context.Context) error {
				if err := s.CreateToken(tokend.WithoutAudit(ctx), tok2); err != nil {
					return err
				}
				return s.DeleteToken(ctx, tok2.ID)
			}, nil},
			{tokend.AuditKeyDelete, "key", func(ctx context.Context) error { return s.DeleteKey(ctx, key.ID) }, nil},
			{tokend.AuditClientDelete, "5111", func(ctx context.Context) error { return s.DeleteClient(ctx, 5111, t0, "client_deleted") }, nil},
			{tokend.AuditServiceDelete, "511", func(ctx context.Context) error { return s.DeleteService(ctx, svcID) }, nil},
		}
		for i, st := range steps {
			t.Run(fmt.Sprintf("%02d_%s", i, st.action), func(t *testing.T) {
				before := countAudit(t, s)
				actx, e := audited(ctx, svcID, st.action, tokend.TargetToken, st.target)
				e.Reason = fmt.Sprintf("step %d", i)
				actx = tokend.WithAudit(actx, e)
				mustNoErr(t, st.write(actx), "write")
				if n := countAudit(t, s); n != before+1 {
					t.Fatalf("%d entries after the write, want %d", n, before+1)
				}
				got := listAudit(t, s, tokend.AuditFilter{Limit: 1})[0]
				want := e
				want.ID = got.ID
				if st.wantID != nil {
					want.TargetID = st.wantID()
				}
				mustEqual(t, "entry", *got, want)
			})
		}
		t.Run("OutlivesItsService", func(t *testing.T) {
			if n := len(listAudit(t, s, tokend.AuditFilter{ServiceID: &svcID})); n != len(steps) {
				t.Fatalf("%d entries of the deleted service, want %d", n, len(steps))
			}
		})
	})

	// A write that fails records nothing: the entry and the change are one.
	t.Run("NothingOnFailure", func(t *testing.T) {
		svc := mustService(t, s, 521)
		tok := mustToken(t, s, fullToken(svc.ID, 1, "alice"))
		failing := []struct {
			name  string
			write func(ctx context.Context) error
		}{
			{"CreateTokenConflict", func(ctx context.Context) error {
				dup := fullToken(svc.ID, 1, "bob")
				dup.AccessHash = tok.AccessHash
				return s.CreateToken(ctx, dup)
			}},
			{"ImportConflict", func(ctx context.Context) error {
				dup := fullToken(svc.ID, 1, "bob")
				dup.RefreshHash = tok.RefreshHash
				return s.ImportTokens(ctx, []*tokend.Token{fullToken(svc.ID, 1, "x"), dup})
			}},
			{"UpdateAborted", func(ctx context.Context) error {
				_, err := s.UpdateToken(ctx, tok.ID, func(*tokend.Token) error { return errAbort })
				return err
			}},
			{"UpdatePanicked", func(ctx context.Context) (err error) {
				defer func() {
					if recover() != nil {
						err = errAbort
					}
				}()
				_, err = s.UpdateToken(ctx, tok.ID, func(t *tokend.Token) error { t.Subject = "changed"; panic("boom") })
				return err
			}},
			{"RotateUnknown", func(ctx context.Context) error {
				_, err := s.RotateRefreshToken(ctx, newHash(), tokend.RetiredRefresh{RetiredAt: t0}, func(*tokend.Token) error { return nil })
				return err
			}},
			{"DeleteMissing", func(ctx context.Context) error { return s.DeleteToken(ctx, 1<<40) }},
			{"ServiceConflict", func(ctx context.Context) error {
				return s.CreateService(ctx, &tokend.Service{ID: svc.ID, CreatedAt: t0, UpdatedAt: t0})
			}},
			{"RevokeNoFilter", func(ctx context.Context) error {
				_, err := s.RevokeTokens(ctx, tokend.RevokeFilter{ServiceID: svc.ID}, t0, "r")
				return err
			}},
		}
		for _, f := range failing {
			t.Run(f.name, func(t *testing.T) {
				before := countAudit(t, s)
				actx, _ := audited(ctx, svc.ID, tokend.AuditTokenUpdate, tokend.TargetToken, "x")
				if err := f.write(actx); err == nil {
					t.Fatal("the write succeeded")
				}
				if n := countAudit(t, s); n != before {
					t.Fatalf("a failed write left %d audit entries", n-before)
				}
			})
		}
		mustEqual(t, "token after failed writes", mustGetToken(t, s, tok.ID), tok)
	})

	t.Run("ReadsIgnoreEntries", func(t *testing.T) {
		before := countAudit(t, s)
		actx, _ := audited(ctx, 0, tokend.AuditTokenUpdate, tokend.TargetToken, "x")
		_, _ = s.ListServices(actx)
		_, _ = s.GetTokenByAccessHash(actx, newHash())
		_, _ = s.ListAudit(actx, tokend.AuditFilter{Limit: 1})
		if n := countAudit(t, s); n != before {
			t.Fatalf("reads wrote %d entries", n-before)
		}
	})

	// Concurrent audited writes (group commit puts many in one
	// transaction): each write brings exactly its own entry.
	t.Run("ConcurrentWrites", func(t *testing.T) {
		svc := mustService(t, s, 531)
		sid := svc.ID
		before := len(listAudit(t, s, tokend.AuditFilter{ServiceID: &sid, Limit: 10000}))
		const n = 40
		var wg sync.WaitGroup
		errs := make([]error, n)
		toks := make([]*tokend.Token, n)
		for i := range n {
			wg.Go(func() {
				toks[i] = fullToken(sid, 1, "crowd")
				actx, _ := audited(ctx, sid, tokend.AuditTokenCreate, tokend.TargetToken, "")
				errs[i] = s.CreateToken(actx, toks[i])
			})
		}
		wg.Wait()
		for _, err := range errs {
			mustNoErr(t, err, "CreateToken")
		}
		got := listAudit(t, s, tokend.AuditFilter{ServiceID: &sid, Limit: 10000})
		if len(got)-before != n {
			t.Fatalf("%d entries for %d writes", len(got)-before, n)
		}
		ids := map[string]bool{}
		for _, e := range got {
			ids[e.TargetID] = true
		}
		for _, tk := range toks {
			if !ids[strconv.FormatInt(tk.ID, 10)] {
				t.Errorf("no entry names token %d", tk.ID)
			}
		}
	})
}

func idsOf(es []*tokend.AuditEntry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}
