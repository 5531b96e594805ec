package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tokend/tokend"
)

const keyCols = `id, service_id, name, permissions, hash, created_at, expires_at`

func scanKey(r pgx.Row) (*tokend.Key, error) {
	var (
		k         tokend.Key
		serviceID *int64
		perms     []string
		hash      []byte
		expiresAt *time.Time
	)
	if err := r.Scan(&k.ID, &serviceID, &k.Name, &perms, &hash, &k.CreatedAt, &expiresAt); err != nil {
		return nil, err
	}
	if serviceID != nil {
		k.ServiceID = *serviceID
	}
	k.Permissions = listOf[tokend.Permission](perms)
	var err error
	if k.Hash, err = hashOf(hash); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt = utc(k.CreatedAt), timeOf(expiresAt)
	return &k, nil
}

// keyServiceArg encodes a key's service: NULL for an organization key,
// which has no service row to reference.
func keyServiceArg(k *tokend.Key) any {
	if k.ServiceID == 0 {
		return nil
	}
	return k.ServiceID
}

func (s *Store) CreateKey(ctx context.Context, k *tokend.Key) error {
	var id int64
	err := s.inTx(ctx, func(ctx context.Context, t *tx) error {
		err := t.QueryRow(ctx, `INSERT INTO keys (service_id, name, permissions, hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			keyServiceArg(k), k.Name, list(k.Permissions), k.Hash[:], k.CreatedAt, ts(k.ExpiresAt)).Scan(&id)
		t.created = id
		return err
	})
	if err == nil {
		k.ID = id
	}
	return err
}

func (s *Store) GetKeyByHash(ctx context.Context, h tokend.Hash) (*tokend.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyCols+` FROM keys WHERE hash = $1`, h[:]))
	return k, s.fail(ctx, notFound(err, "key"))
}

func (s *Store) ListKeys(ctx context.Context, serviceID int64) ([]*tokend.Key, error) {
	var (
		rows pgx.Rows
		err  error
	)
	switch {
	case serviceID > 0:
		rows, err = s.pool.Query(ctx, `SELECT `+keyCols+` FROM keys WHERE service_id = $1 ORDER BY id`, serviceID)
	case serviceID == 0:
		rows, err = s.pool.Query(ctx, `SELECT `+keyCols+` FROM keys WHERE service_id IS NULL ORDER BY id`)
	default:
		rows, err = s.pool.Query(ctx, `SELECT `+keyCols+` FROM keys ORDER BY id`)
	}
	out, err := collect(rows, err, scanKey)
	return out, s.fail(ctx, err)
}

func (s *Store) DeleteKey(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(ctx context.Context, t *tx) error {
		tag, err := t.Exec(ctx, `DELETE FROM keys WHERE id = $1`, id)
		return mustAffect(tag, err, "key")
	})
}

func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM keys`).Scan(&n)
	return n, s.fail(ctx, err)
}
