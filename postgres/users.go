package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/tokend/tokend"
)

const userCols = `id, service_id, username, password_hash, account_id, roles, created_at, updated_at`

const (
	selectUser = `SELECT ` + userCols + ` FROM users WHERE service_id = $1 AND username = $2`
	listUsers  = `SELECT ` + userCols + ` FROM users WHERE service_id = $1 AND id > $2 ORDER BY id LIMIT $3`
)

func scanUser(r pgx.Row) (*tokend.User, error) {
	var (
		u     tokend.User
		roles []string
	)
	if err := r.Scan(&u.ID, &u.ServiceID, &u.Username, &u.PasswordHash, &u.AccountID, &roles, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.Roles = optListOf(roles)
	u.CreatedAt, u.UpdatedAt = utc(u.CreatedAt), utc(u.UpdatedAt)
	return &u, nil
}

func (s *Store) CreateUser(ctx context.Context, u *tokend.User) error {
	var id int64
	err := s.inTx(ctx, func(ctx context.Context, t *tx) error {
		return t.QueryRow(ctx, `INSERT INTO users (service_id, username, password_hash, account_id, roles,
			created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			u.ServiceID, u.Username, u.PasswordHash, u.AccountID, optList(u.Roles), u.CreatedAt, u.UpdatedAt).Scan(&id)
	})
	if err == nil {
		u.ID = id
	}
	return err
}

func (s *Store) GetUser(ctx context.Context, serviceID int64, username string) (*tokend.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, selectUser, serviceID, username))
	return u, s.fail(ctx, notFound(err, "user"))
}

// ListUsers returns every user after afterID when limit is not positive, as
// ListClients does.
func (s *Store) ListUsers(ctx context.Context, serviceID, afterID int64, limit int) ([]*tokend.User, error) {
	var n any // NULL: no limit
	if limit > 0 {
		n = limit
	}
	rows, err := s.pool.Query(ctx, listUsers, serviceID, afterID, n)
	out, err := collect(rows, err, scanUser)
	return out, s.fail(ctx, err)
}

func (s *Store) UpdateUser(ctx context.Context, serviceID int64, username string, update func(*tokend.User) error) (*tokend.User, error) {
	var u *tokend.User
	err := s.inTx(ctx, func(ctx context.Context, t *tx) error {
		var err error
		if u, err = scanUser(t.QueryRow(ctx, selectUser+` FOR UPDATE`, serviceID, username)); err != nil {
			return notFound(err, "user")
		}
		id := u.ID
		if err := runUpdate(update, u); err != nil {
			return err
		}
		// The username is the subject of the user's tokens: renaming would
		// hand them to whoever takes the old name.
		u.ID, u.ServiceID, u.Username = id, serviceID, username
		_, err = t.Exec(ctx, `UPDATE users SET password_hash = $2, account_id = $3, roles = $4,
			created_at = $5, updated_at = $6 WHERE id = $1`,
			id, u.PasswordHash, u.AccountID, optList(u.Roles), u.CreatedAt, u.UpdatedAt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Store) DeleteUser(ctx context.Context, serviceID int64, username string) error {
	return s.inTx(ctx, func(ctx context.Context, t *tx) error {
		tag, err := t.Exec(ctx, `DELETE FROM users WHERE service_id = $1 AND username = $2`, serviceID, username)
		return mustAffect(tag, err, "user")
	})
}
