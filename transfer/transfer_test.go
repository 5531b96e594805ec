package transfer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/pgtest"
	"github.com/tokend/tokend/postgres"
	"github.com/tokend/tokend/sqlite"
	"github.com/tokend/tokend/transfer"
)

// store is what a test moves records between.
type store interface {
	tokend.Store
	tokend.Exporter
	tokend.Importer
}

func openSQLite(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "t.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(tb testing.TB) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), pgtest.NewDatabase(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

var seq uint64

func newHash() tokend.Hash {
	seq++
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return sha256.Sum256(b[:])
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// fill stores records of every kind, with every field set somewhere and
// left unset elsewhere.
func fill(tb testing.TB, s tokend.Store) {
	tb.Helper()
	ctx := context.Background()
	for _, sv := range []*tokend.Service{
		{ID: 3_000_000_000_001, Name: "full", Description: "two\nlines", Issuer: "https://issuer.example/x",
			AccessTokenTTL: 90 * time.Minute, RefreshTokenTTL: 7*24*time.Hour + time.Nanosecond,
			ScopesSupported: []string{"openid", "read:all"}, GrantTypesSupported: []tokend.GrantType{tokend.GrantPassword, tokend.GrantRefreshToken},
			RefreshPolicy:       tokend.RefreshPolicy{Rotate: true, ReuseGrace: 30 * time.Second, KeepExpiry: true},
			PasswordCallbackURL: "https://app.example/check", AllowPlainPKCE: true, TimeZone: "Europe/Berlin",
			CreatedAt: t0, UpdatedAt: t0.Add(time.Second)},
		{ID: 3_000_000_000_002, ScopesSupported: []string{}, GrantTypesSupported: []tokend.GrantType{}, CreatedAt: t0, UpdatedAt: t0},
	} {
		must(tb, s.CreateService(ctx, sv))
	}
	sid := int64(3_000_000_000_001)
	for _, k := range []*tokend.Key{
		{Name: "org", Permissions: []tokend.Permission{tokend.PermAll}, Hash: newHash(), CreatedAt: t0},
		{ServiceID: sid, Name: "svc", Permissions: []tokend.Permission{tokend.PermTokensRead, tokend.PermUsersWrite}, Hash: newHash(), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)},
	} {
		must(tb, s.CreateKey(ctx, k))
	}
	cid := int64(1_000_000_000_001)
	for _, c := range []*tokend.Client{
		{ID: cid, ServiceID: sid, ClientID: "app", Name: "App", Description: "d", URL: "https://app.example/", Developer: "Dev",
			Type: tokend.ClientConfidential, GrantTypes: []tokend.GrantType{tokend.GrantPassword}, Scopes: []string{"read:all"},
			RedirectURIs: []string{"https://app.example/cb", "com.example:/cb path"}, FirstParty: true, SecretHash: newHash(),
			CreatedAt: t0, UpdatedAt: t0},
		{ID: cid + 1, ServiceID: sid, ClientID: "spa", Type: tokend.ClientPublic, GrantTypes: []tokend.GrantType{},
			Scopes: []string{}, RedirectURIs: []string{}, CreatedAt: t0, UpdatedAt: t0},
	} {
		must(tb, s.CreateClient(ctx, c))
	}
	for _, u := range []*tokend.User{
		{ServiceID: sid, Username: "alice", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", AccountID: "a-1",
			Roles: []string{"admin"}, CreatedAt: t0, UpdatedAt: t0},
		{ServiceID: sid, Username: "bob", CreatedAt: t0, UpdatedAt: t0},
	} {
		must(tb, s.CreateUser(ctx, u))
	}
	full := &tokend.Token{ServiceID: sid, ClientID: cid, Subject: "alice", GrantType: tokend.GrantAuthorizationCode,
		AccessHash: newHash(), RefreshHash: newHash(), Scopes: []string{"openid", "read:all"}, RefreshScopes: []string{},
		CreatedAt: t0, AccessExpiresAt: t0.Add(time.Hour), RefreshExpiresAt: t0.Add(48 * time.Hour),
		LastRefreshedAt: t0.Add(time.Minute), Properties: []tokend.Property{{Key: "k", Value: "v w", Hidden: true}},
		AccountID: "a-1", Roles: []string{"admin", "user"}, AuthTime: t0.Add(-time.Minute), ACR: "urn:acr 2",
		SessionID: "s-1", Resources: []string{"https://api.example/a b"}, CertThumbprint: "x5t", DPoPThumbprint: "jkt",
		AuthorizationDetails: []byte(`[{"type": "payment", "amount":"1.50"}]`)}
	must(tb, s.CreateToken(ctx, full))
	child := &tokend.Token{ServiceID: sid, ClientID: cid, Subject: "alice", GrantType: tokend.GrantRefreshToken,
		AccessHash: newHash(), Scopes: []string{}, CreatedAt: t0, Persistent: true, GrantID: full.ID,
		RevokedAt: t0.Add(time.Hour), RevokedReason: "user"}
	must(tb, s.CreateToken(ctx, child))
	cc := &tokend.Token{ServiceID: sid, ClientID: cid + 1, GrantType: tokend.GrantClientCredentials,
		AccessHash: newHash(), Scopes: []string{"read:all"}, CreatedAt: t0, AccessExpiresAt: t0.Add(time.Hour)}
	// With its audit entry, as the management API writes one.
	must(tb, s.CreateToken(tokend.WithAudit(ctx, tokend.AuditEntry{Time: t0, ServiceID: sid, Actor: "key:1",
		Action: tokend.AuditTokenCreate, TargetType: tokend.TargetToken}), cc))
	must(tb, s.AppendAudit(ctx,
		tokend.AuditEntry{Time: t0.Add(time.Second), Actor: "address:192.0.2.1", Action: tokend.AuditAuthFailures, Reason: "too many"},
		tokend.AuditEntry{Time: t0.Add(2 * time.Second), ServiceID: sid, Actor: "client:1", Action: tokend.AuditTokenRevoke,
			TargetType: tokend.TargetToken, TargetID: "7", Subject: "alice", Reason: "revoked_by_client"}))
	for i, successor := range [][]byte{{0, 1, 2, 255}, nil} {
		old := full.RefreshHash
		_, err := s.RotateRefreshToken(ctx, old, tokend.RetiredRefresh{Hash: old, RetiredAt: t0.Add(time.Duration(i+1) * time.Minute), Successor: successor},
			func(t *tokend.Token) error { t.RefreshHash, t.AccessHash = newHash(), newHash(); return nil })
		must(tb, err)
		full, err = s.GetToken(ctx, full.ID)
		must(tb, err)
	}
	used := &tokend.AuthorizationCode{Hash: newHash(), ServiceID: sid, ClientID: cid, Subject: "alice", Scopes: []string{"openid"},
		RedirectURI: "https://app.example/cb", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256",
		AccountID: "a-1", Roles: []string{"admin"}, AuthTime: t0, ACR: "1", SessionID: "s", Resources: []string{"urn:x"},
		AuthorizationDetails: []byte(`[{"type":"x"}]`), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute), UsedAt: t0.Add(time.Second), TokenID: full.ID}
	unused := &tokend.AuthorizationCode{Hash: newHash(), ServiceID: sid, ClientID: cid, Subject: "bob", Scopes: []string{},
		RedirectURI: "https://app.example/cb", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	for _, c := range []*tokend.AuthorizationCode{used, unused} {
		must(tb, s.CreateAuthorizationCode(ctx, c))
	}
}

// export returns an export of s without its header line, which holds the
// time of the export.
func export(tb testing.TB, s store) string {
	tb.Helper()
	var b bytes.Buffer
	if _, err := transfer.Export(context.Background(), s, &b, t0, 0, nil); err != nil {
		tb.Fatal(err)
	}
	_, body, _ := strings.Cut(b.String(), "\n")
	return body
}

func load(tb testing.TB, s store, body string) tokend.RecordCounts {
	tb.Helper()
	n, err := transfer.Import(context.Background(), s, strings.NewReader(header+body), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

const header = `{"type":"header","format":"tokend-export","version":1,"exported_at":"2030-01-02T03:04:05Z"}` + "\n"

func TestRoundTripSQLitePostgresSQLite(t *testing.T) {
	src := openSQLite(t)
	fill(t, src)
	first := export(t, src)
	want := tokend.RecordCounts{Services: 2, Keys: 2, Clients: 2, Users: 2, Tokens: 3, RetiredRefresh: 2, Codes: 2, Audit: 3}

	pg := openPostgres(t)
	if got := load(t, pg, first); got != want {
		t.Fatalf("PostgreSQL imported %+v, want %+v", got, want)
	}
	second := export(t, pg)
	if second != first {
		t.Fatalf("PostgreSQL's export differs from SQLite's:\n%s", lineDiff(first, second))
	}
	back := openSQLite(t)
	load(t, back, second)
	if third := export(t, back); third != first {
		t.Fatalf("the round trip changed the records:\n%s", lineDiff(first, third))
	}

	// What matters after a move: the tokens are found by their hashes,
	// history and codes still point at them, and new ids follow the old.
	for name, s := range map[string]store{"postgres": pg, "sqlite": back} {
		t.Run("UsableIn/"+name, func(t *testing.T) {
			ctx := t.Context()
			orig, err := src.ListTokens(ctx, tokend.TokenFilter{ServiceID: 3_000_000_000_001, Status: tokend.StatusAll, OrderBy: tokend.OrderCreatedAt, Limit: 10})
			must(t, err)
			for _, tok := range orig.Tokens {
				got, err := s.GetTokenByAccessHash(ctx, tok.AccessHash)
				must(t, err)
				if got.ID != tok.ID || got.GrantID != tok.GrantID {
					t.Fatalf("token %d came back as %d (grant %d, want %d)", tok.ID, got.ID, got.GrantID, tok.GrantID)
				}
			}
			next := &tokend.Token{ServiceID: 3_000_000_000_001, ClientID: 1, GrantType: tokend.GrantClientCredentials,
				AccessHash: newHash(), Scopes: []string{}, CreatedAt: t0, AccessExpiresAt: t0.Add(time.Hour)}
			must(t, s.CreateToken(ctx, next))
			for _, tok := range orig.Tokens {
				if next.ID <= tok.ID {
					t.Fatalf("a new token got id %d, not above the imported %d", next.ID, tok.ID)
				}
			}
			k := &tokend.Key{Name: "new", Permissions: []tokend.Permission{tokend.PermAll}, Hash: newHash(), CreatedAt: t0}
			must(t, s.CreateKey(ctx, k))
			keys, err := src.ListKeys(ctx, -1)
			must(t, err)
			if k.ID <= keys[len(keys)-1].ID {
				t.Fatalf("a new key got id %d, not above the imported %d", k.ID, keys[len(keys)-1].ID)
			}
			must(t, s.AppendAudit(ctx, tokend.AuditEntry{Time: t0, Actor: "system", Action: tokend.AuditKeyCreate}))
			entries, err := s.ListAudit(ctx, tokend.AuditFilter{Limit: 10})
			must(t, err)
			if len(entries.Entries) != 4 || entries.Entries[0].Action != tokend.AuditKeyCreate || entries.Entries[0].ID <= entries.Entries[1].ID {
				t.Fatalf("a new audit entry does not follow the imported ones: %+v", entries.Entries)
			}
		})
	}
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+2, x, y)
		}
	}
	return "(no line differs)"
}

