package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/tokend/tokend"
)

const keyCols = `id, service_id, name, permissions, hash, created_at, expires_at`

func scanKey(r rowScanner) (*tokend.Key, error) {
	var (
		k           tokend.Key
		serviceID   sql.NullInt64
		name, perms sql.NullString
		hash        []byte
		createdAt   int64
		expiresAt   sql.NullInt64
	)
	if err := r.Scan(&k.ID, &serviceID, &name, &perms, &hash, &createdAt, &expiresAt); err != nil {
		return nil, err
	}
	k.ServiceID, k.Name = serviceID.Int64, name.String
	k.Permissions = wordsOf[tokend.Permission](perms)
	var err error
	if k.Hash, err = hashOf(hash); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt = timeOfMs(createdAt), timeOf(expiresAt)
	return &k, nil
}

func (s *Store) CreateKey(ctx context.Context, k *tokend.Key) error {
	perms, err := words("permissions", k.Permissions)
	if err != nil {
		return err
	}
	// Organization keys have no service row to reference.
	var serviceID any
	if k.ServiceID != 0 {
		serviceID = k.ServiceID
	}
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO keys (service_id, name, permissions, hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			serviceID, text(k.Name), perms, k.Hash[:], k.CreatedAt.UnixMilli(), millis(k.ExpiresAt)).Scan(&k.ID)
	})
}

func (s *Store) GetKeyByHash(ctx context.Context, h tokend.Hash) (*tokend.Key, error) {
	k, err := scanKey(s.reader().QueryRowContext(ctx, `SELECT `+keyCols+` FROM keys WHERE hash = ?`, h[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokend.NotFound("key")
	}
	return k, s.fail(ctx, err)
}

func (s *Store) ListKeys(ctx context.Context, serviceID int64) ([]*tokend.Key, error) {
	var rows *sql.Rows
	var err error
	switch {
	case serviceID > 0:
		rows, err = s.reader().QueryContext(ctx, `SELECT `+keyCols+` FROM keys WHERE service_id = ? ORDER BY id`, serviceID)
	case serviceID == 0:
		rows, err = s.reader().QueryContext(ctx, `SELECT `+keyCols+` FROM keys WHERE service_id IS NULL ORDER BY id`)
	default:
		rows, err = s.reader().QueryContext(ctx, `SELECT `+keyCols+` FROM keys ORDER BY id`)
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out, err := collect(rows, scanKey)
	return out, s.fail(ctx, err)
}

func (s *Store) DeleteKey(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return mustAffect(tx.ExecContext(ctx, `DELETE FROM keys WHERE id = ?`, id))("key")
	})
}

func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	err := s.reader().QueryRowContext(ctx, `SELECT count(*) FROM keys`).Scan(&n)
	return n, s.fail(ctx, err)
}
