package sqlite

import (
	"strings"
	"testing"
	"time"
)

// TestSweepPlans fails when the janitor's queries would read a whole table:
// they run while the server serves, and must find their rows by index.
func TestSweepPlans(t *testing.T) {
	s := mustOpen(t)
	cutoff := time.Now().UnixMilli()
	cases := []struct {
		name  string
		sql   string
		args  []any
		wants []string // indexes the plan must search
	}{
		{"TokenCandidates", sweepCandidatesSQL, []any{1, cutoff, 500},
			[]string{"USING INDEX tokens_expires", "USING INDEX tokens_revoked", "USING INTEGER PRIMARY KEY", "USING INDEX tokens_grant"}},
		{"DeleteHistory", `DELETE FROM refresh_history WHERE token_id IN (SELECT value FROM json_each(?))`, []any{"[1,2]"},
			[]string{"USING INDEX refresh_history_token"}},
		{"DeleteTokens", `DELETE FROM tokens WHERE id IN (SELECT value FROM json_each(?))`, []any{"[1,2]"},
			[]string{"USING INTEGER PRIMARY KEY"}},
		{"Codes", `DELETE FROM authorization_codes WHERE hash IN (SELECT hash FROM authorization_codes WHERE expires_at < ? LIMIT ?)`,
			[]any{cutoff, 500}, []string{"USING INDEX authorization_codes_expires"}},
	}
	check := func(t *testing.T) {
		for _, c := range cases {
			rows, err := s.write.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+c.sql, c.args...)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			text := strings.Join(plan, "; ")
			t.Logf("%s: %s", c.name, text)
			for _, p := range plan {
				// Only the list of ids and the subqueries' own results are scanned.
				if strings.HasPrefix(p, "SCAN ") && !strings.HasPrefix(p, "SCAN (subquery") && !strings.HasPrefix(p, "SCAN json_each") {
					t.Errorf("%s: plan %q reads a whole table", c.name, text)
				}
			}
			for _, w := range c.wants {
				if !strings.Contains(text, w) {
					t.Errorf("%s: plan %q does not search %s", c.name, text, w)
				}
			}
		}
	}
	t.Run("Empty", check)
	seedTokens(t, s, 1, 5000)
	if _, err := s.write.Exec("ANALYZE"); err != nil {
		t.Fatal(err)
	}
	t.Run("Analyzed", check)
}
