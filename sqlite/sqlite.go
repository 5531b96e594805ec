// Package sqlite implements tokend.Store on an SQLite database file, with the
// pure-Go modernc.org/sqlite driver.
//
// All writes go through one goroutine on one connection, so writers queue in
// Go instead of failing with "database is locked", and the writes waiting
// at once share one transaction and one fsync (group commit, writer.go);
// reads use a separate pool that WAL lets run beside the writer.
//
// # Memory
//
// Each connection has a page cache of its own, and together they are most of
// the store's memory. The budget is explicit: the writer's cache is 16 MiB
// and the read connections (max(4, GOMAXPROCS) of them) share 16 MiB, split
// evenly (at least 256 KiB each), so the page caches hold at most 32 MiB of
// pages however many cores the machine has. Reads of a large store are
// random (token hashes, one subject's tokens scattered over time), so a
// bigger read cache holds little that is read again: at 10,000,000 tokens,
// 32 MiB instead of 16 added 26 MiB of RSS and no measurable introspection
// throughput (BENCHMARKS.md). The file is read with plain reads, never memory-mapped
// (mmap_size 0): mapped pages would count toward the process's memory
// outside that budget. Either cache can be sized with WithCache, or with
// parameters after the path, in MiB:
//
//	/var/lib/tokend/tokend.db?writer_cache_mib=16&read_cache_mib=16
//
// A bigger read cache saves reads of the hash indexes' inner pages on a
// store of tens of millions of tokens; a smaller one costs only those reads,
// which the operating system's file cache usually serves.
//
// These are SQLite's cache sizes, counted in page contents. With the
// pure-Go driver's allocator each cached 4 KiB page (with SQLite's header)
// takes an 8 KiB slot, so a full cache occupies about twice its size: the
// default 48 MiB comes to about 96 MiB resident once every connection's
// cache has filled (measured: 107 MiB for a process whose five caches were
// filled by scans of a million-token store, against 171 MiB with the
// earlier 16 MiB per connection). The caches fill only as far as the pages
// read, and their size does not grow with the store.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/migrate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a tokend.Store backed by one SQLite file.
type Store struct {
	write *sql.DB // exactly one connection: every write and update transaction
	read  *sql.DB // query_only connections for plain reads

	getByAccess  *sql.Stmt
	getByRefresh *sql.Stmt
	insertToken  *sql.Stmt
	checkHashes  *sql.Stmt
	insertAudit  *sql.Stmt // audit.go

	// The group-commit writer (writer.go) and its savepoint statements.
	reqs                           chan *writeReq
	writerDone                     chan struct{}
	closeMu                        sync.RWMutex
	closed                         bool
	spBegin, spRelease, spRollback *sql.Stmt

	syncState // durable.go

	// Parsing a query costs more than running it on a few rows, so the
	// read pool's queries are prepared once and kept: the fixed lookups
	// (keys, services, clients...) and the token lists, whose SQL is built
	// from the filter but has few shapes in practice; up to a bound.
	listMu    sync.Mutex
	listStmts map[string]*sql.Stmt
}

const maxListStmts = 256

// reader is the read pool as a querier whose queries run prepared, see
// listStmt. It must not be used while holding a read transaction (a
// statement not yet prepared takes a connection of its own).
type reader struct{ s *Store }

func (s *Store) reader() reader { return reader{s} }

func (r reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, err := r.s.listStmt(ctx, query); err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.s.read.QueryRowContext(ctx, query, args...)
}

func (r reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, err := r.s.listStmt(ctx, query); err == nil && st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.s.read.QueryContext(ctx, query, args...)
}

// listStmt returns a prepared statement for a query on the read pool, or
// nil when the cache is full and the query should run unprepared.
func (s *Store) listStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	if st, ok := s.listStmts[query]; ok {
		return st, nil
	}
	if len(s.listStmts) >= maxListStmts {
		return nil, nil
	}
	st, err := s.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.listStmts == nil {
		s.listStmts = map[string]*sql.Stmt{}
	}
	s.listStmts[query] = st
	return st, nil
}

// listQuery is a list query with its cached statement (nil: uncached).
// The statement must be had before the transaction begins: preparing takes
// a pool connection, and transactions holding all of them while waiting
// for one more would deadlock.
type listQuery struct {
	sql  string
	args []any
	stmt *sql.Stmt
}

