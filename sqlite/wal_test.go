package sqlite

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWALRestarts: SQLite reuses the WAL file from its start once a
// checkpoint has copied every frame; with commits synced by the syncer
// rather than by SQLite (durable.go), that must still happen, or the file
// grows without end.
func TestWALRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	const pages = 256 // 1 MiB
	s, err := Open(t.Context(), path, func(o *options) { o.walAutocheckpoint = pages })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seedTokens(t, s, 1, 30_000) // about 9 MiB of pages, in commits of 10,000 tokens
	for i := range 3 {
		importRange(t, s, 1, 30_000+i*2_000, 30_000+(i+1)*2_000)
	}
	// A commit may run past the threshold before the checkpoint that
	// follows it, and a restart waits for the next commit: a few times the
	// threshold is the bound, far below what was written.
	if got, limit := fileSize(t, path+"-wal"), int64(6*pages*4096); got > limit {
		t.Fatalf("the WAL file is %d bytes after about 10 MiB of writes; it should have restarted below %d", got, limit)
	}
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}
