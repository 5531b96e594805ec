package postgres

import (
	"strings"
	"testing"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/pgtest"
)

// TestReady: a store is ready only while its schema has every migration
// this build knows.
func TestReady(t *testing.T) {
	s := openOn(t, pgtest.NewDatabase(t))
	if err := s.Ready(t.Context()); err != nil {
		t.Fatalf("Ready on a migrated database: %v", err)
	}
	if _, err := s.pool.Exec(t.Context(), `DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	err := s.Ready(t.Context())
	if tokend.ErrorCode(err) != tokend.EUNAVAILABLE || !strings.Contains(err.Error(), "schema version") {
		t.Fatalf("Ready with a migration missing = %v, want unavailable naming the schema version", err)
	}
}