func TestImportRefusesAndStoresNothing(t *testing.T) {
	src := openSQLite(t)
	fill(t, src)
	body := export(t, src)
	lines := strings.SplitAfter(body, "\n")
	end := len(lines) - 2 // the last element is the empty string after the end line
	tests := []struct {
		name  string
		input string
		want  string // in the error
	}{
		{"ErrCutOff", header + strings.Join(lines[:end-3], ""), "cut off"},
		{"ErrCountsDiffer", header + strings.Join(lines[:end-1], "") + strings.Replace(lines[end], `"tokens":3`, `"tokens":4`, 1), "end line counts"},
		{"ErrLineAfterEnd", header + body + lines[0], "follows the end line"},
		{"ErrNoHeader", body, "not a tokend export header"},
		{"ErrNewerFormat", strings.Replace(header, `"version":1`, `"version":2`, 1) + body, "format version 2"},
		{"ErrNotJSON", header + "{\n" + body, "line 2"},
		{"ErrUnknownType", header + `{"type":"gizmo"}` + "\n" + body, `unknown line type "gizmo"`},
		{"ErrBadHash", header + strings.Replace(body, `"access_token_hash":"`, `"access_token_hash":"zz`, 1), "access_token_hash"},
		{"ErrEmpty", "", "empty"},
		{"ErrDuplicateHash", header + duplicateToken(t, body), "access_token"},
	}
	for _, kind := range []struct {
		name string
		open func(testing.TB) store
	}{{"sqlite", func(tb testing.TB) store { return openSQLite(tb) }}, {"postgres", func(tb testing.TB) store { return openPostgres(tb) }}} {
		t.Run(kind.name, func(t *testing.T) {
			dst := kind.open(t)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := transfer.Import(t.Context(), dst, strings.NewReader(tt.input), nil)
					if err == nil || !strings.Contains(err.Error(), tt.want) {
						t.Fatalf("Import = %v, want an error saying %q", err, tt.want)
					}
					n, err := dst.CountRecords(t.Context())
					must(t, err)
					if n.Total() != 0 {
						t.Fatalf("a refused import left %+v behind", n)
					}
				})
			}
			t.Run("ErrNotEmpty", func(t *testing.T) {
				load(t, dst, body)
				_, err := transfer.Import(t.Context(), dst, strings.NewReader(header+body), nil)
				if !errors.Is(err, transfer.ErrNotEmpty) {
					t.Fatalf("Import into a full store = %v, want ErrNotEmpty", err)
				}
			})
		})
	}
}

