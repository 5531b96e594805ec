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
// A's change, A answers only once every other node has applied it: each
// node acknowledges the changes it applied with a notification of its own,
// and A waits for its own notification to come back and for the
// acknowledgement of every node it knows to be listening. (Waiting for
// the echo alone, as before, left a window: PostgreSQL signals every
// listener at once, but B may apply the change a moment after A's echo
// arrives, and a request that reached B in that moment was answered from
// B's stale cache — an acknowledged revocation that did not hold there.)
// Nodes know of each other from "hello" notifications, sent when a node
// starts listening and every helloEvery after; one not heard of for
// memberTTL, or that fails to acknowledge within echoWait, is not waited
// for again until it speaks. (Should the wait run out, A answers anyway;
// B drops its caches after any gap in its feed, and the caches' TTLs
// bound the rest.)
//
// Payloads: "v1 NODE SEQ CHANGE…", each change "kind:service:id"; "a1 NODE
// WRITER SEQ", NODE applied WRITER's change SEQ; "h1 NODE", NODE listens;
// "b1 NODE", NODE stops listening. Anything else on the channel — an
// operator's NOTIFY tokend_changes after editing tables by hand — makes
// every node drop everything it holds.

const channelName = "tokend_changes"

// echoWait bounds how long a write waits for its notification to come back
// and for the other nodes to acknowledge it.
const echoWait = time.Second

// helloEvery is how often a listening node says so; memberTTL is how long
// another node is waited for after it was last heard of.
const (
	helloEvery = 10 * time.Second
	memberTTL  = 3 * helloEvery
)

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
	listening bool                 // the listener is connected: echoes will come
	waiters   map[uint64]*waiter   // writes waiting for their echo and acknowledgements, by seq
	members   map[string]time.Time // the other listening nodes, and when each was last heard of
	stop      context.CancelFunc   // stops the listener; nil when none runs
	done      chan struct{}        // closed when the listener has stopped
	outbox    chan string          // acknowledgements and hellos for the sender
	sent      chan struct{}        // closed when the sender has stopped
}

// waiter is a write waiting for its notification to come back and for the
// other nodes to acknowledge it.
type waiter struct {
	ch      chan struct{} // closed when both have happened
	echoed  bool
	pending map[string]bool // nodes whose acknowledgement is awaited
}

// settle closes w's channel once everything it waits for has come; c.mu
// is held.
func (c *changeState) settle(seq uint64, w *waiter) {
	if w.echoed && len(w.pending) == 0 {
		close(w.ch)
		delete(c.waiters, seq)
	}
}

func (c *changeState) init() {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("postgres: crypto/rand failed: " + err.Error())
	}
	c.node = hex.EncodeToString(b[:])
	c.waiters = map[uint64]*waiter{}
	c.members = map[string]time.Time{}
}

// echo is a write's wait for its notification to come back.
type echo struct {
	c   *changeState
	seq uint64
	ch  chan struct{} // nil: nothing to wait for
}

// done waits for the echo and the acknowledgements, at most echoWait. The
// nodes that did not acknowledge in time are not waited for again until
// they are heard of.
func (e echo) done(ctx context.Context) {
	if e.ch == nil {
		return
	}
	t := time.NewTimer(echoWait)
	defer t.Stop()
	select {
	case <-e.ch:
	case <-t.C:
		e.c.mu.Lock()
		if w := e.c.waiters[e.seq]; w != nil {
			for node := range w.pending {
				delete(e.c.members, node)
			}
		}
		e.c.mu.Unlock()
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
		w := &waiter{ch: e.ch, pending: map[string]bool{}}
		now := time.Now()
		for node, seen := range c.members {
			if now.Sub(seen) < memberTTL {
				w.pending[node] = true
			} else {
				delete(c.members, node)
			}
		}
		c.waiters[seq] = w
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
	c.mu.Lock()
	c.outbox, c.sent = make(chan string, 1024), make(chan struct{})
	c.mu.Unlock()
	go s.sender(lctx, c.sent)
	c.say("h1 " + c.node)
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
		c.say("h1 " + c.node)
		fn(tokend.Change{Kind: tokend.ChangeAll})
	}
}

