package postgres

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// seedPlans fills the tables with rows shaped like a real deployment's
// whose janitor runs — 20 services, 60,000 tokens of many subjects and
// clients, most live, a few percent expired or revoked within the week's
// retention and half a percent beyond it, some rotated — and has
// PostgreSQL analyze them, so that the planner weighs the indexes as it
// would in production.
func seedPlans(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	for _, q := range []string{
		`INSERT INTO services (id, access_token_ttl, refresh_token_ttl, scopes_supported, grant_types_supported,
			rotate_refresh, refresh_reuse_grace, keep_refresh_expiry, created_at, updated_at)
		SELECT g, 3600000000000, 0, '{}', '{}', true, 0, false, now(), now() FROM generate_series(1, 20) g`,
		`INSERT INTO clients (id, service_id, client_id, grant_types, scopes, redirect_uris, first_party, created_at, updated_at)
		SELECT g, 1 + g % 20, 'client-' || g, '{}', '{}', '{}', false, now(), now() FROM generate_series(1, 400) g`,
		`INSERT INTO tokens (service_id, client_id, grant_type, created_at, expires_at, access_hash, refresh_hash,
			subject, scopes, access_expires_at, refresh_expires_at, persistent, revoked_at, grant_id)
		SELECT 1 + g % 20, 1 + g % 400, 'AUTHORIZATION_CODE', now() - g * interval '1 minute',
			now() + (g % 200 - 8) * interval '1 day', sha256(int8send(g)), sha256(int8send(-g)),
			'user-' || (g % 5000), '{read,write}', now() + (g % 200 - 8) * interval '1 day' - interval '1 hour',
			now() + (g % 200 - 8) * interval '1 day', false,
			CASE g % 100 WHEN 0 THEN now() - interval '10 days' WHEN 1 THEN now() - interval '1 hour' END,
			CASE WHEN g % 50 = 0 THEN g - 1 END
		FROM generate_series(1, 60000) g`,
		`INSERT INTO refresh_history (hash, token_id, retired_at)
		SELECT sha256(int8send(1000000 + id)), id, now() FROM tokens WHERE id % 7 = 0`,
		`INSERT INTO authorization_codes (hash, service_id, client_id, scopes, created_at, expires_at)
		SELECT sha256(int8send(2000000 + g)), 1 + g % 20, 1 + g % 400, '{}', now(), now() + (g % 10 - 5) * interval '1 minute' - CASE WHEN g % 500 = 0 THEN interval '8 days' ELSE interval '0' END
		FROM generate_series(1, 20000) g`,
		`INSERT INTO keys (service_id, name, permissions, hash, created_at)
		SELECT CASE WHEN g % 10 > 0 THEN 1 + g % 20 END, 'k', '{*}', sha256(int8send(3000000 + g)), now()
		FROM generate_series(1, 2000) g`,
		`INSERT INTO users (service_id, username, created_at, updated_at)
		SELECT 1 + g % 20, 'user-' || g, now(), now() FROM generate_series(1, 5000) g`,
		`ANALYZE`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
}

// planNode is a node of EXPLAIN (FORMAT JSON)'s plan tree.
type planNode struct {
	Type     string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Plans    []planNode `json:"Plans"`
}

func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

func (n planNode) String() string {
	var parts []string
	n.walk(func(n planNode) {
		s := n.Type
		if n.Relation != "" {
			s += " on " + n.Relation
		}
		if n.Index != "" {
			s += " using " + n.Index
		}
		parts = append(parts, s)
	})
	return strings.Join(parts, "; ")
}

// TestQueryPlans fails when a query of a hot path — a request's lookup by
// hash, a page of a list, a revocation, the janitor's batch — would read a
// whole table (Seq Scan) instead of searching an index. (Unlike SQLite's,
// PostgreSQL's planner may rightly sort the few hundred rows an index
// found rather than walk the index in order; it is left to choose.)
func TestQueryPlans(t *testing.T) {
	s := mustOpen(t)
	seedPlans(t, s)
	h := make([]byte, 32)
	now := time.Now()
	week := now.Add(-7 * 24 * time.Hour) // the janitor's default cutoff
	type query struct {
		name string
		sql  string
		args []any
	}
	cases := []query{
		{"TokenByID", byIDSQL, []any{int64(7)}},
		{"TokenByAccessHash", byAccessSQL, []any{h}},
		{"TokenByRefreshHash", byRefreshSQL, []any{h}},
		{"TokenByRefreshHashForRotation", byRefreshSQL + ` FOR UPDATE`, []any{h}},
		{"RetiredByHash", selectRetired, []any{h}},
		{"CodeByHash", selectCode + ` FOR UPDATE`, []any{h}},
		{"KeyByHash", `SELECT ` + keyCols + ` FROM keys WHERE hash = $1`, []any{h}},
		{"ClientByClientID", `SELECT ` + clientCols + ` FROM clients WHERE service_id = $1 AND client_id = $2`, []any{int64(3), "client-3"}},
		{"ClientsByClientID", `SELECT ` + clientCols + ` FROM clients WHERE client_id = $1 ORDER BY id`, []any{"client-3"}},
		{"ClientsPage", `SELECT ` + clientCols + ` FROM clients WHERE service_id = $1 AND id > $2 ORDER BY id LIMIT $3`, []any{int64(3), int64(0), 50}},
		{"UserByName", selectUser, []any{int64(3), "user-3"}},
		{"UsersPage", listUsers, []any{int64(3), int64(0), 50}},
		{"JanitorTokens", sweepCandidates, []any{int64(3), week, 500}},
		{"JanitorDeleteTokens", sweepDelete, []any{[]int64{1, 2, 3}, week, week}},
		{"JanitorCodes", sweepCodes, []any{week, 500}},
	}
	named := func(name string) func(string, []any) query {
		return func(sql string, args []any) query { return query{name, sql, args} }
	}
	cases = append(cases,
		named("RevokeToken")(revokeSQL(tokend.RevokeFilter{ServiceID: 3, TokenID: 7}, now, "r")),
		named("RevokeGrant")(revokeSQL(tokend.RevokeFilter{ServiceID: 3, GrantID: 7}, now, "r")),
		named("RevokeSubject")(revokeSQL(tokend.RevokeFilter{ServiceID: 3, Subject: ptr("user-42")}, now, "r")),
		named("RevokeClient")(revokeSQL(tokend.RevokeFilter{ServiceID: 3, ClientID: 43}, now, "r")),
		named("SubjectGrants")(subjectGrantsSQL(3, "user-42", now)),
	)
	cursor := &tokend.Cursor{Value: now.Add(-time.Hour).UnixMilli(), ID: 30000}
	for _, status := range []tokend.TokenStatus{tokend.StatusActive, tokend.StatusAll, tokend.StatusRevoked} {
		for _, desc := range []bool{false, true} {
			for _, c := range []struct {
				name string
				f    tokend.TokenFilter
			}{
				{"BySubject", tokend.TokenFilter{Subject: ptr("user-42")}},
				{"BySubjectAfterCursor", tokend.TokenFilter{Subject: ptr("user-42"), After: cursor}},
				{"ByClient", tokend.TokenFilter{ClientID: ptr(int64(43))}},
				{"ByClientAfterCursor", tokend.TokenFilter{ClientID: ptr(int64(43)), After: cursor}},
				{"ByService", tokend.TokenFilter{After: cursor}},
				{"ByServiceExpiry", tokend.TokenFilter{OrderBy: tokend.OrderExpiresAt, After: cursor}},
			} {
				f := c.f
				f.ServiceID, f.Now, f.Limit, f.Status, f.Desc = 3, now, 50, status, desc
				q, args, err := listSQL(f)
				if err != nil {
					t.Fatal(err)
				}
				cases = append(cases, query{fmt.Sprintf("%s/%s/desc=%v", c.name, status, desc), q, args})
				if f.After == nil && !desc {
					// The total a first page may ask for.
					w, _ := tokenQuery(f)
					cases = append(cases, query{fmt.Sprintf("Count%s/%s", c.name, status), `SELECT count(*) FROM tokens WHERE ` + w.sql(1), w.args})
				}
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var raw []byte
			if err := s.pool.QueryRow(t.Context(), "EXPLAIN (FORMAT JSON) "+c.sql, c.args...).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			var out []struct {
				Plan planNode `json:"Plan"`
			}
			if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
				t.Fatalf("EXPLAIN output: %v\n%s", err, raw)
			}
			plan := out[0].Plan
			t.Logf("%s", plan)
			plan.walk(func(n planNode) {
				if n.Type == "Seq Scan" {
					t.Errorf("plan reads all of %s: %s", n.Relation, plan)
				}
			})
		})
	}
}

func ptr[T any](v T) *T { return &v }
