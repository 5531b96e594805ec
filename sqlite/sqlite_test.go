package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/storetest"
)

// mustOpen opens a store in a fresh temporary directory and closes it when
// the test ends.
func mustOpen(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "tokend.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) tokend.Store { return mustOpen(t) })
}

// TestQueryPlans fails when a hot query would read the whole tokens table
// or sort its matches instead of walking an index in order.
func TestQueryPlans(t *testing.T) {
	s := mustOpen(t)
	now := time.Now()
	list := func(f tokend.TokenFilter) (string, []any) {
		f.ServiceID, f.Now, f.Limit = 1, now, 50
		q, args, err := listSQL(f)
		if err != nil {
			t.Fatal(err)
		}
		return q, args
	}
	cursor := &tokend.Cursor{Value: 1, ID: 1}
	type query struct {
		name  string
		table string
		sql   string
		args  []any
	}
	var cases []query
	add := func(name string, f tokend.TokenFilter) {
		q, args := list(f)
		cases = append(cases, query{name, "tokens", q, args})
	}
	h := make([]byte, 32)
	cases = append(cases,
		query{"ByAccessHash", "tokens", byAccessSQL, []any{h[:8], h}},
		query{"ByRefreshHash", "tokens", byRefreshSQL, []any{h[:8], h}},
		// Before every token insert and every update of one.
		query{"HashesTaken", "tokens", checkHashesSQL, []any{h[:8], h, h[:8], h, 1}},
		// Every refresh with a rotated-away value, and every code redemption.
		query{"RetiredByHash", "refresh_history", selectRetired, []any{h}},
		query{"CodeByHash", "authorization_codes", selectCode, []any{h}},
		// Every password grant without a callback.
		query{"UserByName", "users", selectUser, []any{1, "alice"}},
		query{"UsersPage", "users", listUsers, []any{1, 0, 50}},
	)
	for _, status := range []tokend.TokenStatus{tokend.StatusActive, tokend.StatusAll, tokend.StatusRevoked} {
		for _, desc := range []bool{false, true} {
			add(fmt.Sprintf("BySubject/%s/desc=%v", status, desc), tokend.TokenFilter{Subject: ptr("alice"), Status: status, Desc: desc})
			add(fmt.Sprintf("BySubjectAfterCursor/%s/desc=%v", status, desc), tokend.TokenFilter{Subject: ptr("alice"), Status: status, Desc: desc, After: cursor})
			add(fmt.Sprintf("ByClient/%s/desc=%v", status, desc), tokend.TokenFilter{ClientID: ptr(int64(7)), Status: status, Desc: desc})
			add(fmt.Sprintf("ByClientAfterCursor/%s/desc=%v", status, desc), tokend.TokenFilter{ClientID: ptr(int64(7)), Status: status, Desc: desc, After: cursor})
			add(fmt.Sprintf("ByService/%s/desc=%v", status, desc), tokend.TokenFilter{Status: status, Desc: desc, After: cursor})
			add(fmt.Sprintf("ByServiceExpiry/%s/desc=%v", status, desc), tokend.TokenFilter{Status: status, Desc: desc, OrderBy: tokend.OrderExpiresAt, After: cursor})
		}
	}
	check := func(t *testing.T) {
		for _, c := range cases {
			checkPlan(t, s, c.name, c.table, c.sql, c.args)
		}
	}
	t.Run("Empty", check)
	// With planner statistics, as PRAGMA optimize leaves them on a real
	// database, SQLite weighs indexes differently: the plans must hold too.
	seedTokens(t, s, 1, 5000)
	if _, err := s.write.Exec("ANALYZE"); err != nil {
		t.Fatal(err)
	}
	t.Run("Analyzed", check)
}

// checkPlan fails unless SQLite answers query by searching an index of table
// and reading it in the wanted order.
func checkPlan(t *testing.T, s *Store, name, table, query string, args []any) {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "; ")
	t.Logf("%s: %s", name, text)
	if strings.Contains(text, "SCAN ") || !strings.Contains(text, "SEARCH "+table+" USING") ||
		strings.Contains(text, "TEMP B-TREE") {
		t.Errorf("%s: plan %q reads the table or sorts; want an index search in order", name, text)
	}
}

