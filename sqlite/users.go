package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/tokend/tokend"
)

const userCols = `id, service_id, username, password_hash, account_id, roles, created_at, updated_at`

const (
	selectUser = `SELECT ` + userCols + ` FROM users WHERE service_id = ? AND username = ?`
	listUsers  = `SELECT ` + userCols + ` FROM users WHERE service_id = ? AND id > ? ORDER BY id LIMIT ?`
)

func scanUser(r rowScanner) (*tokend.User, error) {
	var (
		u                     tokend.User
		pwHash, account, role sql.NullString
		createdAt, updatedAt  int64
	)
	if err := r.Scan(&u.ID, &u.ServiceID, &u.Username, &pwHash, &account, &role, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	u.PasswordHash, u.AccountID = pwHash.String, account.String
	u.Roles = optWordsOf[string](role)
	u.CreatedAt, u.UpdatedAt = timeOfMs(createdAt), timeOfMs(updatedAt)
	return &u, nil
}

// userArgs are the values of the columns after username, in userCols order.
func userArgs(u *tokend.User) ([]any, error) {
	roles, err := words("roles", u.Roles)
	if err != nil {
		return nil, err
	}
	return []any{text(u.PasswordHash), text(u.AccountID), roles, u.CreatedAt.UnixMilli(), u.UpdatedAt.UnixMilli()}, nil
}

func (s *Store) CreateUser(ctx context.Context, u *tokend.User) error {
	args, err := userArgs(u)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO users (service_id, username, password_hash, account_id, roles,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			append([]any{u.ServiceID, u.Username}, args...)...).Scan(&u.ID)
	})
}

func (s *Store) GetUser(ctx context.Context, serviceID int64, username string) (*tokend.User, error) {
	return s.getUser(ctx, s.reader(), serviceID, username)
}

func (s *Store) getUser(ctx context.Context, q querier, serviceID int64, username string) (*tokend.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, selectUser, serviceID, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokend.NotFound("user")
	}
	return u, s.fail(ctx, err)
}

// ListUsers returns every user after afterID when limit is not positive, as
// ListClients does.
func (s *Store) ListUsers(ctx context.Context, serviceID, afterID int64, limit int) ([]*tokend.User, error) {
	n := int64(limit)
	if n <= 0 {
		n = -1 // SQLite: no limit
	}
	rows, err := s.reader().QueryContext(ctx, listUsers, serviceID, afterID, n)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out, err := collect(rows, scanUser)
	return out, s.fail(ctx, err)
}

func (s *Store) UpdateUser(ctx context.Context, serviceID int64, username string, update func(*tokend.User) error) (*tokend.User, error) {
	var u *tokend.User
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if u, err = s.getUser(ctx, tx, serviceID, username); err != nil {
			return err
		}
		id := u.ID
		if err := runUpdate(update, u); err != nil {
			return err
		}
		// The username is the subject of the user's tokens: renaming would
		// hand them to whoever takes the old name.
		u.ID, u.ServiceID, u.Username = id, serviceID, username
		args, err := userArgs(u)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, account_id = ?, roles = ?,
			created_at = ?, updated_at = ? WHERE id = ?`, append(args, id)...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Store) DeleteUser(ctx context.Context, serviceID int64, username string) error {
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return mustAffect(tx.ExecContext(ctx, `DELETE FROM users WHERE service_id = ? AND username = ?`,
			serviceID, username))("user")
	})
}