func (s *Store) prepareList(ctx context.Context, query string, args []any) (*listQuery, error) {
	st, err := s.listStmt(ctx, query)
	return &listQuery{query, args, st}, err
}

// run runs the query in tx, or on db when tx is nil.
func (q *listQuery) run(ctx context.Context, db *sql.DB, tx *sql.Tx) (*sql.Rows, error) {
	switch {
	case tx == nil && q.stmt == nil:
		return db.QueryContext(ctx, q.sql, q.args...)
	case tx == nil:
		return q.stmt.QueryContext(ctx, q.args...)
	case q.stmt == nil:
		return tx.QueryContext(ctx, q.sql, q.args...)
	default:
		return tx.StmtContext(ctx, q.stmt).QueryContext(ctx, q.args...)
	}
}

var _ tokend.Store = (*Store)(nil)

// The default page cache budget, see the package documentation. The hot
// working set is the hash indexes' upper levels and the newest tokens.
const (
	defaultWriterCacheKiB = 16 * 1024
	defaultReadCacheKiB   = 16 * 1024
	minConnCacheKiB       = 256 // a reader's share never falls below this
)

// Option changes how Open opens a store.
type Option func(*options)

type options struct {
	writerCacheKiB, readCacheKiB int
	walAutocheckpoint            int // pages; tests make it small
}

// WithCache sets the writer connection's page cache and the page cache the
// read connections share, in MiB; 0 keeps a default (16 MiB each).
func WithCache(writerMiB, readMiB int) Option {
	return func(o *options) {
		if writerMiB > 0 {
			o.writerCacheKiB = writerMiB * 1024
		}
		if readMiB > 0 {
			o.readCacheKiB = readMiB * 1024
		}
	}
}

// pathParams are the parameters a path may carry after "?", as Options.
var pathParams = map[string]func(mib int) Option{
	"writer_cache_mib": func(n int) Option { return WithCache(n, 0) },
	"read_cache_mib":   func(n int) Option { return WithCache(0, n) },
}

// splitPath separates a path from the options given after its "?".
func splitPath(path string) (string, []Option, error) {
	file, query, found := strings.Cut(path, "?")
	if strings.Contains(file, "#") {
		return "", nil, fmt.Errorf("sqlite: database path %q must not contain #", file)
	}
	if !found {
		return file, nil, nil
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return "", nil, fmt.Errorf("sqlite: database path %q: %w", path, err)
	}
	var opts []Option
	for k, vs := range vals {
		opt, ok := pathParams[k]
		if !ok {
			return "", nil, fmt.Errorf("sqlite: database path %q: unknown parameter %q (known: writer_cache_mib, read_cache_mib)", path, k)
		}
		n, err := strconv.Atoi(vs[len(vs)-1])
		if err != nil || n < 1 || n > 1<<20 {
			return "", nil, fmt.Errorf("sqlite: database path %q: %s must be a number of MiB from 1", path, k)
		}
		opts = append(opts, opt(n))
	}
	return file, opts, nil
}

// connRole is what a connection is opened for.
type connRole int

const (
	roleWriter connRole = iota
	roleReader
)

// writerAutocheckpoint is the WAL size, in pages, at which the writer
// copies the WAL into the database file after a commit: SQLite's default,
// named because tests lower it. (A background checkpointer on a connection
// of its own, with the writer's threshold at 10,000 pages, was tried: no
// measurable gain in throughput once the writer no longer waits for
// fsyncs, and p99 write latency doubled as the large checkpoints' fsyncs
// of the database file delayed the WAL's.)
const writerAutocheckpoint = 1000

func dsn(path string, role connRole, cacheKiB int) string {
	return dsnWith(path, role, cacheKiB, writerAutocheckpoint)
}

