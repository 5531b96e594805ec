package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// Checkpoints: in WAL mode a commit appends pages to the -wal file, and a
// checkpoint later copies them into the database file (random writes and an
// fsync of the database). SQLite runs that copy by default inside the commit
// that fills the WAL past 1,000 pages, on the committing connection: here
// the single writer, so every write queued behind it waited for it (a
// tenth of the writer's time under issuance load, and its latency spikes).
//
// So the copying is done by a connection of its own, concurrently with the
// writer, as WAL allows (a checkpoint blocks neither readers nor the
// writer). The writer keeps an automatic checkpoint at a far larger size as
// the way back to the start of the WAL file: SQLite restarts the WAL only
// when a writer finds every frame already copied, which the background
// checkpointer, racing new commits, never quite achieves by itself. When
// the writer's turn comes, the background one has copied all but the last
// few frames, so it costs little.
const (
	// writerAutocheckpoint is the WAL size, in pages, at which the writer
	// checkpoints itself (40 MiB of 4 KiB pages).
	writerAutocheckpoint = 10_000
	// checkpointPause is the least time between background checkpoints:
	// a page written again before the next one is copied once.
	checkpointPause = 200 * time.Millisecond
)

// checkpointer copies committed WAL frames into the database file whenever
// the writer has committed since its last run, at most once per pause. It
// ends when stop is closed.
func checkpointer(db *sql.DB, kick <-chan struct{}, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-kick:
		case <-stop:
			return
		}
		// PASSIVE: copy what no reader still needs, without waiting for
		// anyone. A failure (a busy checkpoint lock, a full disk) is left
		// for the next round; the writer's own checkpoint is the backstop,
		// and the WAL keeps every committed page meanwhile.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		cancel()
		select {
		case <-time.After(checkpointPause):
		case <-stop:
			return
		}
	}
}

// kickCheckpointer tells the checkpointer that the WAL grew; it never blocks.
func (s *Store) kickCheckpointer() {
	select {
	case s.ckptKick <- struct{}{}:
	default:
	}
}
