package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tokend/tokend"
)

// The audit log rides in the write's own transaction: a write whose
// context carries entries (tokend.WithAudit) inserts them after its
// change, so the change and its record commit together or not at all,
// and a transaction run again after a serialization failure writes them
// once, with its last run.

const insertAuditSQL = `INSERT INTO audit_log (at, service_id, actor, action, target_type, target_id, subject, reason)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

// withAudit wraps a write so that it records entries after its change. An
// entry with a target type but no target id names the record the write
// created (tx.created).
func withAudit(entries []tokend.AuditEntry, fn func(context.Context, *tx) error) func(context.Context, *tx) error {
	return func(ctx context.Context, t *tx) error {
		if err := fn(ctx, t); err != nil {
			return err
		}
		var created string
		if t.created != 0 {
			created = strconv.FormatInt(t.created, 10)
		}
		return insertAudit(ctx, t, entries, created)
	}
}

func insertAudit(ctx context.Context, t pgx.Tx, entries []tokend.AuditEntry, created string) error {
	batch := &pgx.Batch{}
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
		batch.Queue(insertAuditSQL, e.Time.UTC(), sid, e.Actor, string(e.Action), e.TargetType, target, e.Subject, e.Reason)
	}
	return t.SendBatch(ctx, batch).Close()
}

func (s *Store) AppendAudit(ctx context.Context, entries ...tokend.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.inTx(tokend.WithoutAudit(ctx), func(ctx context.Context, t *tx) error {
		return insertAudit(ctx, t, entries, "")
	})
}

const auditCols = `id, at, service_id, actor, action, target_type, target_id, subject, reason`

func scanAudit(r pgx.Row) (*tokend.AuditEntry, error) {
	var (
		e      tokend.AuditEntry
		at     time.Time
		sid    *int64
		action string
	)
	if err := r.Scan(&e.ID, &at, &sid, &e.Actor, &action, &e.TargetType, &e.TargetID, &e.Subject, &e.Reason); err != nil {
		return nil, err
	}
	e.Time, e.Action = utc(at), tokend.AuditAction(action)
	if sid != nil {
		e.ServiceID = *sid
	}
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
			w.add("service_id = $", *f.ServiceID)
		}
	}
	for _, c := range []struct{ col, v string }{
		{"actor", f.Actor}, {"action", string(f.Action)}, {"target_type", f.TargetType},
		{"target_id", f.TargetID}, {"subject", f.Subject},
	} {
		if c.v != "" {
			w.add(c.col+" = $", c.v)
		}
	}
	if !f.Since.IsZero() {
		w.add("at >= $", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		w.add("at < $", f.Until.UTC())
	}
	order := " DESC"
	if f.Ascending {
		order = ""
		if f.AfterID > 0 {
			w.add("id > $", f.AfterID)
		}
	} else if f.BeforeID > 0 {
		w.add("id < $", f.BeforeID)
	}
	q := `SELECT ` + auditCols + ` FROM audit_log WHERE ` + w.sql(1) + ` ORDER BY id` + order +
		` LIMIT ` + strconv.Itoa(f.Limit+1)
	rows, err := s.pool.Query(ctx, q, w.args...)
	entries, err := collect(rows, err, scanAudit)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	page := &tokend.AuditPage{Entries: entries}
	if len(entries) > f.Limit {
		page.Entries, page.More = entries[:f.Limit], true
	}
	return page, nil
}
