package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"strings"

	"github.com/tokend/tokend"
)

var _ interface {
	tokend.Exporter
	tokend.Importer
} = (*Store)(nil)

const countRecordsSQL = `SELECT (SELECT count(*) FROM services), (SELECT count(*) FROM keys),
	(SELECT count(*) FROM clients), (SELECT count(*) FROM users), (SELECT count(*) FROM tokens),
	(SELECT count(*) FROM refresh_history), (SELECT count(*) FROM authorization_codes), (SELECT count(*) FROM audit_log)`

func scanCounts(row rowScanner) (tokend.RecordCounts, error) {
	var c tokend.RecordCounts
	err := row.Scan(&c.Services, &c.Keys, &c.Clients, &c.Users, &c.Tokens, &c.RetiredRefresh, &c.Codes, &c.Audit)
	return c, err
}

func (s *Store) CountRecords(ctx context.Context) (tokend.RecordCounts, error) {
	c, err := scanCounts(s.read.QueryRowContext(ctx, countRecordsSQL))
	return c, s.fail(ctx, err)
}

func scanRetired(r rowScanner) (*tokend.RetiredRefresh, error) {
	var (
		rr        tokend.RetiredRefresh
		hash      []byte
		retiredAt int64
	)
	if err := r.Scan(&hash, &rr.TokenID, &retiredAt, &rr.Successor); err != nil {
		return nil, err
	}
	var err error
	if rr.Hash, err = hashOf(hash); err != nil {
		return nil, err
	}
	rr.RetiredAt = timeOfMs(retiredAt)
	return &rr, nil
}

// exportQueries read each kind of record in Export's order, each with the
// scan that makes a Record of a row.
var exportQueries = []struct {
	sql  string
	scan func(rowScanner) (*tokend.Record, error)
}{
	{`SELECT ` + serviceCols + ` FROM services ORDER BY id`, func(r rowScanner) (*tokend.Record, error) {
		v, err := scanService(r)
		return &tokend.Record{Service: v}, err
	}},
	{`SELECT ` + keyCols + ` FROM keys ORDER BY id`, func(r rowScanner) (*tokend.Record, error) {
		v, err := scanKey(r)
		return &tokend.Record{Key: v}, err
	}},
	{`SELECT ` + clientCols + ` FROM clients ORDER BY id`, func(r rowScanner) (*tokend.Record, error) {
		v, err := scanClient(r)
		return &tokend.Record{Client: v}, err
	}},
	{`SELECT ` + userCols + ` FROM users ORDER BY id`, func(r rowScanner) (*tokend.Record, error) {
		v, err := scanUser(r)
		return &tokend.Record{User: v}, err
	}},
	{selectToken + ` ORDER BY id`, func(r rowScanner) (*tokend.Record, error) {
		// A scanner per row: each token must own its memory, since fn may
		// keep it.
		v, err := scanToken(r)
		return &tokend.Record{Token: v}, err
	}},
	{`SELECT hash, token_id, retired_at, successor FROM refresh_history ORDER BY hash`, func(r rowScanner) (*tokend.Record, error) {
		v, err := scanRetired(r)
		return &tokend.Record{Retired: v}, err
	}},
	{`SELECT ` + codeCols + ` FROM authorization_codes ORDER BY hash`, func(r rowScanner) (*tokend.Record, error) {
		v, err := scanCode(r)
		return &tokend.Record{Code: v}, err
	}},
	{`SELECT ` + auditCols + ` FROM audit_log ORDER BY id`, func(r rowScanner) (*tokend.Record, error) {
		v, err := scanAudit(r)
		return &tokend.Record{Audit: v}, err
	}},
}

// exportError carries fn's error out untouched.
type exportError struct{ err error }

func (e exportError) Error() string { return e.err.Error() }

