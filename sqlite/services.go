package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tokend/tokend"
)

const serviceCols = `id, name, description, issuer, access_token_ttl, refresh_token_ttl,
	scopes_supported, grant_types_supported, rotate_refresh, refresh_reuse_grace,
	keep_refresh_expiry, created_at, updated_at, password_callback_url, allow_plain_pkce, time_zone`

// rowScanner is satisfied by *sql.Row and *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanService(r rowScanner) (*tokend.Service, error) {
	var (
		sv                          tokend.Service
		name, desc, issuer, pwCB    sql.NullString
		timeZone                    sql.NullString
		scopes, grants              sql.NullString
		accessTTL, refreshTTL       int64
		rotate, keep, plainPKCE     bool
		grace, createdAt, updatedAt int64
	)
	err := r.Scan(&sv.ID, &name, &desc, &issuer, &accessTTL, &refreshTTL, &scopes, &grants,
		&rotate, &grace, &keep, &createdAt, &updatedAt, &pwCB, &plainPKCE, &timeZone)
	if err != nil {
		return nil, err
	}
	sv.Name, sv.Description, sv.Issuer = name.String, desc.String, issuer.String
	sv.AccessTokenTTL, sv.RefreshTokenTTL = time.Duration(accessTTL), time.Duration(refreshTTL)
	sv.ScopesSupported = wordsOf[string](scopes)
	sv.GrantTypesSupported = wordsOf[tokend.GrantType](grants)
	sv.RefreshPolicy = tokend.RefreshPolicy{Rotate: rotate, ReuseGrace: time.Duration(grace), KeepExpiry: keep}
	sv.CreatedAt, sv.UpdatedAt = timeOfMs(createdAt), timeOfMs(updatedAt)
	sv.PasswordCallbackURL, sv.AllowPlainPKCE = pwCB.String, plainPKCE
	sv.TimeZone = timeZone.String
	return &sv, nil
}

// serviceArgs are the values of every column but id, in serviceCols order.
func serviceArgs(sv *tokend.Service) ([]any, error) {
	scopes, err := words("scopes_supported", sv.ScopesSupported)
	if err != nil {
		return nil, err
	}
	grants, err := words("grant_types_supported", sv.GrantTypesSupported)
	if err != nil {
		return nil, err
	}
	return []any{
		text(sv.Name), text(sv.Description), text(sv.Issuer),
		int64(sv.AccessTokenTTL), int64(sv.RefreshTokenTTL), scopes, grants,
		boolInt(sv.RefreshPolicy.Rotate), int64(sv.RefreshPolicy.ReuseGrace), boolInt(sv.RefreshPolicy.KeepExpiry),
		sv.CreatedAt.UnixMilli(), sv.UpdatedAt.UnixMilli(), text(sv.PasswordCallbackURL), boolInt(sv.AllowPlainPKCE),
		text(sv.TimeZone),
	}, nil
}

// CreateService stores sv under sv.ID; a zero ID lets SQLite pick one.
func (s *Store) CreateService(ctx context.Context, sv *tokend.Service) error {
	args, err := serviceArgs(sv)
	if err != nil {
		return err
	}
	var id any
	if sv.ID != 0 {
		id = sv.ID
	}
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO services (`+serviceCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append([]any{id}, args...)...)
		if err != nil {
			return err
		}
		if sv.ID == 0 {
			sv.ID, err = res.LastInsertId()
		}
		return err
	})
}

func (s *Store) GetService(ctx context.Context, id int64) (*tokend.Service, error) {
	return s.getService(ctx, s.reader(), id)
}

// querier is satisfied by *sql.DB and *sql.Tx, so lookups can run either
// on the read pool or inside a write transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) getService(ctx context.Context, q querier, id int64) (*tokend.Service, error) {
	sv, err := scanService(q.QueryRowContext(ctx, `SELECT `+serviceCols+` FROM services WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokend.NotFound("service")
	}
	return sv, s.fail(ctx, err)
}

func (s *Store) ListServices(ctx context.Context) ([]*tokend.Service, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+serviceCols+` FROM services ORDER BY id`)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out, err := collect(rows, scanService)
	return out, s.fail(ctx, err)
}

// collect scans every row and closes rows.
func collect[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Store) UpdateService(ctx context.Context, id int64, update func(*tokend.Service) error) (*tokend.Service, error) {
	var sv *tokend.Service
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if sv, err = s.getService(ctx, tx, id); err != nil {
			return err
		}
		if err := runUpdate(update, sv); err != nil {
			return err
		}
		sv.ID = id // the record's identity is not the update's to change
		args, err := serviceArgs(sv)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE services SET name = ?, description = ?, issuer = ?,
			access_token_ttl = ?, refresh_token_ttl = ?, scopes_supported = ?, grant_types_supported = ?,
			rotate_refresh = ?, refresh_reuse_grace = ?, keep_refresh_expiry = ?, created_at = ?, updated_at = ?,
			password_callback_url = ?, allow_plain_pkce = ?, time_zone = ?
			WHERE id = ?`, append(args, id)...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sv, nil
}

// DeleteService deletes children explicitly rather than through ON DELETE
// CASCADE, so the cascade does not depend on the connection's foreign_keys
// setting.
func (s *Store) DeleteService(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range []string{
			// History first: it finds its rows through the tokens.
			`DELETE FROM refresh_history WHERE token_id IN (SELECT id FROM tokens WHERE service_id = ?)`,
			`DELETE FROM tokens WHERE service_id = ?`,
			`DELETE FROM authorization_codes WHERE service_id = ?`,
			`DELETE FROM users WHERE service_id = ?`,
			`DELETE FROM keys WHERE service_id = ?`,
			`DELETE FROM clients WHERE service_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return mustAffect(tx.ExecContext(ctx, `DELETE FROM services WHERE id = ?`, id))("service")
	})
}

// mustAffect turns "no row changed" into ENOTFOUND for what.
func mustAffect(res sql.Result, err error) func(what string) error {
	return func(what string) error {
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return tokend.NotFound(what)
		}
		return nil
	}
}
