package postgres

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/tokend/tokend"
)

var _ interface {
	tokend.Exporter
	tokend.Importer
} = (*Store)(nil)

const countRecordsSQL = `SELECT (SELECT count(*) FROM services), (SELECT count(*) FROM keys),
	(SELECT count(*) FROM clients), (SELECT count(*) FROM users), (SELECT count(*) FROM tokens),
	(SELECT count(*) FROM refresh_history), (SELECT count(*) FROM authorization_codes), (SELECT count(*) FROM audit_log)`

func scanCounts(row pgx.Row) (tokend.RecordCounts, error) {
	var c tokend.RecordCounts
	err := row.Scan(&c.Services, &c.Keys, &c.Clients, &c.Users, &c.Tokens, &c.RetiredRefresh, &c.Codes, &c.Audit)
	return c, err
}

func (s *Store) CountRecords(ctx context.Context) (tokend.RecordCounts, error) {
	c, err := scanCounts(s.pool.QueryRow(ctx, countRecordsSQL))
	return c, s.fail(ctx, err)
}

// exportQueries read each kind of record in Export's order, each with the
// scan that makes a Record of a row.
var exportQueries = []struct {
	sql  string
	scan func(pgx.Row) (*tokend.Record, error)
}{
	{`SELECT ` + serviceCols + ` FROM services ORDER BY id`, func(r pgx.Row) (*tokend.Record, error) {
		v, err := scanService(r)
		return &tokend.Record{Service: v}, err
	}},
	{`SELECT ` + keyCols + ` FROM keys ORDER BY id`, func(r pgx.Row) (*tokend.Record, error) {
		v, err := scanKey(r)
		return &tokend.Record{Key: v}, err
	}},
	{`SELECT ` + clientCols + ` FROM clients ORDER BY id`, func(r pgx.Row) (*tokend.Record, error) {
		v, err := scanClient(r)
		return &tokend.Record{Client: v}, err
	}},
	{`SELECT ` + userCols + ` FROM users ORDER BY id`, func(r pgx.Row) (*tokend.Record, error) {
		v, err := scanUser(r)
		return &tokend.Record{User: v}, err
	}},
	{selectToken + ` ORDER BY id`, func(r pgx.Row) (*tokend.Record, error) {
		v, err := scanToken(r)
		return &tokend.Record{Token: v}, err
	}},
	{`SELECT hash, token_id, retired_at, successor FROM refresh_history ORDER BY hash`, func(r pgx.Row) (*tokend.Record, error) {
		v, err := scanRetired(r)
		return &tokend.Record{Retired: v}, err
	}},
	{`SELECT ` + codeCols + ` FROM authorization_codes ORDER BY hash`, func(r pgx.Row) (*tokend.Record, error) {
		v, err := scanCode(r)
		return &tokend.Record{Code: v}, err
	}},
	{`SELECT ` + auditCols + ` FROM audit_log ORDER BY id`, func(r pgx.Row) (*tokend.Record, error) {
		v, err := scanAudit(r)
		return &tokend.Record{Audit: v}, err
	}},
}

// exportError carries fn's error out of the read transaction untouched.
type exportError struct{ err error }

func (e exportError) Error() string { return e.err.Error() }

