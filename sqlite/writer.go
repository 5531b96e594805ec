package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/tokend/tokend"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Group commit.
//
// A durable commit costs an fsync of the WAL, hundreds of microseconds on
// most disks, and nothing makes it cheaper per token but sharing it. Every
// write therefore goes to one writer goroutine, which takes whatever
// requests are waiting, runs each in its own SAVEPOINT of one transaction,
// commits once and hands the group to the syncer (durable.go), which
// answers the callers once an fsync has put the commit on disk: a caller
// whose call returned nil has its write on disk, but a thousand concurrent
// writers pay for a handful of fsyncs instead of a thousand.
//
// Requests run one after another on the one connection, so each sees the
// writes of those before it: of two rotations of the same refresh token the
// second finds it gone, exactly as with one transaction each.

// maxBatch bounds a group: a larger one would make its first caller wait
// for the statements of all the others, for little further saving once
// the fsync is shared by a few hundred.
const maxBatch = 256

// Request states; the writer and an impatient caller race for a queued one.
const (
	reqQueued    int32 = iota
	reqTaken           // the writer runs it: the caller waits for the outcome
	reqAbandoned       // the caller's context ended first: the writer skips it
)

// writeReq is one caller's write.
type writeReq struct {
	ctx   context.Context
	fn    func(context.Context, *sql.Tx) error
	one   bool // fn writes with one statement at most: see inStmt
	alone bool // fn runs in a transaction of its own: see inOwnTx
	state atomic.Int32
	err   error
	panic any // what fn panicked with, re-raised in the caller's goroutine
	done  chan struct{}
}

var errClosed = errors.New("sqlite: the store is closed")

// inTx runs fn in the writer's current group transaction, inside a savepoint
// of its own, and returns once the group is committed. If fn fails, its
// writes are rolled back (the other requests' are not) and its error is
// returned: a callerError unwrapped as the caller made it, a driver error
// translated. fn must use the context and transaction it is given, never the
// caller's context: interrupting a statement would roll back the whole group
// (sqlite3_interrupt), so the caller's context only decides whether fn runs.
func (s *Store) inTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if a := tokend.AuditEntries(ctx); a != nil {
		var err error
		if fn, err = s.withAudit(a, fn); err != nil { // audit.go
			return err
		}
	}
	return s.submit(ctx, &writeReq{ctx: ctx, fn: fn})
}

// inStmt is inTx for a write that is one statement, after any number of
// reads: SQLite undoes a statement that fails on a constraint by itself and
// keeps the transaction, so the savepoint would only repeat that, at a cost
// (it copies every page the request touches into the sub-journal) of about
// a sixth of a token insert. Errors that may end the whole transaction
// (I/O, full disk, memory) fail the group as they would with a savepoint.
func (s *Store) inStmt(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if a := tokend.AuditEntries(ctx); a != nil {
		// Still no savepoint: the entries are checked before, so their
		// insert can fail only as the disk fails, which ends the whole
		// group; and if the write's statement fails, none is inserted.
		var err error
		if fn, err = s.withAudit(a, fn); err != nil {
			return err
		}
	}
	return s.submit(ctx, &writeReq{ctx: ctx, fn: fn, one: true})
}

// inOwnTx is inTx for a large write (ImportTokens): it runs in a
// transaction of its own between groups, rolled back whole if it fails. In a
// savepoint, SQLite would copy every page it touches into the sub-journal
// (in memory) to be able to undo it alone: hundreds of megabytes for an
// import into a large store.
func (s *Store) inOwnTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if a := tokend.AuditEntries(ctx); a != nil {
		var err error
		if fn, err = s.withAudit(a, fn); err != nil {
			return err
		}
	}
	return s.submit(ctx, &writeReq{ctx: ctx, fn: fn, alone: true})
}