func ptr[T any](v T) *T { return &v }

func TestMigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	ms, err := listMigrations()
	if err != nil {
		t.Fatal(err)
	}
	latest := ms[len(ms)-1].Version
	for i := range 3 {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		v, err := s.SchemaVersion(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if v != latest {
			t.Fatalf("SchemaVersion = %d, want %d", v, latest)
		}
		var applied int
		if err := s.read.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
			t.Fatal(err)
		}
		if applied != len(ms) {
			t.Fatalf("open %d: %d migrations recorded, want %d", i, applied, len(ms))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(t.Context(), path); err == nil {
		s.Close()
		t.Fatal("opened a database migrated by a newer program")
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	svc := &tokend.Service{ID: 5, Name: "svc", CreatedAt: time.UnixMilli(1).UTC(), UpdatedAt: time.UnixMilli(2).UTC()}
	tok := &tokend.Token{ServiceID: 5, ClientID: 1, GrantType: tokend.GrantClientCredentials, AccessHash: tokend.Hash{1},
		CreatedAt: time.UnixMilli(3).UTC(), Persistent: true}
	if err := s.CreateService(t.Context(), svc); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.GetTokenByAccessHash(t.Context(), tokend.Hash{1})
	if err != nil {
		t.Fatalf("token lost on reopen: %v", err)
	}
	if got.ID != tok.ID || !got.Persistent || got.ServiceID != 5 {
		t.Fatalf("got %+v after reopen", got)
	}
	if _, err := s.GetService(t.Context(), 5); err != nil {
		t.Fatalf("service lost on reopen: %v", err)
	}
}

func TestUnavailableAfterClose(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "tokend.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = s.GetToken(t.Context(), 1)
	if tokend.ErrorCode(err) != tokend.EUNAVAILABLE {
		t.Fatalf("read after Close: %v, want %s", err, tokend.EUNAVAILABLE)
	}
	if msg := tokend.ErrorMessage(err); strings.Contains(msg, "sql") {
		t.Errorf("message %q leaks driver text", msg)
	}
	if !strings.Contains(err.Error(), "closed") {
		t.Errorf("error %q does not tell the operator the cause", err)
	}
	err = s.CreateToken(t.Context(), &tokend.Token{ServiceID: 1, GrantType: tokend.GrantPassword, AccessHash: tokend.Hash{2}})
	if tokend.ErrorCode(err) != tokend.EUNAVAILABLE {
		t.Fatalf("write after Close: %v, want %s", err, tokend.EUNAVAILABLE)
	}
}

// TestPragmas checks that the DSN took effect: WAL and synced commits on the
// writer, and readers that cannot write.
func TestPragmas(t *testing.T) {
	s := mustOpen(t)
	for _, c := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL: the syncer syncs each commit, durable.go
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"temp_store", "2"}, // MEMORY
		{"cache_size", fmt.Sprint(-defaultWriterCacheKiB)},
		{"mmap_size", "0"},
	} {
		var got string
		if err := s.write.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("writer %s = %s, want %s", c.pragma, got, c.want)
		}
	}
	var queryOnly string
	if err := s.read.QueryRow("PRAGMA query_only").Scan(&queryOnly); err != nil {
		t.Fatal(err)
	}
	if queryOnly != "1" {
		t.Errorf("reader query_only = %s, want 1", queryOnly)
	}
	if _, err := s.read.Exec("DELETE FROM tokens"); err == nil {
		t.Error("a read connection could write")
	}
	checkReadPragma(t, s, "cache_size", fmt.Sprint(-readerCacheKiB(defaultReadCacheKiB, s.read.Stats().MaxOpenConnections)))
	checkReadPragma(t, s, "mmap_size", "0")
}

