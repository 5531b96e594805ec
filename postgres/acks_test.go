package postgres

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/pgtest"
)

// waitUntil polls cond within a generous bound: a bound on the wait, not
// a measurement.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *changeState) knows(node string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.members[node]
	return ok
}

// TestWriteWaitsForOtherNodes: a write on node A returns only once node B
// has applied it, however long B takes (here its change handler is slow),
// so that a request B serves after A answered never sees B's stale cache.
func TestWriteWaitsForOtherNodes(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := openOn(t, url), openOn(t, url)
	var applied atomic.Int64
	slow := func(ch tokend.Change) {
		if ch.Kind == tokend.ChangeService {
			time.Sleep(100 * time.Millisecond) // a busy node, or a slow scheduler
			applied.Add(1)
		}
	}
	if err := b.OnChange(t.Context(), slow); err != nil {
		t.Fatal(err)
	}
	if err := a.OnChange(t.Context(), func(tokend.Change) {}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "A hears of B", func() bool { return a.changes.knows(b.changes.node) })
	svc := mustService(t, a, 1) // announced: B has applied it when this returns
	if applied.Load() != 1 {
		t.Fatalf("CreateService returned before the other node applied it (%d applied)", applied.Load())
	}
	for i := range 5 {
		if _, err := a.UpdateService(t.Context(), svc.ID, func(s *tokend.Service) error { s.Name = "n"; return nil }); err != nil {
			t.Fatal(err)
		}
		if got := applied.Load(); got != int64(i+2) {
			t.Fatalf("update %d returned before the other node applied it (%d applied)", i, got)
		}
	}

	t.Run("AGoneNodeIsNotWaitedFor", func(t *testing.T) {
		// A node that says hello and then never acknowledges (killed): a
		// write waits for it at most echoWait, once.
		if _, err := a.pool.Exec(t.Context(), `SELECT pg_notify($1, 'h1 ghost')`, channelName); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "A hears of the ghost", func() bool { return a.changes.knows("ghost") })
		if _, err := a.UpdateService(t.Context(), svc.ID, func(s *tokend.Service) error { s.Name = "m"; return nil }); err != nil {
			t.Fatal(err)
		}
		if a.changes.knows("ghost") {
			t.Fatal("a node that did not acknowledge is still waited for")
		}
		if !a.changes.knows(b.changes.node) {
			t.Fatal("the node that did acknowledge was forgotten")
		}
	})
	t.Run("AStoppedNodeSaysGoodbye", func(t *testing.T) {
		b.Close()
		waitUntil(t, "A hears B leave", func() bool { return !a.changes.knows(b.changes.node) })
		before := applied.Load()
		if _, err := a.UpdateService(context.Background(), svc.ID, func(s *tokend.Service) error { s.Name = "o"; return nil }); err != nil {
			t.Fatal(err)
		}
		if applied.Load() != before {
			t.Fatal("a closed node applied a change")
		}
	})
}
