package sqlite

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// Durability, pipelined.
//
// A write's caller hears of it only once it is on disk: a power cut after
// the answer must not lose an issued token or a revocation. With
// synchronous=FULL SQLite would fsync the WAL inside each commit, and the
// single writer would sit idle through every fsync, although the next group
// is already waiting. So the writer commits with synchronous=NORMAL (in WAL
// mode: no sync at commit; checkpoints still sync the WAL before copying it
// and the database after) and hands the committed group to the syncer,
// which fsyncs the WAL file and only then answers its callers, while the
// writer runs the next group. One fsync started after a commit returned
// covers that commit and every earlier one, so the syncer takes whatever
// groups are waiting and answers them all after one fsync.
//
// Writes that arrive while an fsync runs will be answered after the next
// one whatever happens, so the writer runs their statements at once but
// holds their transaction open until the fsync ends (joinLate in
// writer.go), then commits them together: one commit per fsync, whose
// shared pages go to the WAL once.
//
// What the others see: unlike with FULL, a committed write is visible to
// readers before its fsync ends, so a crash in that window can undo a
// change someone saw. For tokens that window is harmless: a new token's
// value is known only to its caller, who has not been answered; a
// revocation seen early errs on the safe side, and its caller, unanswered,
// sends it again; a rotated refresh token's successor has not been handed
// out, so the old one keeps working after a restart, as if the request had
// never come. A crash before the fsync loses only writes no caller was
// told of, which is SQLite's own promise too.
//
// An fsync that fails leaves the WAL's state on disk unknown (the kernel
// may have dropped the dirty pages it could not write), so the store stops
// writing: every waiting and later write fails with EUNAVAILABLE, and a
// restart recovers from what the disk holds.

// syncer answers committed groups after fsyncing the WAL. It ends when the
// writer closes s.committed.
func (s *Store) syncer() {
	defer close(s.syncerDone)
	var waiting []*writeReq
	for group := range s.committed {
		s.syncBusy.Store(true)
		waiting = append(waiting[:0], group...)
	more:
		for {
			select {
			case g, ok := <-s.committed:
				if !ok {
					break more
				}
				waiting = append(waiting, g...)
			default:
				break more
			}
		}
		err := s.syncFailed()
		if err == nil {
			if err = s.syncWAL(); err != nil {
				err = fmt.Errorf("sqlite: fsync of the WAL failed, the store stops writing: %w", err)
				s.syncErr.CompareAndSwap(nil, &err)
			}
		}
		s.stats.syncs.Add(1)
		for _, r := range waiting {
			if err != nil {
				r.err = s.fail(r.ctx, err)
			}
			close(r.done)
		}
		clear(waiting)
		s.syncBusy.Store(false)
		select {
		case s.syncIdle <- struct{}{}: // to a writer holding its group open
		default:
		}
	}
}

// WriteStats counts the store's writes since it opened.
type WriteStats struct {
	Writes  int64 // write requests committed
	Commits int64 // transactions committed: a group commits its writes at once
	Syncs   int64 // fsyncs of the WAL, each covering every commit before it
}

// WriteStats returns the counts so far.
func (s *Store) WriteStats() WriteStats {
	return WriteStats{Writes: s.stats.writes.Load(), Commits: s.stats.commits.Load(), Syncs: s.stats.syncs.Load()}
}

func (s *Store) countCommit(writes int) {
	s.stats.commits.Add(1)
	s.stats.writes.Add(int64(writes))
}

// syncFailed is the error of an earlier failed fsync, or nil.
func (s *Store) syncFailed() error {
	if p := s.syncErr.Load(); p != nil {
		return *p
	}
	return nil
}

// walFile opens the WAL for fsync. SQLite keeps the file (same inode) while
// any connection is open, and the writer's stays open until Close.
func openWAL(path string) (*os.File, error) {
	f, err := os.Open(path + "-wal")
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("sqlite: %s-wal does not exist although the database is in WAL mode", path)
	}
	return f, err
}

type syncState struct {
	committed  chan []*writeReq // groups committed, not yet synced
	syncerDone chan struct{}
	syncWAL    func() error // fsync of the WAL file; tests replace it
	syncErr    atomic.Pointer[error]
	wal        *os.File

	// The writer holds its group open while syncBusy (joinLate); the
	// syncer signals syncIdle when it has answered a group. carry is a
	// request the writer took but must run after its group; only the
	// writer goroutine touches it.
	syncBusy atomic.Bool
	syncIdle chan struct{}
	carry    *writeReq

	stats struct{ writes, commits, syncs atomic.Int64 }
}