func (s *Store) submit(ctx context.Context, r *writeReq) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.done = make(chan struct{})
	// The read lock keeps Close from closing the queue under a sender; Close
	// waits for senders, which the writer keeps draining.
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return s.fail(ctx, errClosed)
	}
	if err := s.syncFailed(); err != nil {
		s.closeMu.RUnlock()
		return s.fail(ctx, err)
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	s.closeMu.RUnlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		// The writer took it: its outcome, committed or not, is the answer.
		<-r.done
	}
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// writer is the one goroutine that writes. It ends when Close closes reqs,
// after running every request queued before.
func (s *Store) writer() {
	defer close(s.writerDone)
	defer close(s.committed) // ends the syncer once it has answered the rest
	batch := make([]*writeReq, 0, maxBatch)
	for {
		r := s.carry
		if r != nil {
			s.carry = nil
		} else {
			var ok bool
			if r, ok = <-s.reqs; !ok {
				return
			}
		}
		batch = append(batch[:0], r)
		// Whatever else is waiting joins, but a lone request runs at once:
		// waiting for company would only add latency. Under load, requests
		// pile up during the previous group's fsync, and that is the group.
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		if err := s.syncFailed(); err != nil {
			for _, r := range batch {
				if r.state.CompareAndSwap(reqQueued, reqTaken) {
					r.err = s.fail(r.ctx, err)
					close(r.done)
				}
			}
			clear(batch)
			continue
		}
		for rest := batch; len(rest) > 0; {
			i := slices.IndexFunc(rest, func(r *writeReq) bool { return r.alone })
			if i < 0 {
				s.runBatch(rest)
				break
			}
			if i > 0 {
				s.runBatch(rest[:i])
			}
			s.runAlone(rest[i])
			rest = rest[i+1:]
		}
		clear(batch) // let the requests' closures be collected
	}
}

// savepoint statements, prepared once on the writer connection.
const (
	spBegin    = "SAVEPOINT req"
	spRelease  = "RELEASE req"
	spRollback = "ROLLBACK TO req"
)

// runBatch runs the requests in one transaction and answers each.
func (s *Store) runBatch(batch []*writeReq) {
	ctx := context.Background() // see inTx: no caller may interrupt the group
	var committed []*writeReq   // succeeded, answered after the commit
	// failed wrote nothing, but may have failed for what the group's
	// earlier requests wrote (a refresh token another request of the
	// group just rotated), which readers see only once the group commits:
	// they are answered after the commit, so that a caller who then reads
	// (the retired token, to tell reuse) finds what its failure saw.
	var failed []*writeReq
	answerFailed := func() {
		for _, r := range failed {
			close(r.done)
		}
		failed = nil
	}
	// abort answers the requests the transaction can no longer commit
	// and runs the ones not yet started in a new one.
	abort := func(tx *sql.Tx, err error, rest []*writeReq) {
		if tx != nil {
			tx.Rollback()
		}
		err = s.fail(ctx, err)
		for _, r := range committed {
			r.err = err
			close(r.done)
		}
		committed = nil
		answerFailed()
		if len(rest) > 0 {
			s.runBatch(rest)
		}
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		// Nothing ran: every request gets the error.
		for _, r := range batch {
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				r.err = s.fail(ctx, err)
				close(r.done)
			}
		}
		return
	}
	sp := [3]*sql.Stmt{tx.Stmt(s.spBegin), tx.Stmt(s.spRelease), tx.Stmt(s.spRollback)}
	for i := 0; ; i++ {
		if i == len(batch) {
			more, ok := s.joinLate(len(batch))
			if !ok {
				break
			}
			// A copy on the first append: batch may share its array with
			// requests the writer runs after this group.
			batch = append(batch[:len(batch):len(batch)], more)
		}
		r := batch[i]
		// The caller's turn: it may have given up while earlier ones ran.
		if !r.state.CompareAndSwap(reqQueued, reqTaken) {
			continue
		}
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		if r.one {
			err, panicked := runReq(ctx, tx, r.fn)
			if err == nil && panicked == nil {
				committed = append(committed, r)
				continue
			}
			r.err, r.panic = s.reqErr(ctx, err), panicked
			failed = append(failed, r)
			if panicked != nil || !stmtUndone(err) {
				abort(tx, err, batch[i+1:])
				return
			}
			continue
		}
		if _, err := sp[0].ExecContext(ctx); err != nil {
			committed = append(committed, r)
			abort(tx, err, batch[i+1:])
			return
		}
		err, panicked := runReq(ctx, tx, r.fn)
		if err == nil && panicked == nil {
			if _, err := sp[1].ExecContext(ctx); err != nil {
				committed = append(committed, r)
				abort(tx, err, batch[i+1:])
				return
			}
			committed = append(committed, r)
			continue
		}
		// Undo this request only. ROLLBACK TO keeps the savepoint open,
		// RELEASE then drops it. If SQLite has rolled back the whole
		// transaction itself (I/O error, disk full), this fails and the
		// group is lost.
		_, rbErr := sp[2].ExecContext(ctx)
		if rbErr == nil {
			_, rbErr = sp[1].ExecContext(ctx)
		}
		r.err, r.panic = s.reqErr(ctx, err), panicked
		failed = append(failed, r) // it wrote nothing: no need to wait for the fsync
		if rbErr != nil {
			abort(tx, rbErr, batch[i+1:])
			return
		}
	}
	if err := tx.Commit(); err != nil {
		err = s.fail(ctx, err)
		for _, r := range committed {
			r.err = err
			close(r.done)
		}
		answerFailed()
		return
	}
	answerFailed()
	s.countCommit(len(committed))
	if len(committed) > 0 {
		s.committed <- committed // answered once on disk: see durable.go
	}
}

