package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func testToken(serviceID int64, h byte) *tokend.Token {
	return &tokend.Token{ServiceID: serviceID, ClientID: 1, GrantType: tokend.GrantClientCredentials,
		AccessHash: tokend.Hash{h, 1}, Scopes: []string{"read"}, CreatedAt: time.UnixMilli(1).UTC(),
		AccessExpiresAt: time.UnixMilli(2).UTC()}
}

// TestReturnedWriteIsInTheFile checks that a write is committed before its
// call returns: a copy of the files taken right after the calls, with the
// store still open (as a crash would leave them: no checkpoint, no Close),
// holds every token. synchronous=FULL (TestPragmas) makes that commit reach
// the disk before it returns, which a test cannot cut the power to check.
func TestReturnedWriteIsInTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokend.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateService(t.Context(), &tokend.Service{ID: 1, CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	toks := make([]*tokend.Token, 200)
	var wg sync.WaitGroup
	for i := range toks {
		toks[i] = testToken(1, byte(i))
		wg.Go(func() {
			if err := s.CreateToken(t.Context(), toks[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := s.RevokeTokens(t.Context(), tokend.RevokeFilter{ServiceID: 1, TokenID: toks[7].ID}, time.UnixMilli(9), "gone"); err != nil {
		t.Fatal(err)
	}
	crash := filepath.Join(dir, "crash")
	if err := os.Mkdir(crash, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal"} {
		copyFile(t, path+suffix, filepath.Join(crash, "tokend.db"+suffix))
	}
	c, err := Open(t.Context(), filepath.Join(crash, "tokend.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, want := range toks {
		got, err := c.GetTokenByAccessHash(t.Context(), want.AccessHash)
		if err != nil {
			t.Fatalf("token %d lost: %v", i, err)
		}
		if got.ID != want.ID {
			t.Fatalf("token %d has id %d, want %d", i, got.ID, want.ID)
		}
		if (i == 7) != !got.RevokedAt.IsZero() {
			t.Fatalf("token %d: revoked at %v", i, got.RevokedAt)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// blockWriter holds the writer inside a request until release is closed,
// so that requests queue behind it.
func blockWriter(t *testing.T, s *Store) (release func(), done <-chan error) {
	entered, unblock := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.inTx(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			close(entered)
			<-unblock
			return nil
		})
	}()
	<-entered
	return func() { close(unblock) }, errc
}

// waitQueued waits until n requests wait in the writer's queue.
func waitQueued(t *testing.T, s *Store, n int) {
	deadline := time.Now().Add(10 * time.Second)
	for len(s.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", len(s.reqs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCanceledBeforeItsTurnWritesNothing(t *testing.T) {
	s := mustOpen(t)
	if err := s.CreateService(t.Context(), &tokend.Service{ID: 1, CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	release, blocked := blockWriter(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 2)
	tok, kept := testToken(1, 1), testToken(1, 2)
	go func() { errc <- s.CreateToken(ctx, tok) }()
	waitQueued(t, s, 1)
	go func() { errc <- s.CreateToken(t.Context(), kept) }()
	waitQueued(t, s, 2)
	cancel()
	// The canceled caller returns without waiting for the writer.
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled CreateToken: %v, want context.Canceled", err)
	}
	release()
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("the request queued beside it: %v", err)
	}
	if _, err := s.GetTokenByAccessHash(t.Context(), tok.AccessHash); tokend.ErrorCode(err) != tokend.ENOTFOUND {
		t.Fatalf("canceled token: %v, want it not stored", err)
	}
	if _, err := s.GetTokenByAccessHash(t.Context(), kept.AccessHash); err != nil {
		t.Fatalf("the other token: %v", err)
	}
}

// A caller whose context ends while its work runs gets the outcome: the
// write is committed, and saying otherwise would make it retry a success.
func TestCanceledDuringItsTurnGetsTheResult(t *testing.T) {
	s := mustOpen(t)
	if err := s.CreateService(t.Context(), &tokend.Service{ID: 1, CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	tok := testToken(1, 1)
	if err := s.CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	got, err := s.UpdateToken(ctx, tok.ID, func(t *tokend.Token) error {
		cancel()
		t.RevokedReason = "changed"
		return nil
	})
	if err != nil || got.RevokedReason != "changed" {
		t.Fatalf("UpdateToken = %v, %v; want the committed token", got, err)
	}
	if stored, err := s.GetToken(t.Context(), tok.ID); err != nil || stored.RevokedReason != "changed" {
		t.Fatalf("stored token %v, %v", stored, err)
	}
}

// A request that fails, or panics, is rolled back alone; the ones grouped
// with it commit.
func TestFailingRequestLeavesTheGroup(t *testing.T) {
	s := mustOpen(t)
	if err := s.CreateService(t.Context(), &tokend.Service{ID: 1, CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	base := testToken(1, 9)
	if err := s.CreateToken(t.Context(), base); err != nil {
		t.Fatal(err)
	}
	release, blocked := blockWriter(t, s)
	errAbort := errors.New("abort")
	type result struct {
		name string
		err  error
		pnc  any
	}
	results := make(chan result, 4)
	run := func(name string, fn func() error) {
		go func() {
			defer func() {
				if v := recover(); v != nil {
					results <- result{name, nil, v}
				}
			}()
			results <- result{name, fn(), nil}
		}()
	}
	first, last := testToken(1, 1), testToken(1, 2)
	run("first", func() error { return s.CreateToken(t.Context(), first) })
	waitQueued(t, s, 1)
	run("fails", func() error {
		_, err := s.UpdateToken(t.Context(), base.ID, func(t *tokend.Token) error {
			t.RevokedReason = "must not stay"
			return errAbort
		})
		return err
	})
	waitQueued(t, s, 2)
	run("panics", func() error {
		_, err := s.UpdateToken(t.Context(), base.ID, func(t *tokend.Token) error {
			t.RevokedReason = "must not stay either"
			panic("boom")
		})
		return err
	})
	waitQueued(t, s, 3)
	run("last", func() error { return s.CreateToken(t.Context(), last) })
	waitQueued(t, s, 4)
	release()
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	for range 4 {
		r := <-results
		switch r.name {
		case "first", "last":
			if r.err != nil || r.pnc != nil {
				t.Errorf("%s: %v, %v", r.name, r.err, r.pnc)
			}
		case "fails":
			if r.err != errAbort {
				t.Errorf("fails: %v, want the update's error", r.err)
			}
		case "panics":
			if r.pnc != "boom" {
				t.Errorf("panics: recovered %v, want the update's panic in the caller", r.pnc)
			}
		}
	}
	if got, err := s.GetToken(t.Context(), base.ID); err != nil || got.RevokedReason != "" {
		t.Fatalf("failed updates left %v, %v", got, err)
	}
	for _, tok := range []*tokend.Token{first, last} {
		if _, err := s.GetTokenByAccessHash(t.Context(), tok.AccessHash); err != nil {
			t.Fatalf("token grouped with a failure: %v", err)
		}
	}
}

func TestImportTokens(t *testing.T) {
	s := mustOpen(t)
	ctx := t.Context()
	if err := s.CreateService(ctx, &tokend.Service{ID: 1, CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	first := seedToken(1, 0)
	if err := s.CreateToken(ctx, first); err != nil {
		t.Fatal(err)
	}
	// More than one statement's worth, with a remainder.
	var toks []*tokend.Token
	for i := 1; i <= 2*importRows+7; i++ {
		toks = append(toks, seedToken(1, i))
	}
	toks[3].GrantID = first.ID
	if err := s.ImportTokens(ctx, toks); err != nil {
		t.Fatal(err)
	}
	for i, tok := range toks {
		if tok.ID != first.ID+1+int64(i) {
			t.Fatalf("token %d got id %d, want %d", i, tok.ID, first.ID+1+int64(i))
		}
		got, err := s.GetTokenByRefreshHash(ctx, tok.RefreshHash)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != tok.ID || got.GrantID != tok.GrantID || got.Subject != tok.Subject {
			t.Fatalf("token %d read back as %+v, want %+v", i, got, tok)
		}
	}
	if toks[3].GrantID != first.ID || toks[4].GrantID != toks[4].ID {
		t.Fatalf("grant ids %d, %d", toks[3].GrantID, toks[4].GrantID)
	}
	count := func() (n int) {
		if err := s.read.QueryRow(`SELECT count(*) FROM tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	// All or nothing: a conflict anywhere stores none and changes none.
	for _, c := range []struct {
		name  string
		field string
		make  func([]*tokend.Token)
	}{
		{"stored access hash", "access_token", func(b []*tokend.Token) { b[300].AccessHash = toks[5].AccessHash }},
		{"stored refresh hash", "refresh_token", func(b []*tokend.Token) { b[1].RefreshHash = first.RefreshHash }},
		{"access hash given twice", "access_token", func(b []*tokend.Token) { b[299].AccessHash = b[2].AccessHash }},
		{"refresh hash given twice", "refresh_token", func(b []*tokend.Token) { b[9].RefreshHash = b[8].RefreshHash }},
		{"unknown service", "", func(b []*tokend.Token) { b[280].ServiceID = 99 }},
		{"invalid", "grant_type", func(b []*tokend.Token) { b[7].GrantType = "nope" }},
	} {
		var batch []*tokend.Token
		for i := range 301 {
			batch = append(batch, seedToken(1, 10_000+i))
		}
		c.make(batch)
		err := s.ImportTokens(ctx, batch)
		if err == nil {
			t.Fatalf("%s: imported", c.name)
		}
		var e *tokend.Error
		if !errors.As(err, &e) || (c.field != "" && e.Field != c.field) {
			t.Fatalf("%s: %v, want a domain error on %q", c.name, err, c.field)
		}
		if n := count(); n != before {
			t.Fatalf("%s: %d tokens stored, want %d", c.name, n, before)
		}
		for _, tok := range batch {
			if tok.ID != 0 {
				t.Fatalf("%s: a failed import set an id", c.name)
			}
		}
	}
	// Ids continue after the imported ones, never reusing them.
	next := seedToken(1, 20_000)
	if err := s.CreateToken(ctx, next); err != nil {
		t.Fatal(err)
	}
	if want := toks[len(toks)-1].ID + 1; next.ID != want {
		t.Fatalf("next id %d, want %d", next.ID, want)
	}
}

// An import runs in a transaction of its own between groups: a failing one
// takes nothing of the creates queued around it with it.
func TestImportBesideCreates(t *testing.T) {
	s := mustOpen(t)
	ctx := t.Context()
	if err := s.CreateService(ctx, &tokend.Service{ID: 1, CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	taken := seedToken(1, 0)
	if err := s.CreateToken(ctx, taken); err != nil {
		t.Fatal(err)
	}
	release, blocked := blockWriter(t, s)
	errc := make(chan error, 3)
	before, after := seedToken(1, 1), seedToken(1, 2)
	go func() { errc <- s.CreateToken(ctx, before) }()
	waitQueued(t, s, 1)
	bad := []*tokend.Token{seedToken(1, 3), seedToken(1, 4)}
	bad[1].RefreshHash = taken.RefreshHash
	go func() { errc <- s.ImportTokens(ctx, bad) }()
	waitQueued(t, s, 2)
	go func() { errc <- s.CreateToken(ctx, after) }()
	waitQueued(t, s, 3)
	release()
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	var failed int
	for range 3 {
		if err := <-errc; err != nil {
			if tokend.ErrorCode(err) != tokend.ECONFLICT {
				t.Fatalf("got %v", err)
			}
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d calls failed, want the import alone", failed)
	}
	for _, tok := range []*tokend.Token{before, after} {
		if _, err := s.GetTokenByAccessHash(ctx, tok.AccessHash); err != nil {
			t.Fatalf("create beside the import: %v", err)
		}
	}
	if _, err := s.GetTokenByAccessHash(ctx, bad[0].AccessHash); tokend.ErrorCode(err) != tokend.ENOTFOUND {
		t.Fatalf("a token of the failed import: %v", err)
	}
}