// duplicateToken returns body with a second token holding the first one's
// access hash (and the counts to match), which the target must refuse.
func duplicateToken(tb testing.TB, body string) string {
	tb.Helper()
	lines := strings.SplitAfter(body, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, `{"type":"token"`) {
			continue
		}
		var m struct {
			Token map[string]any `json:"token"`
		}
		must(tb, json.Unmarshal([]byte(l), &m))
		tok := m.Token
		tok["id"] = tok["id"].(float64) + 1000
		delete(tok, "refresh_token_hash")
		dup, err := json.Marshal(map[string]any{"type": "token", "token": tok})
		must(tb, err)
		out := append(append(append([]string{}, lines[:i+1]...), string(dup)+"\n"), lines[i+1:]...)
		return strings.Replace(strings.Join(out, ""), `"tokens":3`, `"tokens":4`, 1)
	}
	tb.Fatal("no token line")
	return ""
}

func TestExportProgress(t *testing.T) {
	src := openSQLite(t)
	fill(t, src)
	var last transfer.Progress
	var b bytes.Buffer
	n, err := transfer.Export(t.Context(), src, &b, t0, 15, func(p transfer.Progress) { last = p })
	must(t, err)
	if last.Records != n.Total() || last.Total != n.Total() {
		t.Fatalf("last progress %+v, want %d of %d", last, n.Total(), n.Total())
	}
	if lines := strings.Count(b.String(), "\n"); lines != n.Total()+2 {
		t.Fatalf("%d lines for %d records, want a header and an end line too", lines, n.Total())
	}
}