// joinLate returns one more request for the open group, of n so far,
// while the syncer is still busy with the previous group: what the group
// takes in meanwhile will be answered after the next fsync anyway, whether
// it commits now or when the fsync ends, and one commit for all of them
// writes their shared pages (the table's last page, the indexes' newest
// and inner pages) to the WAL once. So the writer runs their statements
// during the fsync and commits when it ends (or the group is full). A
// request that must run alone is kept for after the group.
func (s *Store) joinLate(n int) (*writeReq, bool) {
	if n >= maxBatch {
		return nil, false
	}
	for s.syncBusy.Load() {
		select {
		case r, ok := <-s.reqs:
			if !ok {
				return nil, false
			}
			if r.alone {
				s.carry = r
				return nil, false
			}
			return r, true
		case <-s.syncIdle:
		}
	}
	return nil, false
}

// runAlone runs one request in a transaction of its own.
func (s *Store) runAlone(r *writeReq) {
	if !r.state.CompareAndSwap(reqQueued, reqTaken) {
		return
	}
	if r.err = r.ctx.Err(); r.err != nil {
		close(r.done)
		return
	}
	ctx := context.Background()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		r.err = s.fail(ctx, err)
		close(r.done)
		return
	}
	err, r.panic = runReq(ctx, tx, r.fn)
	if err != nil {
		tx.Rollback()
		r.err = s.reqErr(ctx, err)
		close(r.done)
		return
	}
	if err := tx.Commit(); err != nil {
		r.err = s.fail(ctx, err)
		close(r.done)
		return
	}
	s.countCommit(1)
	s.committed <- []*writeReq{r}
}

// stmtUndone reports whether err leaves the transaction as it was before
// the failed statement: our own refusals, made before writing, and SQLite's
// constraint violations, which it rolls back to the statement's start.
// Anything else may have rolled back the transaction.
func stmtUndone(err error) bool {
	var de *tokend.Error
	var ce callerError
	if errors.As(err, &de) || errors.As(err, &ce) {
		return true
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// runReq calls fn, turning a panic into a value: the caller re-raises it,
// and the requests around it are not lost with the writer goroutine.
func runReq(ctx context.Context, tx *sql.Tx, fn func(context.Context, *sql.Tx) error) (err error, panicked any) {
	defer func() {
		if v := recover(); v != nil {
			panicked = v
			err = fmt.Errorf("sqlite: write panicked: %v", v)
		}
	}()
	return fn(ctx, tx), nil
}

// reqErr is what a failed request's caller gets: an update function's
// error as it was made, anything else translated.
func (s *Store) reqErr(ctx context.Context, err error) error {
	var ce callerError
	if errors.As(err, &ce) {
		return ce.err
	}
	return s.fail(ctx, err)
}