// Export reads every table in one REPEATABLE READ, read-only transaction:
// one snapshot, which writers on other connections do not wait for.
func (s *Store) Export(ctx context.Context, fn func(*tokend.Record) error) (tokend.RecordCounts, error) {
	var counts tokend.RecordCounts
	err := s.runRead(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if counts, err = scanCounts(tx.QueryRow(ctx, countRecordsSQL)); err != nil {
			return err
		}
		for _, q := range exportQueries {
			rows, err := tx.Query(ctx, q.sql)
			if err != nil {
				return err
			}
			for rows.Next() {
				rec, err := q.scan(rows)
				if err != nil {
					rows.Close()
					return err
				}
				if err := fn(rec); err != nil {
					rows.Close()
					return exportError{err}
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	var ee exportError
	if errors.As(err, &ee) {
		return counts, ee.err
	}
	return counts, s.fail(ctx, err)
}

// importBatch is how many rows one COPY carries.
const importBatch = 1000

// copyBuf collects rows of one table for COPY.
type copyBuf struct {
	table string
	cols  []string
	rows  [][]any
}

func splitCols(list string) []string {
	out := strings.Split(list, ",")
	for i, c := range out {
		out[i] = strings.TrimSpace(c)
	}
	return out
}

var (
	serviceCopyCols = splitCols(serviceCols)
	clientCopyCols  = splitCols(clientCols)
	tokenCopyCols   = splitCols("id, " + tokenCols)
	codeCopyCols    = splitCols(codeCols)
	auditCopyCols   = splitCols(auditCols)
)

// rowOf returns the table, columns and values of a record's row.
func rowOf(r *tokend.Record) (table string, columns []string, values []any, err error) {
	switch {
	case r.Service != nil:
		return "services", serviceCopyCols, append([]any{r.Service.ID}, serviceArgs(r.Service)...), nil
	case r.Key != nil:
		k := r.Key
		return "keys", []string{"id", "service_id", "name", "permissions", "hash", "created_at", "expires_at"},
			[]any{k.ID, keyServiceArg(k), k.Name, list(k.Permissions), k.Hash[:], k.CreatedAt, ts(k.ExpiresAt)}, nil
	case r.Client != nil:
		return "clients", clientCopyCols, append([]any{r.Client.ID}, clientArgs(r.Client)...), nil
	case r.User != nil:
		u := r.User
		return "users", []string{"id", "service_id", "username", "password_hash", "account_id", "roles", "created_at", "updated_at"},
			[]any{u.ID, u.ServiceID, u.Username, u.PasswordHash, u.AccountID, optList(u.Roles), u.CreatedAt, u.UpdatedAt}, nil
	case r.Token != nil:
		args, err := tokenArgs(r.Token)
		return "tokens", tokenCopyCols, append([]any{r.Token.ID}, args...), err
	case r.Retired != nil:
		h := r.Retired
		var successor any
		if len(h.Successor) > 0 {
			successor = h.Successor
		}
		return "refresh_history", []string{"hash", "token_id", "retired_at", "successor"},
			[]any{h.Hash[:], h.TokenID, h.RetiredAt, successor}, nil
	case r.Code != nil:
		return "authorization_codes", codeCopyCols, codeArgs(r.Code), nil
	case r.Audit != nil:
		e := r.Audit
		var sid any
		if e.ServiceID != 0 {
			sid = e.ServiceID
		}
		return "audit_log", auditCopyCols, []any{e.ID, e.Time.UTC(), sid, e.Actor, string(e.Action), e.TargetType,
			e.TargetID, e.Subject, e.Reason}, nil
	}
	return "", nil, nil, tokend.Invalid("record", "is empty")
}

// Import writes with COPY, a batch of rows of one table at a time, in one
// transaction, and then moves each id sequence past the ids imported. It
// is not retried: next cannot be replayed.
func (s *Store) Import(ctx context.Context, next func() (*tokend.Record, error)) (tokend.RecordCounts, error) {
	var counts tokend.RecordCounts
	err := s.runTx(ctx, pgx.TxOptions{}, func(ctx context.Context, t *tx) error {
		var buf copyBuf
		flush := func() error {
			if len(buf.rows) == 0 {
				return nil
			}
			_, err := t.CopyFrom(ctx, pgx.Identifier{buf.table}, buf.cols, pgx.CopyFromRows(buf.rows))
			buf.rows = buf.rows[:0]
			return err
		}
		for {
			r, err := next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return callerError{err}
			}
			table, columns, values, err := rowOf(r)
			if err != nil {
				return err
			}
			if table != buf.table || len(buf.rows) == importBatch {
				if err := flush(); err != nil {
					return err
				}
				buf.table, buf.cols = table, columns
			}
			buf.rows = append(buf.rows, values)
			counts.Add(r)
		}
		if err := flush(); err != nil {
			return err
		}
		for _, table := range []string{"services", "clients", "keys", "tokens", "users", "audit_log"} {
			if _, err := t.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), m)
				FROM (SELECT max(id) AS m FROM `+table+`) AS x
				WHERE m > coalesce((SELECT last_value FROM pg_sequences
					WHERE format('%I.%I', schemaname, sequencename)::regclass = pg_get_serial_sequence($1, 'id')::regclass), 0)`,
				table); err != nil {
				return err
			}
		}
		// Every node must forget what it held: the store changed under it.
		t.changed(tokend.Change{Kind: tokend.ChangeAll})
		return nil
	})
	var ce callerError
	if errors.As(err, &ce) {
		return tokend.RecordCounts{}, ce.err
	}
	if err != nil {
		return tokend.RecordCounts{}, s.fail(ctx, err)
	}
	return counts, nil
}
