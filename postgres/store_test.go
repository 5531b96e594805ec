package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	neturl "net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/pgtest"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

var hashSeq atomic.Uint64

func newHash() tokend.Hash {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], hashSeq.Add(1)|1<<60)
	return sha256.Sum256(b[:])
}

// openOn opens another store (another node) on the database at url.
func openOn(tb testing.TB, url string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func mustService(tb testing.TB, s *Store, id int64) *tokend.Service {
	tb.Helper()
	sv := &tokend.Service{ID: id, Name: "s", ScopesSupported: []string{}, GrantTypesSupported: []tokend.GrantType{}, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateService(context.Background(), sv); err != nil {
		tb.Fatal(err)
	}
	return sv
}

func mustToken(tb testing.TB, s *Store, serviceID, clientID int64, subject string) *tokend.Token {
	tb.Helper()
	t := &tokend.Token{ServiceID: serviceID, ClientID: clientID, Subject: subject, GrantType: tokend.GrantAuthorizationCode,
		AccessHash: newHash(), RefreshHash: newHash(), Scopes: []string{"read"}, CreatedAt: t0,
		AccessExpiresAt: t0.Add(time.Hour), RefreshExpiresAt: t0.Add(24 * time.Hour)}
	if err := s.CreateToken(context.Background(), t); err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestMigratesOnceWhenNodesStartTogether(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const nodes = 4
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	stores := make([]*Store, nodes)
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	ms, err := listMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(ms) {
		t.Fatalf("%d migrations recorded, want %d", applied, len(ms))
	}
	for i, s := range stores {
		if v, err := s.SchemaVersion(t.Context()); err != nil || v != ms[len(ms)-1].Version {
			t.Fatalf("node %d: SchemaVersion = %d, %v; want %d", i, v, err, ms[len(ms)-1].Version)
		}
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := openOn(t, url)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, now())`); err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(t.Context(), url); err == nil {
		s2.Close()
		t.Fatal("opened a database migrated by a newer program")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("error %q does not say the schema is newer", err)
	}
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, url := range []string{
		"postgres://tokend:s3cret-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", // nothing listens on port 1
		"postgres://tokend:s3cret-pw@127.0.0.1:bad/db",                                 // unparsable
	} {
		s, err := Open(ctx, url)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%q) succeeded", url)
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Fatalf("Open's error shows the password: %v", err)
		}
	}
}

func TestUnavailableWhenTheDatabaseIsGone(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := openOn(t, url)
	mustService(t, s, 1)
	tok := mustToken(t, s, 1, 1, "alice")
	admin, err := pgx.Connect(t.Context(), pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if _, err := admin.Exec(t.Context(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetToken(t.Context(), tok.ID)
	if tokend.ErrorCode(err) != tokend.EUNAVAILABLE {
		t.Fatalf("GetToken = %v, want %s", err, tokend.EUNAVAILABLE)
	}
	err = s.CreateToken(t.Context(), &tokend.Token{ServiceID: 1, ClientID: 1, GrantType: tokend.GrantClientCredentials,
		AccessHash: newHash(), Scopes: []string{}, CreatedAt: t0, AccessExpiresAt: t0.Add(time.Hour)})
	if tokend.ErrorCode(err) != tokend.EUNAVAILABLE {
		t.Fatalf("CreateToken = %v, want %s", err, tokend.EUNAVAILABLE)
	}
	if strings.Contains(tokend.ErrorMessage(err), "tokend_test") {
		t.Fatalf("the caller's message names the database: %q", tokend.ErrorMessage(err))
	}
}

// Two stores on one database are two nodes with pools of their own: of
// concurrent rotations of one refresh token spread over both, exactly one
// wins, as within one node.
func TestRotationAcrossNodesHasOneWinner(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := openOn(t, url), openOn(t, url)
	mustService(t, a, 1)
	tok := mustToken(t, a, 1, 1, "alice")
	old := tok.RefreshHash
	const n = 40
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		node := a
		if i%2 == 1 {
			node = b
		}
		wg.Go(func() {
			<-start
			_, errs[i] = node.RotateRefreshToken(t.Context(), old, tokend.RetiredRefresh{Hash: old, RetiredAt: t0.Add(time.Duration(i) * time.Second)},
				func(cur *tokend.Token) error { cur.RefreshHash, cur.AccessHash = newHash(), newHash(); return nil })
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case tokend.ErrorCode(err) != tokend.ENOTFOUND:
			t.Fatalf("rotation %d: %v, want success or %s", i, err, tokend.ENOTFOUND)
		}
	}
	if won != 1 {
		t.Fatalf("%d rotations won, want exactly 1", won)
	}
}

// changeLog collects the changes a store delivers.
type changeLog struct {
	mu  sync.Mutex
	got []tokend.Change
	new chan struct{}
}

func newChangeLog() *changeLog { return &changeLog{new: make(chan struct{}, 1)} }

func (l *changeLog) add(ch tokend.Change) {
	l.mu.Lock()
	l.got = append(l.got, ch)
	l.mu.Unlock()
	select {
	case l.new <- struct{}{}:
	default:
	}
}

// waitFor returns once want has been delivered; it fails the test if it
// has not been within a generous bound, so that a lost notification fails
// rather than hangs.
func (l *changeLog) waitFor(tb testing.TB, want tokend.Change) {
	tb.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		for _, ch := range l.got {
			if ch == want {
				l.mu.Unlock()
				return
			}
		}
		got := append([]tokend.Change(nil), l.got...)
		l.mu.Unlock()
		select {
		case <-l.new:
		case <-deadline.C:
			tb.Fatalf("change %+v never delivered; got %+v", want, got)
		}
	}
}

func (l *changeLog) reset() {
	l.mu.Lock()
	l.got = nil
	l.mu.Unlock()
}

func TestChangesReachOtherNodes(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := openOn(t, url), openOn(t, url)
	fromB := newChangeLog()
	if err := b.OnChange(t.Context(), fromB.add); err != nil {
		t.Fatal(err)
	}
	fromA := newChangeLog()
	if err := a.OnChange(t.Context(), fromA.add); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	svc := mustService(t, a, 1)
	cl := &tokend.Client{ID: 5, ServiceID: svc.ID, ClientID: "c", Type: tokend.ClientPublic, CreatedAt: t0, UpdatedAt: t0}
	if err := a.CreateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	token := func(kind tokend.ChangeKind, tok *tokend.Token) tokend.Change {
		return tokend.Change{Kind: kind, ServiceID: tok.ServiceID, ID: tok.ID}
	}
	tests := []struct {
		name  string
		write func(t *testing.T) (want tokend.Change, err error)
	}{
		{"CreateService", func(t *testing.T) (tokend.Change, error) {
			return tokend.Change{Kind: tokend.ChangeService, ServiceID: 2},
				a.CreateService(ctx, &tokend.Service{ID: 2, CreatedAt: t0, UpdatedAt: t0})
		}},
		{"UpdateService", func(t *testing.T) (tokend.Change, error) {
			_, err := a.UpdateService(ctx, svc.ID, func(s *tokend.Service) error { s.Name = "renamed"; return nil })
			return tokend.Change{Kind: tokend.ChangeService, ServiceID: svc.ID}, err
		}},
		{"UpdateToken", func(t *testing.T) (tokend.Change, error) {
			tok := mustToken(t, a, svc.ID, cl.ID, "u")
			_, err := a.UpdateToken(ctx, tok.ID, func(t *tokend.Token) error { t.Subject = "v"; return nil })
			return token(tokend.ChangeToken, tok), err
		}},
		{"RotateRefreshToken", func(t *testing.T) (tokend.Change, error) {
			tok := mustToken(t, a, svc.ID, cl.ID, "r")
			_, err := a.RotateRefreshToken(ctx, tok.RefreshHash, tokend.RetiredRefresh{RetiredAt: t0},
				func(t *tokend.Token) error { t.RefreshHash = newHash(); return nil })
			return token(tokend.ChangeToken, tok), err
		}},
		{"RevokeOneToken", func(t *testing.T) (tokend.Change, error) {
			tok := mustToken(t, a, svc.ID, cl.ID, "o")
			_, err := a.RevokeTokens(ctx, tokend.RevokeFilter{ServiceID: svc.ID, TokenID: tok.ID}, t0, "r")
			return token(tokend.ChangeToken, tok), err
		}},
		{"RevokeBySubject", func(t *testing.T) (tokend.Change, error) {
			mustToken(t, a, svc.ID, cl.ID, "s")
			_, err := a.RevokeTokens(ctx, tokend.RevokeFilter{ServiceID: svc.ID, Subject: ptr("s")}, t0, "r")
			return tokend.Change{Kind: tokend.ChangeTokens, ServiceID: svc.ID}, err
		}},
		{"DeleteToken", func(t *testing.T) (tokend.Change, error) {
			tok := mustToken(t, a, svc.ID, cl.ID, "d")
			return token(tokend.ChangeToken, tok), a.DeleteToken(ctx, tok.ID)
		}},
		{"UpdateClient", func(t *testing.T) (tokend.Change, error) {
			_, err := a.UpdateClient(ctx, cl.ID, func(c *tokend.Client) error { c.Name = "n"; return nil })
			return tokend.Change{Kind: tokend.ChangeClient, ServiceID: svc.ID, ID: cl.ID}, err
		}},
		{"DeleteClientRevokesItsTokens", func(t *testing.T) (tokend.Change, error) {
			mustToken(t, a, svc.ID, cl.ID, "x")
			return tokend.Change{Kind: tokend.ChangeTokens, ServiceID: svc.ID}, a.DeleteClient(ctx, cl.ID, t0, tokend.ClientReason)
		}},
		{"DeleteService", func(t *testing.T) (tokend.Change, error) {
			return tokend.Change{Kind: tokend.ChangeAll, ServiceID: 2}, a.DeleteService(ctx, 2)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fromB.reset()
			want, err := tt.write(t)
			if err != nil {
				t.Fatal(err)
			}
			fromB.waitFor(t, want)
		})
	}
	t.Run("NotToTheWriterItself", func(t *testing.T) {
		fromA.mu.Lock()
		defer fromA.mu.Unlock()
		if len(fromA.got) != 0 {
			t.Fatalf("A was told of its own writes: %+v", fromA.got)
		}
	})
	t.Run("TheWriterWaitsForItsEcho", func(t *testing.T) {
		before := a.changes.echoed.Load()
		if _, err := a.UpdateService(ctx, svc.ID, func(s *tokend.Service) error { s.Name = "again"; return nil }); err != nil {
			t.Fatal(err)
		}
		// Already there when the call returns: the write waited for it.
		if got := a.changes.echoed.Load(); got != before+1 {
			t.Fatalf("%d echoes seen when the write returned, want %d", got, before+1)
		}
	})
	t.Run("ForeignPayloadDropsEverything", func(t *testing.T) {
		fromB.reset()
		if _, err := a.pool.Exec(ctx, `NOTIFY `+channelName); err != nil {
			t.Fatal(err)
		}
		fromB.waitFor(t, tokend.Change{Kind: tokend.ChangeAll})
	})
	t.Run("ReconnectDropsEverythingAndListensAgain", func(t *testing.T) {
		fromB.reset()
		// Cut B's listener off, as a restarting server or network would.
		var ok bool
		err := a.pool.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, b.changes.listenerPID.Load()).Scan(&ok)
		if err != nil || !ok {
			t.Fatalf("terminating B's listener: %v %v", ok, err)
		}
		fromB.waitFor(t, tokend.Change{Kind: tokend.ChangeAll})
		// Once back, B hears of A's writes again.
		if _, err := a.UpdateService(ctx, svc.ID, func(s *tokend.Service) error { s.Name = "back"; return nil }); err != nil {
			t.Fatal(err)
		}
		fromB.waitFor(t, tokend.Change{Kind: tokend.ChangeService, ServiceID: svc.ID})
	})
}

func TestPayloadRoundTrip(t *testing.T) {
	changes := []tokend.Change{
		{Kind: tokend.ChangeToken, ServiceID: 1_234_567_890_123, ID: 99},
		{Kind: tokend.ChangeTokens, ServiceID: 7},
		{Kind: tokend.ChangeToken, ServiceID: 1_234_567_890_123, ID: 99}, // sent once
	}
	node, seq, got, ok := decodeChanges(encodeChanges("abc", 42, changes))
	if !ok || node != "abc" || seq != 42 || len(got) != 2 || got[0] != changes[0] || got[1] != changes[1] {
		t.Fatalf("decoded %q %d %+v %v", node, seq, got, ok)
	}
	many := make([]tokend.Change, 2000)
	for i := range many {
		many[i] = tokend.Change{Kind: tokend.ChangeToken, ServiceID: 1, ID: int64(i)}
	}
	p := encodeChanges("abc", 1, many)
	if _, _, got, ok := decodeChanges(p); !ok || len(p) > maxPayload+64 || len(got) != 1 || got[0].Kind != tokend.ChangeAll {
		t.Fatalf("a change too big for one payload: %d bytes, %+v", len(p), got)
	}
	for _, bad := range []string{"", "hello", "v1 abc", "v1 abc x", "v1 abc 1 9:1:1", "v1 abc 1 1:x:1", "v1 abc 1 1:1"} {
		if _, _, _, ok := decodeChanges(bad); ok {
			t.Errorf("decoded %q", bad)
		}
	}
}