// Export reads every table in one read transaction: WAL gives it one
// snapshot, and the writer goes on beside it (though the WAL cannot be
// checkpointed past the snapshot until it ends).
func (s *Store) Export(ctx context.Context, fn func(*tokend.Record) error) (tokend.RecordCounts, error) {
	var counts tokend.RecordCounts
	err := func() error {
		tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if counts, err = scanCounts(tx.QueryRowContext(ctx, countRecordsSQL)); err != nil {
			return err
		}
		for _, q := range exportQueries {
			rows, err := tx.QueryContext(ctx, q.sql)
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
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	}()
	var ee exportError
	if errors.As(err, &ee) {
		return counts, ee.err
	}
	return counts, s.fail(ctx, err)
}

// importSQLs insert one record of each kind with its id as given.
var importSQLs = map[string]string{
	"services": `INSERT INTO services (` + serviceCols + `) VALUES (` + marks(serviceCols) + `)`,
	"keys":     `INSERT INTO keys (` + keyCols + `) VALUES (` + marks(keyCols) + `)`,
	"clients":  `INSERT INTO clients (` + clientCols + `) VALUES (` + marks(clientCols) + `)`,
	"users":    `INSERT INTO users (` + userCols + `) VALUES (` + marks(userCols) + `)`,
	"tokens":   importSQL(1),
	"retired":  `INSERT INTO refresh_history (hash, token_id, retired_at, successor) VALUES (?, ?, ?, ?)`,
	"codes":    `INSERT INTO authorization_codes (` + codeCols + `) VALUES (` + marks(codeCols) + `)`,
	"audit":    `INSERT INTO audit_log (` + auditCols + `) VALUES (` + marks(auditCols) + `)`,
}

// marks is a "?" for every column of cols.
func marks(cols string) string {
	return strings.TrimSuffix(strings.Repeat("?, ", strings.Count(cols, ",")+1), ", ")
}

// importRow returns the kind of a record and the values of its row.
func importRow(r *tokend.Record) (string, []any, error) {
	switch {
	case r.Service != nil:
		args, err := serviceArgs(r.Service)
		return "services", append([]any{r.Service.ID}, args...), err
	case r.Key != nil:
		k := r.Key
		perms, err := words("permissions", k.Permissions)
		var serviceID any
		if k.ServiceID != 0 {
			serviceID = k.ServiceID
		}
		return "keys", []any{k.ID, serviceID, text(k.Name), perms, k.Hash[:], k.CreatedAt.UnixMilli(), millis(k.ExpiresAt)}, err
	case r.Client != nil:
		args, err := clientArgs(r.Client)
		return "clients", append([]any{r.Client.ID, r.Client.ServiceID, r.Client.ClientID}, args...), err
	case r.User != nil:
		args, err := userArgs(r.User)
		return "users", append([]any{r.User.ID, r.User.ServiceID, r.User.Username}, args...), err
	case r.Token != nil:
		args, err := importArgs(r.Token, r.Token.ID)
		return "tokens", args, err
	case r.Retired != nil:
		h := r.Retired
		var successor any
		if len(h.Successor) > 0 {
			successor = h.Successor
		}
		return "retired", []any{h.Hash[:], h.TokenID, h.RetiredAt.UnixMilli(), successor}, nil
	case r.Code != nil:
		args, err := codeArgs(r.Code)
		return "codes", args, err
	case r.Audit != nil:
		e := r.Audit
		var sid any
		if e.ServiceID != 0 {
			sid = e.ServiceID
		}
		return "audit", []any{e.ID, e.Time.UnixMilli(), sid, e.Actor, string(e.Action), text(e.TargetType),
			text(e.TargetID), text(e.Subject), text(e.Reason)}, nil
	}
	return "", nil, tokend.Invalid("record", "is empty")
}

// Import runs in a transaction of its own (see inOwnTx), holding the
// writer throughout: an import is meant for a store no server uses yet.
// Tokens' hashes are checked as CreateToken checks them, since the hash
// indexes cannot be UNIQUE (migration 0003). AUTOINCREMENT moves each id
// sequence past the ids given by itself.
func (s *Store) Import(ctx context.Context, next func() (*tokend.Record, error)) (tokend.RecordCounts, error) {
	var counts tokend.RecordCounts
	err := s.inOwnTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		counts = tokend.RecordCounts{}
		stmts := map[string]*sql.Stmt{}
		defer func() {
			for _, st := range stmts {
				st.Close()
			}
		}()
		check := tx.StmtContext(ctx, s.checkHashes)
		for {
			r, err := next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return callerError{err}
			}
			kind, args, err := importRow(r)
			if err != nil {
				return err
			}
			if r.Token != nil {
				if err := checkHashesWith(ctx, check, r.Token.ID, r.Token.AccessHash, r.Token.RefreshHash); err != nil {
					return err
				}
			}
			st := stmts[kind]
			if st == nil {
				if st, err = tx.PrepareContext(ctx, importSQLs[kind]); err != nil {
					return err
				}
				stmts[kind] = st
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return err
			}
			counts.Add(r)
		}
	})
	if err != nil {
		return tokend.RecordCounts{}, err
	}
	return counts, nil
}
