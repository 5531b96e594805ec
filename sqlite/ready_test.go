package sqlite

import (
	"strings"
	"testing"

	"github.com/tokend/tokend"
)

// TestReady: a store is ready only while its schema has every migration
// this build knows, and not once it is closed.
func TestReady(t *testing.T) {
	t.Run("ErrSchemaBehind", func(t *testing.T) {
		s := mustOpen(t)
		if _, err := s.write.ExecContext(t.Context(), "DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)"); err != nil {
			t.Fatal(err)
		}
		err := s.Ready(t.Context())
		if tokend.ErrorCode(err) != tokend.EUNAVAILABLE || !strings.Contains(err.Error(), "schema version") {
			t.Fatalf("Ready with a migration missing = %v, want unavailable naming the schema version", err)
		}
	})
	t.Run("ErrClosed", func(t *testing.T) {
		s := mustOpen(t)
		s.read.Close()
		if err := s.Ready(t.Context()); tokend.ErrorCode(err) != tokend.EUNAVAILABLE {
			t.Fatalf("Ready on a closed pool = %v, want unavailable", err)
		}
	})
}
