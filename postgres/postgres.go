// Package postgres implements tokend.Store on PostgreSQL, with pgx and its
// connection pool, for deployments that run several tokend processes
// (nodes) on one database.
//
// The schema is embedded and brought up to date by Open under an advisory
// lock, so that nodes starting together migrate once. Every write is one
// transaction; those that must have exactly one winner among concurrent
// callers on any node (refresh rotation, code redemption, updates) lock
// their row with SELECT … FOR UPDATE before deciding. Writes that change
// what nodes keep in memory announce it with NOTIFY in the same
// transaction (changes.go), and OnChange delivers other nodes' announcements.
//
// The URL is pgx's: postgres://user:password@host:5432/db?sslmode=disable,
// with pgxpool's parameters (pool_max_conns, …) and libpq's environment
// variables (PGPASSWORD, …).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys: (lockClass, lock*) in the two-int form, so that they
// stay clear of keys other applications on the database may use.
const (
	lockClass   = 0x746b6e64 // "tknd"
	lockMigrate = 1
	lockJanitor = 2
)

// Store is a tokend.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	cfg  *pgxpool.Config

	changes changeState // changes.go

	closeOnce sync.Once
}

var _ tokend.Store = (*Store)(nil)

// Open connects to the database the URL names and brings its schema up to
// date. The password never appears in its errors.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors quote the URL, password included.
		return nil, errors.New("postgres: the store URL cannot be parsed; the form is postgres://user:password@host:port/database?sslmode=disable")
	}
	// Every time the store writes is in UTC already; reading in UTC too
	// keeps the server's zone out of it.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, cfg: cfg}
	s.changes.init()
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the change feed and closes every connection.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopListener()
		s.pool.Close()
	})
	return nil
}

func listMigrations() ([]migrate.Migration, error) {
	return migrate.List(migrations, "migrations", "postgres")
}

// Migrate applies the embedded migrations the database lacks, in one
// transaction holding an advisory lock: nodes starting at once wait for
// the first, which migrates, and then find nothing to do. A failed upgrade
// leaves the previous schema intact. Open calls it.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := listMigrations()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockClass, lockMigrate); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return err
		}
		if len(ms) > 0 && current > ms[len(ms)-1].Version {
			return fmt.Errorf("postgres: the database has schema version %d, newer than this program knows (%d)", current, ms[len(ms)-1].Version)
		}
		for _, m := range ms {
			if m.Version <= current {
				continue
			}
			body, err := migrations.ReadFile("migrations/" + m.Name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, m.Version); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !strings.HasPrefix(err.Error(), "postgres:") {
		err = fmt.Errorf("postgres: migrate: %w", err)
	}
	return err
}

// Ready checks that the database answers and that the schema has every
// embedded migration.
func (s *Store) Ready(ctx context.Context) error {
	ms, err := listMigrations()
	if err != nil {
		return err
	}
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
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
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, s.fail(ctx, err)
}

// tx is a write transaction and the changes it will announce when it
// commits (see changes.go).
type tx struct {
	pgx.Tx
	changes []tokend.Change
	created int64 // the id of the record the write created, for its audit entries (audit.go)
}

// changed queues ch to be announced with the commit.
func (t *tx) changed(ch tokend.Change) { t.changes = append(t.changes, ch) }

// maxAttempts bounds how often a transaction is run again after
// PostgreSQL aborted it for a deadlock or a serialization failure.
const maxAttempts = 4

// inTx runs fn in a transaction and commits it. An error from fn rolls it
// back: a callerError is returned unwrapped, exactly as the caller made
// it, anything else translated by fail. A transaction PostgreSQL aborted
// to break a deadlock is run again, fn included: update functions see the
// current record each time, as the Store contract says.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, t *tx) error) error {
	if a := tokend.AuditEntries(ctx); a != nil {
		fn = withAudit(a, fn) // audit.go
	}
	for attempt := 1; ; attempt++ {
		err := s.runTx(ctx, pgx.TxOptions{}, fn)
		if attempt < maxAttempts && retryable(err) && ctx.Err() == nil {
			continue
		}
		var ce callerError
		if errors.As(err, &ce) {
			return ce.err
		}
		return s.fail(ctx, err)
	}
}

