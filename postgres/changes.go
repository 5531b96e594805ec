package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tokend/tokend"
)

// Cross-node invalidation.
//
// Every node keeps services, clients and introspected tokens in memory
// (package tokend: cache.go, tokencache.go). A write that changes one of
// them sends a NOTIFY on channelName inside its own transaction, so that
// PostgreSQL delivers it exactly when, and only if, the write commits. Each
// node LISTENs on a connection of its own (OnChange) and hands what other
// nodes announce to the core (tokend.Core.ApplyChange).
//
// NOTIFY is asynchronous: a node learns of a commit a moment after it
// happened. So that a request sent to node B after node A answered sees
// A's change, A answers only once its own listener has received its
// notification back: PostgreSQL signals every listener at once, so by then
// B's has been told too. (Should A's echo not come within echoWait, A
// answers anyway; B drops its caches after any gap in its feed, and the
// caches' TTLs bound the rest.)
//
// A payload is "v1 NODE SEQ CHANGE…", each change "kind:service:id".
// Anything else on the channel — an operator's NOTIFY tokend_changes after
// editing tables by hand — makes every node drop everything it holds.

const channelName = "tokend_changes"

// echoWait bounds how long a write waits for its notification to come back.
const echoWait = time.Second

// maxPayload keeps a payload under PostgreSQL's 8000 bytes; a write that
// changes more announces ChangeAll instead.
const maxPayload = 7000

type changeState struct {
	node   string // this store's id in payloads, to tell its own from others'
	seq    atomic.Uint64
	echoed atomic.Uint64 // own notifications come back, for tests
	// listenerPID is the listener's server process, for tests.
	listenerPID atomic.Uint32

	mu        sync.Mutex
	listening bool                     // the listener is connected: echoes will come
	waiters   map[uint64]chan struct{} // writes waiting for their echo, by seq
	stop      context.CancelFunc       // stops the listener; nil when none runs
	done      chan struct{}            // closed when the listener has stopped
}

func (c *changeState) init() {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("postgres: crypto/rand failed: " + err.Error())
	}
	c.node = hex.EncodeToString(b[:])
	c.waiters = map[uint64]chan struct{}{}
}

// echo is a write's wait for its notification to come back.
type echo struct {
	c   *changeState
	seq uint64
	ch  chan struct{} // nil: nothing to wait for
}

// done waits for the echo, at most echoWait.
func (e echo) done(ctx context.Context) {
	if e.ch == nil {
		return
	}
	t := time.NewTimer(echoWait)
	defer t.Stop()
	select {
	case <-e.ch:
	case <-t.C:
	case <-ctx.Done():
	}
	e.cancel()
}

// cancel stops waiting: the transaction did not commit.
func (e echo) cancel() {
	if e.ch == nil {
		return
	}
	e.c.mu.Lock()
	delete(e.c.waiters, e.seq)
	e.c.mu.Unlock()
}

// announce sends the transaction's changes with NOTIFY, to be delivered if
// it commits, and returns the wait for their echo.
func (s *Store) announce(ctx context.Context, t *tx) (echo, error) {
	if len(t.changes) == 0 {
		return echo{}, nil
	}
	c := &s.changes
	seq := c.seq.Add(1)
	payload := encodeChanges(c.node, seq, t.changes)
	if _, err := t.Exec(ctx, `SELECT pg_notify($1, $2)`, channelName, payload); err != nil {
		return echo{}, err
	}
	e := echo{c: c, seq: seq}
	c.mu.Lock()
	if c.listening {
		e.ch = make(chan struct{})
		c.waiters[seq] = e.ch
	}
	c.mu.Unlock()
	return e, nil
}

func encodeChanges(node string, seq uint64, changes []tokend.Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v1 %s %d", node, seq)
	seen := map[tokend.Change]bool{}
	for _, ch := range changes {
		if seen[ch] {
			continue
		}
		seen[ch] = true
		fmt.Fprintf(&b, " %d:%d:%d", ch.Kind, ch.ServiceID, ch.ID)
		if b.Len() > maxPayload {
			b.Reset()
			fmt.Fprintf(&b, "v1 %s %d %d:0:0", node, seq, tokend.ChangeAll)
			break
		}
	}
	return b.String()
}