// deliver hands a notification to fn and acknowledges it, or wakes the
// write it echoes or acknowledges, or notes a node's hello or goodbye.
func (s *Store) deliver(payload string, fn func(tokend.Change)) {
	c := &s.changes
	if f := strings.Fields(payload); len(f) > 0 && (f[0] == "a1" || f[0] == "h1" || f[0] == "b1") {
		c.control(f)
		return
	}
	node, seq, changes, ok := decodeChanges(payload)
	switch {
	case !ok:
		fn(tokend.Change{Kind: tokend.ChangeAll})
	case node == c.node:
		// Our own write: the core dropped its caches already.
		c.echoed.Add(1)
		c.mu.Lock()
		if w := c.waiters[seq]; w != nil {
			w.echoed = true
			c.settle(seq, w)
		}
		c.mu.Unlock()
	default:
		for _, ch := range changes {
			fn(ch)
		}
		// Applied: the writer may answer its caller now.
		c.heard(node)
		c.say(fmt.Sprintf("a1 %s %s %d", c.node, node, seq))
	}
}

// control handles an acknowledgement, a hello or a goodbye.
func (c *changeState) control(f []string) {
	if len(f) < 2 || f[1] == c.node {
		return
	}
	node := f[1]
	switch f[0] {
	case "a1":
		if len(f) != 4 || f[2] != c.node {
			c.heard(node)
			return
		}
		seq, err := strconv.ParseUint(f[3], 10, 64)
		if err != nil {
			return
		}
		c.heard(node)
		c.mu.Lock()
		if w := c.waiters[seq]; w != nil {
			delete(w.pending, node)
			c.settle(seq, w)
		}
		c.mu.Unlock()
	case "h1":
		c.mu.Lock()
		_, known := c.members[node]
		c.members[node] = time.Now()
		c.mu.Unlock()
		if !known {
			c.say("h1 " + c.node) // so that the newcomer waits for us too
		}
	case "b1":
		c.mu.Lock()
		delete(c.members, node)
		for seq, w := range c.waiters {
			delete(w.pending, node)
			c.settle(seq, w)
		}
		c.mu.Unlock()
	}
}

// heard notes that node is alive.
func (c *changeState) heard(node string) {
	c.mu.Lock()
	c.members[node] = time.Now()
	c.mu.Unlock()
}

// say queues a notification for the sender; when the queue is full it is
// dropped, and the writer waiting for it answers after echoWait.
func (c *changeState) say(payload string) {
	select {
	case c.outbox <- payload:
	default:
	}
}

// sender sends what say queued, in order, and a hello every helloEvery,
// until ctx ends; then a goodbye.
func (s *Store) sender(ctx context.Context, done chan struct{}) {
	defer close(done)
	c := &s.changes
	tick := time.NewTicker(helloEvery)
	defer tick.Stop()
	send := func(ctx context.Context, payload string) {
		_, _ = s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, channelName, payload)
	}
	for {
		select {
		case <-ctx.Done():
			bye, cancel := context.WithTimeout(context.Background(), time.Second)
			send(bye, "b1 "+c.node)
			cancel()
			return
		case <-tick.C:
			send(ctx, "h1 "+c.node)
		case p := <-c.outbox:
			send(ctx, p)
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
		for seq, w := range c.waiters {
			close(w.ch)
			delete(c.waiters, seq)
		}
	}
}

func (s *Store) stopListener() {
	c := &s.changes
	c.mu.Lock()
	stop, done, sent := c.stop, c.done, c.sent
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-done
		if sent != nil {
			<-sent // its goodbye goes out before the pool closes
		}
	}
}
