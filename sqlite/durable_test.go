package sqlite

import (
	crand "crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

// openWithSync opens a store whose WAL fsync is sync, wrapped around the
// real one.
func openWithSync(t *testing.T, sync func(real func() error) error) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "tokend.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateService(t.Context(), &tokend.Service{ID: 1, CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	// Swapped between writes: the syncer reads it only after a commit,
	// and the writer is idle now (the create above was answered).
	real := s.syncWAL
	s.syncWAL = func() error { return sync(real) }
	return s
}

// TestAnsweredOnlyAfterTheWALIsSynced: a write's caller waits for an fsync
// that started after its commit; the write is visible to readers meanwhile.
// A write arriving during that fsync joins a group the writer holds open
// until the fsync ends, then commits and gets an fsync of its own.
func TestAnsweredOnlyAfterTheWALIsSynced(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) }) // never leave the syncer stuck
	var syncs atomic.Int32
	s := openWithSync(t, func(real func() error) error {
		if syncs.Add(1) == 1 {
			close(entered)
			<-release
		}
		return real()
	})
	tok := testToken(1, 7)
	returned := make(chan error, 1)
	go func() { returned <- s.CreateToken(t.Context(), tok) }()
	<-entered
	select {
	case err := <-returned:
		t.Fatalf("CreateToken returned (%v) while its fsync was still running", err)
	case <-time.After(50 * time.Millisecond):
	}
	// Committed, so a reader sees it; its caller has not been told.
	if _, err := s.GetTokenByAccessHash(t.Context(), tok.AccessHash); err != nil {
		t.Fatalf("the committed token is not visible before its fsync: %v", err)
	}
	// A second write during the fsync: the writer runs it in a group it
	// keeps open (uncommitted, so invisible to readers) until the fsync
	// ends; waiting for the writer to have taken it shows in WriteStats
	// only after the commit, so give it time to be taken.
	second := make(chan error, 1)
	go func() { second <- s.CreateToken(t.Context(), testToken(1, 8)) }()
	time.Sleep(50 * time.Millisecond)
	if _, err := s.GetTokenByAccessHash(t.Context(), testToken(1, 8).AccessHash); err == nil {
		t.Fatal("the second write committed during the first one's fsync: its group should wait for the fsync to end")
	}
	select {
	case err := <-second:
		t.Fatalf("the second write returned (%v) before any fsync covered it", err)
	default:
	}
	releaseOnce.Do(func() { close(release) })
	if err := <-returned; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTokenByAccessHash(t.Context(), testToken(1, 8).AccessHash); err != nil {
		t.Fatalf("the second write is not stored: %v", err)
	}
	if n := syncs.Load(); n != 2 {
		t.Errorf("%d fsyncs, want 2: the second commit came after the first fsync began", n)
	}
}

