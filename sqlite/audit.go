package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/tokend/tokend"
)

// The audit log rides in the writer's transactions: a write whose context
// carries entries (tokend.WithAudit) inserts them after its change, inside
// the same savepoint, so the change and its record commit together or not
// at all, under the group's one fsync.

// insertAuditSQL inserts one entry. With its ninth argument true, the
// target id is the rowid the connection inserted last: the record the
// write created, which SQLite reads here before this row changes it.
const insertAuditSQL = `INSERT INTO audit_log (at, service_id, actor, action, target_type, target_id, subject, reason)
	VALUES (?, ?, ?, ?, ?, CASE WHEN ? THEN CAST(last_insert_rowid() AS TEXT) ELSE ? END, ?, ?)`

// withAudit wraps a write so that it records entries after its change,
// with the writer's prepared insert. An entry with a target type but no
// target id names the record the write created (Store contract). The
// entries are checked here, before anything runs, so that inserting them
// cannot fail but as the disk fails (see inStmt).
func (s *Store) withAudit(entries []tokend.AuditEntry, fn func(context.Context, *sql.Tx) error) (func(context.Context, *sql.Tx) error, error) {
	if err := checkAudit(entries); err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return insertAudit(ctx, tx, tx.StmtContext(ctx, s.insertAudit), entries)
	}, nil
}

func checkAudit(entries []tokend.AuditEntry) error {
	for _, e := range entries {
		if e.Actor == "" || e.Action == "" || e.Time.IsZero() {
			return tokend.Invalid("audit", "an audit entry needs a time, an actor and an action")
		}
	}
	return nil
}

// needsCreated reports whether e names the record its write created.
func needsCreated(e tokend.AuditEntry) bool { return e.TargetType != "" && e.TargetID == "" }

func insertAudit(ctx context.Context, tx *sql.Tx, st *sql.Stmt, entries []tokend.AuditEntry) error {
	// The first entry reads the created id in SQL; should a later one need
	// it too (the core attaches one entry per write), it is read first.
	var created string
	for _, e := range entries[min(1, len(entries)):] {
		if needsCreated(e) {
			var id int64
			if err := tx.QueryRowContext(ctx, `SELECT last_insert_rowid()`).Scan(&id); err != nil {
				return err
			}
			created = strconv.FormatInt(id, 10)
			break
		}
	}
	for i, e := range entries {
		fromSQL := i == 0 && needsCreated(e) && created == ""
		target := e.TargetID
		if needsCreated(e) && !fromSQL {
			target = created
		}
		var sid any
		if e.ServiceID != 0 {
			sid = e.ServiceID
		}
		if _, err := st.ExecContext(ctx, e.Time.UnixMilli(), sid, e.Actor, string(e.Action),
			text(e.TargetType), fromSQL, text(target), text(e.Subject), text(e.Reason)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) AppendAudit(ctx context.Context, entries ...tokend.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := checkAudit(entries); err != nil {
		return err
	}
	return s.inTx(tokend.WithoutAudit(ctx), func(ctx context.Context, tx *sql.Tx) error {
		return insertAudit(ctx, tx, tx.StmtContext(ctx, s.insertAudit), entries)
	})
}

const auditCols = `id, at, service_id, actor, action, target_type, target_id, subject, reason`

func scanAudit(r rowScanner) (*tokend.AuditEntry, error) {
	var (
		e                                     tokend.AuditEntry
		at                                    int64
		sid                                   sql.NullInt64
		action                                string
		targetType, targetID, subject, reason sql.NullString
	)
	if err := r.Scan(&e.ID, &at, &sid, &e.Actor, &action, &targetType, &targetID, &subject, &reason); err != nil {
		return nil, err
	}
	e.Time, e.ServiceID, e.Action = timeOfMs(at), sid.Int64, tokend.AuditAction(action)
	e.TargetType, e.TargetID, e.Subject, e.Reason = targetType.String, targetID.String, subject.String, reason.String
	return &e, nil
}

func (s *Store) ListAudit(ctx context.Context, f tokend.AuditFilter) (*tokend.AuditPage, error) {
	if f.Limit < 1 {
		return nil, tokend.Invalid("limit", "must be at least 1")
	}
	var w where
	if f.ServiceID != nil {
		if *f.ServiceID == 0 {
			w.add("service_id IS NULL")
		} else {
			w.add("service_id = ?", *f.ServiceID)
		}
	}
	for _, c := range []struct{ col, v string }{
		{"actor", f.Actor}, {"action", string(f.Action)}, {"target_type", f.TargetType},
		{"target_id", f.TargetID}, {"subject", f.Subject},
	} {
		if c.v != "" {
			w.add(c.col+" = ?", c.v)
		}
	}
	if !f.Since.IsZero() {
		w.add("at >= ?", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		w.add("at < ?", f.Until.UnixMilli())
	}
	order := " DESC"
	if f.Ascending {
		order = ""
		if f.AfterID > 0 {
			w.add("id > ?", f.AfterID)
		}
	} else if f.BeforeID > 0 {
		w.add("id < ?", f.BeforeID)
	}
	var q strings.Builder
	q.WriteString(`SELECT ` + auditCols + ` FROM audit_log WHERE ` + w.String() + ` ORDER BY id` + order + ` LIMIT ?`)
	rows, err := s.read.QueryContext(ctx, q.String(), append(w.args, f.Limit+1)...)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	entries, err := collect(rows, scanAudit)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	page := &tokend.AuditPage{Entries: entries}
	if len(entries) > f.Limit {
		page.Entries, page.More = entries[:f.Limit], true
	}
	return page, nil
}
