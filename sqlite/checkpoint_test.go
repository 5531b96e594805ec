package sqlite

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointerCopiesInTheBackground: the writer's own checkpoint waits
// for 40 MiB of WAL, so a database file that grows while a few MiB are
// written was grown by the background checkpointer.
func TestCheckpointerCopiesInTheBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := fileSize(t, path)
	seedTokens(t, s, 1, 20_000) // about 6 MiB of pages
	deadline := time.Now().Add(20 * time.Second)
	for fileSize(t, path) < before+2<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes (%d before the writes): nothing copied the WAL into it", fileSize(t, path), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWALRestarts: SQLite reuses the WAL file from its start only when the
// writer finds every frame copied; a background checkpointer racing the
// writes must not keep that from happening, or the file grows without end.
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