func checkReadPragma(t *testing.T, s *Store, pragma, want string) {
	t.Helper()
	var got string
	if err := s.read.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("reader %s = %s, want %s", pragma, got, want)
	}
}

// TestCacheBudget checks that the page caches follow WithCache and the
// path's parameters, the readers sharing theirs, and that a path with
// parameters names the same file.
func TestCacheBudget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := Open(t.Context(), path+"?writer_cache_mib=8&read_cache_mib=64")
	if err != nil {
		t.Fatal(err)
	}
	var writer string
	if err := s.write.QueryRow("PRAGMA cache_size").Scan(&writer); err != nil {
		t.Fatal(err)
	}
	if writer != fmt.Sprint(-8*1024) {
		t.Errorf("writer cache_size = %s, want %d", writer, -8*1024)
	}
	n := s.read.Stats().MaxOpenConnections
	checkReadPragma(t, s, "cache_size", fmt.Sprint(-64*1024/n))
	if err := s.CreateService(t.Context(), &tokend.Service{ID: 7, Name: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// An option overrides the path; the file is the one written above.
	s, err = Open(t.Context(), path+"?read_cache_mib=64", WithCache(0, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkReadPragma(t, s, "cache_size", fmt.Sprint(-readerCacheKiB(4*1024, n)))
	if _, err := s.GetService(t.Context(), 7); err != nil {
		t.Fatalf("the service written through the path with parameters: %v", err)
	}

	for _, bad := range []string{"?cache=1", "?read_cache_mib=0", "?read_cache_mib=x", "?writer_cache_mib=-1", "#frag", "?read_cache_mib=1#x"} {
		if s, err := Open(t.Context(), path+bad); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path+bad)
		}
	}
}

// TestUpgradeFromFirstSchema opens a database that only has migration 0001,
// as deployed before the OAuth endpoints, and checks that its data survives
// the upgrade and that its services read with the new fields unset.
func TestUpgradeFromFirstSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	db, err := sql.Open("sqlite", dsn(path, roleWriter, defaultWriterCacheKiB))
	if err != nil {
		t.Fatal(err)
	}
	first, err := migrations.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		string(first),
		`INSERT INTO schema_migrations VALUES (1, 0)`,
		`INSERT INTO services (id, name, access_token_ttl, refresh_token_ttl, rotate_refresh, refresh_reuse_grace,
			keep_refresh_expiry, created_at, updated_at) VALUES (7, 'old', 1, 2, 1, 0, 0, 10, 20)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open of a version 1 database: %v", err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != latestVersion(t) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, latestVersion(t))
	}
	got, err := s.GetService(t.Context(), 7)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "old" || !got.RefreshPolicy.Rotate || got.PasswordCallbackURL != "" || got.AllowPlainPKCE {
		t.Fatalf("upgraded service = %+v", got)
	}
	u := &tokend.User{ServiceID: 7, Username: "alice", CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("the new tables are not usable: %v", err)
	}
}

// An update that keeps the old refresh hash would leave a value both
// usable and recorded as retired, and let a concurrent rotation find it
// too; the store refuses it rather than trust every caller.
func TestRotationMustReplaceTheRefreshToken(t *testing.T) {
	s := mustOpen(t)
	ctx := t.Context()
	if err := s.CreateService(ctx, &tokend.Service{ID: 1, CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	tok := &tokend.Token{ServiceID: 1, ClientID: 1, GrantType: tokend.GrantPassword, AccessHash: tokend.Hash{1},
		RefreshHash: tokend.Hash{2}, CreatedAt: time.UnixMilli(1), AccessExpiresAt: time.UnixMilli(2), RefreshExpiresAt: time.UnixMilli(3)}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	_, err := s.RotateRefreshToken(ctx, tok.RefreshHash, tokend.RetiredRefresh{RetiredAt: time.UnixMilli(5)},
		func(t *tokend.Token) error { t.AccessHash = tokend.Hash{3}; return nil })
	if tokend.ErrorCode(err) != tokend.EINVALID {
		t.Fatalf("rotation keeping the refresh hash: %v, want %s", err, tokend.EINVALID)
	}
	if _, err := s.GetRetiredRefresh(ctx, tok.RefreshHash); tokend.ErrorCode(err) != tokend.ENOTFOUND {
		t.Fatalf("history written for a refused rotation: %v", err)
	}
	if got, err := s.GetTokenByAccessHash(ctx, tok.AccessHash); err != nil || got.ID != tok.ID {
		t.Fatalf("the refused rotation changed the token: %v", err)
	}
}

func latestVersion(t *testing.T) int {
	ms, err := listMigrations()
	if err != nil {
		t.Fatal(err)
	}
	return ms[len(ms)-1].Version
}

// TestUpgradeFromSecondSchema opens a database made by migrations 0001 and
// 0002, with tokens in it, and checks that 0003's prefix indexes find them
// and keep their hashes unique.
func TestUpgradeFromSecondSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	db, err := sql.Open("sqlite", dsn(path, roleWriter, defaultWriterCacheKiB))
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`}
	for _, name := range []string{"0001_init.sql", "0002_oauth.sql"} {
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, string(body))
	}
	stmts = append(stmts, `INSERT INTO schema_migrations VALUES (1, 0), (2, 0)`,
		`INSERT INTO services (id, name, access_token_ttl, refresh_token_ttl, rotate_refresh, refresh_reuse_grace,
			keep_refresh_expiry, created_at, updated_at) VALUES (1, 'old', 1, 2, 1, 0, 0, 10, 20)`)
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// Tokens as the old schema stored them, with the statement of the time
	// (tokens has not changed), ids 1..20.
	var old []*tokend.Token
	for i := range 20 {
		tok := seedToken(1, i)
		if i%3 == 0 {
			tok.RefreshHash = tokend.Hash{} // client credentials: no refresh token
		}
		args, err := tokenArgs(tok)
		if err != nil {
			t.Fatal(err)
		}
		res, err := db.Exec(insertTokenSQL, args...)
		if err != nil {
			t.Fatal(err)
		}
		if tok.ID, err = res.LastInsertId(); err != nil {
			t.Fatal(err)
		}
		tok.GrantID = tok.ID
		old = append(old, tok)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open of a version 2 database: %v", err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != latestVersion(t) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, latestVersion(t))
	}
	var n int
	if err := s.read.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name IN ('tokens_access_hash', 'tokens_refresh_hash')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d full-hash indexes left (%v), want them dropped", n, err)
	}
	for _, want := range old {
		got, err := s.GetTokenByAccessHash(t.Context(), want.AccessHash)
		if err != nil || got.ID != want.ID {
			t.Fatalf("token %d by access hash: %v, %v", want.ID, got, err)
		}
		if !want.RefreshHash.IsZero() {
			if got, err := s.GetTokenByRefreshHash(t.Context(), want.RefreshHash); err != nil || got.ID != want.ID {
				t.Fatalf("token %d by refresh hash: %v, %v", want.ID, got, err)
			}
		}
	}
	dup := seedToken(1, 1000)
	dup.AccessHash = old[4].AccessHash
	if err := s.CreateToken(t.Context(), dup); tokend.ErrorCode(err) != tokend.ECONFLICT {
		t.Fatalf("CreateToken with an upgraded token's access hash: %v, want %s", err, tokend.ECONFLICT)
	}
	dup = seedToken(1, 1001)
	dup.RefreshHash = old[4].RefreshHash
	if err := s.CreateToken(t.Context(), dup); tokend.ErrorCode(err) != tokend.ECONFLICT {
		t.Fatalf("CreateToken with an upgraded token's refresh hash: %v, want %s", err, tokend.ECONFLICT)
	}
	fresh := seedToken(1, 1002)
	if err := s.CreateToken(t.Context(), fresh); err != nil {
		t.Fatal(err)
	}
	if fresh.ID != 21 {
		t.Fatalf("new token id %d, want 21 after the 20 upgraded", fresh.ID)
	}
}
