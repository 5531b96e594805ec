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

const insertAuditSQL = `INSERT INTO audit_log (at, service_id, actor, action, target_type, target_id, subject, reason)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// withAudit wraps a write so that it records entries after its change. An
// entry with a target type but no target id names the record the write
// created: its id is the connection's last inserted rowid, read before the
// audit rows change it.
func withAudit(entries []tokend.AuditEntry, fn func(context.Context, *sql.Tx) error) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		var created string
		for _, e := range entries {
			if e.TargetType != "" && e.TargetID == "" {
				var id int64
				if err := tx.QueryRowContext(ctx, `SELECT last_insert_rowid()`).Scan(&id); err != nil {
					return err
				}
				created = strconv.FormatInt(id, 10)
				break
			}
		}
		return insertAudit(ctx, tx, entries, created)
	}
}

func insertAudit(ctx context.Context, tx *sql.Tx, entries []tokend.AuditEntry, created string) error {
	for _, e := range entries {
		if e.Actor == "" || e.Action == "" || e.Time.IsZero() {
			return tokend.Invalid("audit", "an audit entry needs a time, an actor and an action")
		}
		target := e.TargetID
		if e.TargetType != "" && target == "" {
			target = created
		}
		var sid any
		if e.ServiceID != 0 {
			sid = e.ServiceID
		}
		if _, err := tx.ExecContext(ctx, insertAuditSQL, e.Time.UnixMilli(), sid, e.Actor, string(e.Action),
			text(e.TargetType), text(target), text(e.Subject), text(e.Reason)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) AppendAudit(ctx context.Context, entries ...tokend.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.inTx(tokend.WithoutAudit(ctx), func(ctx context.Context, tx *sql.Tx) error {
		return insertAudit(ctx, tx, entries, "")
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