func dsnWith(path string, role connRole, cacheKiB, walAutocheckpoint int) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	// A token whose response was sent must survive a power cut. The
	// writer's commits are synced by the syncer (durable.go), so it runs
	// with NORMAL: in WAL mode, no sync inside a commit, and checkpoints
	// still sync. The other connections never commit a write; FULL keeps
	// every sync they might do.
	if role == roleWriter {
		q.Add("_pragma", "synchronous(NORMAL)")
	} else {
		q.Add("_pragma", "synchronous(FULL)")
	}
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheKiB))
	// No memory-mapped reads: mapped pages would grow the resident set
	// beyond the cache budget (the build's default is 0 too; this keeps
	// it so whatever the build).
	q.Add("_pragma", "mmap_size(0)")
	q.Add("_pragma", "temp_store(MEMORY)")
	switch role {
	case roleWriter:
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutocheckpoint))
		// Take the write lock at BEGIN: a deferred transaction that reads
		// and then writes could fail to upgrade its lock, which busy_timeout
		// does not retry.
		q.Set("_txlock", "immediate")
	case roleReader:
		q.Set("_query_only", "1")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date. The path may end in parameters, see the package documentation;
// options given here override them.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	path, popts, err := splitPath(path)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	o := options{writerCacheKiB: defaultWriterCacheKiB, readCacheKiB: defaultReadCacheKiB, walAutocheckpoint: writerAutocheckpoint}
	for _, opt := range append(popts, opts...) {
		opt(&o)
	}
	s := &Store{}
	if s.write, err = sql.Open("sqlite", dsnWith(path, roleWriter, o.writerCacheKiB, o.walAutocheckpoint)); err != nil {
		return nil, err
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxIdleTime(0)
	s.write.SetConnMaxLifetime(0)
	// The writer connects first: it switches the file to WAL, which the
	// read-only connections cannot do.
	if err := s.write.PingContext(ctx); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{{&s.spBegin, spBegin}, {&s.spRelease, spRelease}, {&s.spRollback, spRollback}} {
		if *p.st, err = s.write.PrepareContext(ctx, p.sql); err != nil {
			s.write.Close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
	}
	// Sized so that a full group can queue while the previous one commits
	// without its callers blocking on the channel.
	s.reqs = make(chan *writeReq, maxBatch)
	s.writerDone = make(chan struct{})
	s.committed = make(chan []*writeReq, maxBatch)
	s.syncerDone = make(chan struct{})
	s.syncIdle = make(chan struct{}, 1)
	s.syncWAL = func() error {
		if s.wal == nil {
			var err error
			if s.wal, err = openWAL(path); err != nil {
				return err
			}
		}
		return s.wal.Sync()
	}
	go s.syncer()
	go s.writer()
	// Migrations go through the writer too: one path for every write.
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	if s.read, err = sql.Open("sqlite", dsn(path, roleReader, readerCacheKiB(o.readCacheKiB, n))); err != nil {
		s.Close()
		return nil, err
	}
	s.read.SetMaxOpenConns(n)
	s.read.SetMaxIdleConns(n)
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// readerCacheKiB is each of n read connections' share of a budget.
func readerCacheKiB(budgetKiB, n int) int {
	return max(budgetKiB/n, minConnCacheKiB)
}

func (s *Store) prepare(ctx context.Context) error {
	var err error
	if s.getByAccess, err = s.read.PrepareContext(ctx, byAccessSQL); err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	if s.getByRefresh, err = s.read.PrepareContext(ctx, byRefreshSQL); err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	if s.insertToken, err = s.write.PrepareContext(ctx, insertTokenSQL); err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	if s.checkHashes, err = s.write.PrepareContext(ctx, checkHashesSQL); err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	if s.insertAudit, err = s.write.PrepareContext(ctx, insertAuditSQL); err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	return nil
}

// Close closes the database. The store cannot be used afterwards.
func (s *Store) Close() error {
	var errs []error
	s.listMu.Lock()
	for _, st := range s.listStmts {
		errs = append(errs, st.Close())
	}
	s.listStmts = nil
	s.listMu.Unlock()
	// Stop the writer first: it finishes every write queued before Close,
	// and later ones fail with EUNAVAILABLE.
	s.closeMu.Lock()
	if !s.closed && s.reqs != nil {
		s.closed = true
		close(s.reqs)
		s.closeMu.Unlock()
		<-s.writerDone
		<-s.syncerDone
		if s.wal != nil {
			errs = append(errs, s.wal.Close())
		}
	} else {
		s.closeMu.Unlock()
	}
	for _, st := range []*sql.Stmt{s.getByAccess, s.getByRefresh, s.insertToken, s.checkHashes, s.insertAudit, s.spBegin, s.spRelease, s.spRollback} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		// Lets SQLite refresh its planner statistics for the next start;
		// cheap, and a failure here must not keep the file from closing.
		s.write.Exec("PRAGMA optimize")
		errs = append(errs, s.write.Close())
	}
	return errors.Join(errs...)
}

// migration is one embedded schema step, named NNNN_description.sql.
func listMigrations() ([]migrate.Migration, error) {
	return migrate.List(migrations, "migrations", "sqlite")
}

// Migrate applies the embedded migrations the database lacks, all in one
// transaction, so a failed upgrade leaves the previous schema intact. It is
// idempotent; Open calls it.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := listMigrations()
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		)`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRowContext(ctx, "SELECT IFNULL(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return err
		}
		if len(ms) > 0 && current > ms[len(ms)-1].Version {
			return fmt.Errorf("sqlite: the database has schema version %d, newer than this program knows (%d)", current, ms[len(ms)-1].Version)
		}
		for _, m := range ms {
			if m.Version <= current {
				continue
			}
			body, err := migrations.ReadFile("migrations/" + m.Name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
				m.Version, time.Now().UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}

// Ready checks that a reader answers and that the schema has every
// embedded migration. It reads through the read pool, so that a probe never
// waits behind the writer.
func (s *Store) Ready(ctx context.Context) error {
	ms, err := listMigrations()
	if err != nil {
		return err
	}
	var v int
	if err := s.read.QueryRowContext(ctx, "SELECT IFNULL(MAX(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return s.fail(ctx, err)
	}
	if want := ms[len(ms)-1].Version; v != want {
		return tokend.Errorf(tokend.EUNAVAILABLE, "the database has schema version %d; this build needs %d (run tokend migrate)", v, want)
	}
	return nil
}

// SchemaVersion returns the newest migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.write.QueryRowContext(ctx, "SELECT IFNULL(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, s.fail(ctx, err)
}

// callerError carries an update function's error through inTx untouched:
// the contract returns it as is, whatever its type.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }

// runUpdate calls an update function, marking its error as the caller's.
func runUpdate[T any](update func(T) error, v T) error {
	if err := update(v); err != nil {
		return callerError{err}
	}
	return nil
}

// unavailable is an EUNAVAILABLE domain error that keeps its cause for
// errors.Is/As and for the operator's log, which tokend.Error cannot carry.
type unavailable struct {
	domain *tokend.Error
	cause  error
}

func (e *unavailable) Error() string   { return e.domain.Error() + ": " + e.cause.Error() }
func (e *unavailable) Unwrap() []error { return []error{e.domain, e.cause} }

// fail translates a driver error into the store's contract: context errors
// pass through, domain errors (from update functions or our own checks) are
// returned unchanged, constraint violations become ECONFLICT or ENOTFOUND,
// anything else EUNAVAILABLE.
func (s *Store) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var de *tokend.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if ctx.Err() != nil {
		// The driver reports an interrupted statement in its own words.
		return ctx.Err()
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return conflict(se.Error())
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return tokend.NotFound("service")
		}
	}
	return &unavailable{
		domain: &tokend.Error{Code: tokend.EUNAVAILABLE, Message: "the database is unavailable"},
		cause:  err,
	}
}

// conflictFields maps SQLite's "UNIQUE constraint failed: table.column"
// to the field the Store contract names.
var conflictFields = map[string]string{
	"services.id":              "id",
	"clients.id":               "id",
	"clients.client_id":        "client_id",
	"keys.hash":                "key",
	"keys.id":                  "id",
	"tokens.id":                "id",
	"authorization_codes.hash": "code",
	"users.username":           "username",
	"users.id":                 "id",
}

func conflict(msg string) error {
	const marker = "constraint failed: "
	cols := msg[strings.LastIndex(msg, marker)+len(marker):]
	cols, _, _ = strings.Cut(cols, " (")
	// A composite key is reported as "clients.service_id, clients.client_id":
	// the last column is the one that tells it apart.
	parts := strings.Split(cols, ", ")
	field := conflictFields[strings.TrimSpace(parts[len(parts)-1])]
	if field == "" {
		return &tokend.Error{Code: tokend.ECONFLICT, Message: "a unique value is already taken"}
	}
	return &tokend.Error{Code: tokend.ECONFLICT, Field: field, Message: "a record with this " + field + " already exists"}
}
