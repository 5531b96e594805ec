package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"sync"
	"time"
)

// sweepCandidatesSQL lists up to ?3 dead tokens of service ?1 (cutoff ?2,
// unix milliseconds) whose grant has no token that is not dead: by expiry
// through tokens_expires, by revocation through tokens_revoked (0007). The
// grant's tokens are the rows RevokeTokens' GrantID filter names, found
// through the primary key and tokens_grant. A persistent token's expires_at
// is the largest integer, never before the cutoff. Each branch looks past
// the tokens a live grant holds back, so a batch comes back short only
// when fewer than ?3 tokens can go.
const sweepCandidatesSQL = `
	SELECT id FROM (SELECT t.id FROM tokens t
		WHERE t.service_id = ?1 AND t.expires_at < ?2 AND ` + grantDeadSQL + ` LIMIT ?3)
	UNION
	SELECT id FROM (SELECT t.id FROM tokens t
		WHERE t.service_id = ?1 AND t.revoked_at < ?2 AND ` + grantDeadSQL + ` LIMIT ?3)
	LIMIT ?3`

// grantDeadSQL is true when no token of t's grant is alive at the cutoff ?2.
const grantDeadSQL = `NOT EXISTS (
		SELECT 1 FROM tokens m
		WHERE (m.grant_id = IFNULL(t.grant_id, t.id) OR (m.id = IFNULL(t.grant_id, t.id) AND m.grant_id IS NULL))
			AND NOT IFNULL(m.expires_at < ?2 OR m.revoked_at < ?2, 0))`

// SweepTokens deletes a batch of dead tokens of one service, and their
// retired refresh tokens, in one writer transaction. Reads go on beside it
// (WAL); writes queue behind it for as long as a batch takes.
//
// Every batch looks past the tokens a live grant holds back again; they
// are few, since only grants of several records can hold any.
func (s *Store) SweepTokens(ctx context.Context, serviceID int64, cutoff time.Time, limit int) (int, error) {
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, sweepCandidatesSQL, serviceID, cutoff.UnixMilli(), limit)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		// One JSON array, not a placeholder per id: a batch may hold more
		// ids than SQLite takes variables.
		list, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_history WHERE token_id IN (SELECT value FROM json_each(?))`, string(list)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE id IN (SELECT value FROM json_each(?))`, string(list))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func (s *Store) SweepAuthorizationCodes(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM authorization_codes WHERE hash IN (
			SELECT hash FROM authorization_codes WHERE expires_at < ? LIMIT ?)`, cutoff.UnixMilli(), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// janitorLocks holds a mutex per open store (*Store → *sync.Mutex).
var janitorLocks sync.Map

// LockJanitor lets one janitor at a time work on this store in this
// process. The file has one owner process, the server, whose writer
// orders every write; a `tokend janitor` run from cron beside it deletes
// only dead rows, through SQLite's file lock, and so needs no lock across
// processes.
func (s *Store) LockJanitor(ctx context.Context) (release func(), ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	v, _ := janitorLocks.LoadOrStore(s, new(sync.Mutex))
	mu := v.(*sync.Mutex)
	if !mu.TryLock() {
		return nil, false, nil
	}
	return mu.Unlock, true, nil
}
