package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// sweepDelete deletes the candidates $1 that are still dead before the
// cutoff ($2, $3: a row may have changed since it was found), skipping
// those another transaction holds locked.
const sweepDelete = `DELETE FROM tokens t WHERE t.id IN (
		SELECT id FROM tokens WHERE id = ANY ($1) FOR UPDATE SKIP LOCKED)
	AND (t.expires_at < $2 OR t.revoked_at < $3)`

// sweepCodes deletes up to $2 codes expired before $1.
const sweepCodes = `DELETE FROM authorization_codes WHERE hash IN (
	SELECT hash FROM authorization_codes WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`

// sweepCandidates lists up to $3 dead tokens of service $1 (cutoff $2)
// whose grant has no token that is not dead: by expiry, then by revocation,
// each a range on an index (tokens_expires, tokens_revoked). The grant's
// tokens are the rows RevokeTokens' GrantID filter names, found through the
// primary key and tokens_grant. Each branch looks past the tokens a live
// grant holds back, so a batch comes back short only when fewer than $3
// tokens can go.
const sweepCandidates = `
	(SELECT t.id FROM tokens t WHERE t.service_id = $1 AND t.expires_at < $2 AND ` + grantDeadSQL + ` LIMIT $3)
	UNION
	(SELECT t.id FROM tokens t WHERE t.service_id = $1 AND t.revoked_at < $2 AND ` + grantDeadSQL + ` LIMIT $3)
	LIMIT $3`

// grantDeadSQL is true when no token of t's grant is alive at the cutoff $2.
const grantDeadSQL = `NOT EXISTS (
		SELECT 1 FROM tokens m
		WHERE (m.grant_id = coalesce(t.grant_id, t.id) OR (m.id = coalesce(t.grant_id, t.id) AND m.grant_id IS NULL))
			AND NOT coalesce(m.expires_at < $2 OR m.revoked_at < $2, false))`

// SweepTokens deletes a batch of dead tokens of one service in one
// transaction; their retired refresh tokens go with them (ON DELETE
// CASCADE). Rows another transaction holds locked are skipped, to be
// found by a later batch, so the janitor never waits for the hot path; the
// DELETE checks deadness again on each row, in case it changed since it
// was found.
//
// Every batch looks past the tokens a live grant holds back again; they
// are few, since only grants of several records can hold any.
func (s *Store) SweepTokens(ctx context.Context, serviceID int64, cutoff time.Time, limit int) (int, error) {
	var n int
	err := s.inTx(ctx, func(ctx context.Context, tx *tx) error {
		rows, err := tx.Query(ctx, sweepCandidates, serviceID, cutoff, limit)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return err
		}
		tag, err := tx.Exec(ctx, sweepDelete, ids, cutoff, cutoff)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

func (s *Store) SweepAuthorizationCodes(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	var n int
	err := s.inTx(ctx, func(ctx context.Context, tx *tx) error {
		tag, err := tx.Exec(ctx, sweepCodes, cutoff, limit)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

// LockJanitor takes a session-level advisory lock on a connection held for
// the sweep, so that one node at a time sweeps. Should that connection
// break, PostgreSQL releases the lock with it.
func (s *Store) LockJanitor(ctx context.Context) (release func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, s.fail(ctx, err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClass, lockJanitor).Scan(&ok); err != nil || !ok {
		conn.Release()
		return nil, false, s.fail(ctx, err)
	}
	return func() {
		_, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1, $2)`, lockClass, lockJanitor)
		if err != nil {
			// The lock might outlive the connection's return to the pool.
			conn.Conn().Close(context.Background())
		}
		conn.Release()
	}, true, nil
}