// decodeChanges parses a payload; ok is false for one it cannot read.
func decodeChanges(payload string) (node string, seq uint64, changes []tokend.Change, ok bool) {
	f := strings.Fields(payload)
	if len(f) < 3 || f[0] != "v1" {
		return "", 0, nil, false
	}
	seq, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return "", 0, nil, false
	}
	for _, item := range f[3:] {
		parts := strings.Split(item, ":")
		if len(parts) != 3 {
			return "", 0, nil, false
		}
		var v [3]int64
		for i, p := range parts {
			if v[i], err = strconv.ParseInt(p, 10, 64); err != nil {
				return "", 0, nil, false
			}
		}
		if v[0] < 0 || v[0] > int64(tokend.ChangeService) {
			return "", 0, nil, false
		}
		changes = append(changes, tokend.Change{Kind: tokend.ChangeKind(v[0]), ServiceID: v[1], ID: v[2]})
	}
	return f[1], seq, changes, true
}

// OnChange starts delivering the changes other processes announce to fn,
// from a connection of its own, and returns once it listens: every change
// committed after it returns reaches fn. fn runs on the listener's
// goroutine and must not block. When the connection is lost the store
// reconnects, and since changes may have been missed meanwhile, fn gets a
// ChangeAll. It may be called once; Close stops it.
func (s *Store) OnChange(ctx context.Context, fn func(tokend.Change)) error {
	c := &s.changes
	c.mu.Lock()
	if c.stop != nil {
		c.mu.Unlock()
		return errors.New("postgres: OnChange called twice")
	}
	lctx, stop := context.WithCancel(context.Background())
	c.stop, c.done = stop, make(chan struct{})
	c.mu.Unlock()

	conn, err := s.listen(ctx)
	if err != nil {
		stop()
		close(c.done)
		return err
	}
	c.setListening(true)
	go s.listenLoop(lctx, conn, fn)
	return nil
}

// listen opens the listener's connection.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.cfg.ConnConfig.Copy())
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channelName); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, s.fail(ctx, err)
	}
	s.changes.listenerPID.Store(conn.PgConn().PID())
	return conn, nil
}

func (s *Store) listenLoop(ctx context.Context, conn *pgx.Conn, fn func(tokend.Change)) {
	c := &s.changes
	defer close(c.done)
	backoff := 50 * time.Millisecond
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			backoff = 50 * time.Millisecond
			s.deliver(n.Payload, fn)
			continue
		}
		// Lost (or stopping): no echo will come until it is back.
		c.setListening(false)
		conn.Close(context.Background())
		for {
			if ctx.Err() != nil {
				return
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, 5*time.Second)
			if conn, err = s.listen(ctx); err == nil {
				break
			}
		}
		c.setListening(true)
		fn(tokend.Change{Kind: tokend.ChangeAll})
	}
}

// deliver hands a notification to fn, or wakes the write it echoes.
func (s *Store) deliver(payload string, fn func(tokend.Change)) {
	c := &s.changes
	node, seq, changes, ok := decodeChanges(payload)
	switch {
	case !ok:
		fn(tokend.Change{Kind: tokend.ChangeAll})
	case node == c.node:
		// Our own write: the core dropped its caches already.
		c.echoed.Add(1)
		c.mu.Lock()
		if ch := c.waiters[seq]; ch != nil {
			close(ch)
			delete(c.waiters, seq)
		}
		c.mu.Unlock()
	default:
		for _, ch := range changes {
			fn(ch)
		}
	}
}

// setListening records whether echoes will come; when they stop, the
// writes waiting for one go on at once.
func (c *changeState) setListening(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listening = on
	if !on {
		for seq, ch := range c.waiters {
			close(ch)
			delete(c.waiters, seq)
		}
	}
}

func (s *Store) stopListener() {
	c := &s.changes
	c.mu.Lock()
	stop, done := c.stop, c.done
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}