func (s *Store) runTx(ctx context.Context, opts pgx.TxOptions, fn func(ctx context.Context, t *tx) error) (err error) {
	ptx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	t := &tx{Tx: ptx}
	defer func() {
		// With a context of its own, so that a cancelled caller still
		// leaves the connection clean for the pool.
		if p := recover(); p != nil {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err = fn(ctx, t); err != nil {
		return err
	}
	wait, err := s.announce(ctx, t)
	if err != nil {
		return err
	}
	if err = ptx.Commit(ctx); err != nil {
		wait.cancel()
		return err
	}
	wait.done(ctx)
	return nil
}

// retryable reports a transaction PostgreSQL aborted so that another could
// go on, which succeeds when run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// callerError carries an update function's error through inTx untouched.
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
// errors.Is/As and for the operator's log.
type unavailable struct {
	domain *tokend.Error
	cause  error
}

func (e *unavailable) Error() string   { return e.domain.Error() + ": " + e.cause.Error() }
func (e *unavailable) Unwrap() []error { return []error{e.domain, e.cause} }

// conflictFields maps unique constraints (named in the migrations) to the
// field the Store contract names.
var conflictFields = map[string]string{
	"services_pkey":            "id",
	"clients_pkey":             "id",
	"clients_client_id_key":    "client_id",
	"keys_pkey":                "id",
	"keys_hash_key":            "key",
	"tokens_pkey":              "id",
	"tokens_access_hash_key":   "access_token",
	"tokens_refresh_hash_key":  "refresh_token",
	"authorization_codes_pkey": "code",
	"users_pkey":               "id",
	"users_username_key":       "username",
	"refresh_history_pkey":     "refresh_token",
}

// fail translates a driver error into the store's contract: context errors
// pass through, domain errors are returned unchanged, unique violations
// become ECONFLICT with the field, a missing service ENOTFOUND, a value
// PostgreSQL cannot hold EINVALID, and anything else — a lost connection,
// a server shutting down — EUNAVAILABLE.
func (s *Store) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var de *tokend.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			field := conflictFields[pe.ConstraintName]
			if field == "" {
				return &tokend.Error{Code: tokend.ECONFLICT, Message: "a unique value is already taken"}
			}
			return &tokend.Error{Code: tokend.ECONFLICT, Field: field, Message: "a record with this " + field + " already exists"}
		case pe.Code == "23503":
			return tokend.NotFound("service")
		case strings.HasPrefix(pe.Code, "22"):
			// Data exceptions: a value out of PostgreSQL's range or
			// not valid in its type. Retrying cannot help.
			return &tokend.Error{Code: tokend.EINVALID, Message: "a value cannot be stored: " + pe.Message}
		}
	}
	return &unavailable{
		domain: &tokend.Error{Code: tokend.EUNAVAILABLE, Message: "the database is unavailable"},
		cause:  err,
	}
}

// mustAffect turns "no row changed" into ENOTFOUND for what.
func mustAffect(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return tokend.NotFound(what)
	}
	return nil
}

// queryer is a pool or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// notFound turns pgx.ErrNoRows into ENOTFOUND for what.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return tokend.NotFound(what)
	}
	return err
}

// collect scans every row and closes rows.
func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Times: the store keeps the core's millisecond values; PostgreSQL reads
// them back in microseconds, exactly.

// ts encodes an optional time: NULL when zero.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// timeOf decodes an optional time.
func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return utc(*t)
}

// utc returns t in UTC, and the zero time for the zero instant, which a
// NOT NULL column stores as 0001-01-01.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// hashArg encodes an optional hash: NULL when unset.
func hashArg(h tokend.Hash) any {
	if h.IsZero() {
		return nil
	}
	return h[:]
}

func hashOf(b []byte) (tokend.Hash, error) {
	var h tokend.Hash
	if len(b) == 0 {
		return h, nil
	}
	if len(b) != len(h) {
		return h, fmt.Errorf("postgres: stored hash has %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// list encodes a list that is always present: never NULL.
func list[T ~string](l []T) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = string(v)
	}
	return out
}

// optList encodes an optional list: NULL when empty.
func optList(l []string) any {
	if len(l) == 0 {
		return nil
	}
	return l
}

// listOf decodes a list that is always present: empty, not nil.
func listOf[T ~string](l []string) []T {
	out := make([]T, len(l))
	for i, v := range l {
		out[i] = T(v)
	}
	return out
}

// optListOf decodes an optional list: nil when empty.
func optListOf(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}