// TestGroupsGrowDuringFsyncs: with many concurrent writers and slow
// fsyncs, the writer gathers the writes that arrive during each fsync into
// one commit instead of committing them one by one.
func TestGroupsGrowDuringFsyncs(t *testing.T) {
	s := openWithSync(t, func(real func() error) error {
		time.Sleep(2 * time.Millisecond) // a slow disk
		return real()
	})
	before := s.WriteStats()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				if err := s.CreateToken(t.Context(), &tokend.Token{ServiceID: 1, ClientID: 1, GrantType: tokend.GrantClientCredentials,
					AccessHash: randomHash(t), Scopes: []string{"read"}, CreatedAt: time.UnixMilli(int64(g*100 + i)).UTC(),
					AccessExpiresAt: time.UnixMilli(1 << 40).UTC(), Minted: true}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := s.WriteStats()
	writes, commits, syncs := st.Writes-before.Writes, st.Commits-before.Commits, st.Syncs-before.Syncs
	if writes != 320 {
		t.Fatalf("%d writes counted, want 320", writes)
	}
	// 16 callers, each waiting for its fsync: nearly every commit should
	// carry several writes. One by one would be 320 commits.
	if commits > writes/3 {
		t.Errorf("%d commits for %d writes (%d fsyncs): the groups did not grow during the fsyncs", commits, writes, syncs)
	}
	if syncs > commits {
		t.Errorf("%d fsyncs for %d commits: at most one fsync per commit", syncs, commits)
	}
}

// TestFailedSyncStopsWrites: after an fsync fails, what the disk holds is
// unknown, so the waiting write and every later one fail with
// EUNAVAILABLE, and nothing more is written; reads go on.
func TestFailedSyncStopsWrites(t *testing.T) {
	s := openWithSync(t, func(func() error) error { return errors.New("EIO") })
	err := s.CreateToken(t.Context(), testToken(1, 1))
	var te *tokend.Error
	if !errors.As(err, &te) || te.Code != tokend.EUNAVAILABLE {
		t.Fatalf("CreateToken after a failed fsync: %v, want EUNAVAILABLE", err)
	}
	s.syncWAL = func() error { return nil } // even if the disk recovers
	later := testToken(1, 2)
	err = s.CreateToken(t.Context(), later)
	if !errors.As(err, &te) || te.Code != tokend.EUNAVAILABLE {
		t.Fatalf("a later CreateToken: %v, want EUNAVAILABLE", err)
	}
	if _, err := s.GetTokenByAccessHash(t.Context(), later.AccessHash); !errors.As(err, &te) || te.Code != tokend.ENOTFOUND {
		t.Fatalf("the refused write is in the store: %v", err)
	}
	if _, err := s.GetService(t.Context(), 1); err != nil {
		t.Fatalf("reads should go on: %v", err)
	}
}

// TestIntegrityUnderConcurrentLoad writes, revokes and reads from many
// goroutines with a tiny WAL threshold, so that background checkpoints,
// the writer's own checkpoints, WAL restarts and pipelined fsyncs all
// interleave; the database must pass SQLite's integrity check during the
// load (from a reader's snapshot) and after reopening, and hold every
// token whose creation was answered.
func TestIntegrityUnderConcurrentLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	s, err := Open(t.Context(), path, func(o *options) { o.walAutocheckpoint = 64 })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateService(t.Context(), &tokend.Service{ID: 1, CreatedAt: time.UnixMilli(1), UpdatedAt: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 6, 300
	var created atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				tok := &tokend.Token{ServiceID: 1, ClientID: int64(w), GrantType: tokend.GrantAuthorizationCode,
					Subject: fmt.Sprintf("user-%d", i%17), AccessHash: randomHash(t), RefreshHash: randomHash(t),
					Scopes: []string{"read"}, CreatedAt: time.UnixMilli(int64(1000 + i)).UTC(),
					AccessExpiresAt: time.UnixMilli(1 << 42).UTC(), RefreshExpiresAt: time.UnixMilli(1 << 42).UTC(), Minted: true}
				if err := s.CreateToken(t.Context(), tok); err != nil {
					t.Error(err)
					return
				}
				created.Add(1)
				if i%3 == 0 {
					if _, err := s.RevokeTokens(t.Context(), tokend.RevokeFilter{ServiceID: 1, TokenID: tok.ID}, time.UnixMilli(5000).UTC(), "test"); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	var checks atomic.Int32
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if msg := integrity(t, s.read); msg != "ok" {
				t.Errorf("integrity check during the load: %s", msg)
				return
			}
			checks.Add(1)
		}
	})
	waitWriters := make(chan struct{})
	go func() {
		for created.Load() < writers*perWriter && !t.Failed() {
			time.Sleep(10 * time.Millisecond)
		}
		close(waitWriters)
	}()
	select {
	case <-waitWriters:
	case <-time.After(2 * time.Minute):
		t.Error("the load did not finish in 2 minutes")
	}
	close(stop)
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if checks.Load() == 0 {
		t.Error("no integrity check ran during the load")
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if msg := integrity(t, db); msg != "ok" {
		t.Fatalf("integrity check after reopening: %s", msg)
	}
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM tokens").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != created.Load() {
		t.Fatalf("%d tokens stored, %d creations answered", n, created.Load())
	}
}

func integrity(t *testing.T, db *sql.DB) string {
	t.Helper()
	var msg string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&msg); err != nil {
		return err.Error()
	}
	return msg
}

func randomHash(t *testing.T) tokend.Hash {
	var h tokend.Hash
	if _, err := crand.Read(h[:]); err != nil {
		t.Fatal(err)
	}
	return h
}
