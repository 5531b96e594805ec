package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tokend/tokend"
)

const serviceCols = `id, name, description, issuer, access_token_ttl, refresh_token_ttl,
	scopes_supported, grant_types_supported, rotate_refresh, refresh_reuse_grace,
	keep_refresh_expiry, password_callback_url, allow_plain_pkce, time_zone, created_at, updated_at`

func scanService(r pgx.Row) (*tokend.Service, error) {
	var (
		sv                    tokend.Service
		accessTTL, refreshTTL int64
		grace                 int64
		scopes, grants        []string
	)
	err := r.Scan(&sv.ID, &sv.Name, &sv.Description, &sv.Issuer, &accessTTL, &refreshTTL,
		&scopes, &grants, &sv.RefreshPolicy.Rotate, &grace,
		&sv.RefreshPolicy.KeepExpiry, &sv.PasswordCallbackURL, &sv.AllowPlainPKCE, &sv.TimeZone, &sv.CreatedAt, &sv.UpdatedAt)
	if err != nil {
		return nil, err
	}
	sv.AccessTokenTTL, sv.RefreshTokenTTL = time.Duration(accessTTL), time.Duration(refreshTTL)
	sv.RefreshPolicy.ReuseGrace = time.Duration(grace)
	sv.ScopesSupported = listOf[string](scopes)
	sv.GrantTypesSupported = listOf[tokend.GrantType](grants)
	sv.CreatedAt, sv.UpdatedAt = utc(sv.CreatedAt), utc(sv.UpdatedAt)
	return &sv, nil
}

// serviceArgs are the values of every column after id, in serviceCols order.
func serviceArgs(sv *tokend.Service) []any {
	return []any{
		sv.Name, sv.Description, sv.Issuer, int64(sv.AccessTokenTTL), int64(sv.RefreshTokenTTL),
		list(sv.ScopesSupported), list(sv.GrantTypesSupported), sv.RefreshPolicy.Rotate, int64(sv.RefreshPolicy.ReuseGrace),
		sv.RefreshPolicy.KeepExpiry, sv.PasswordCallbackURL, sv.AllowPlainPKCE, sv.TimeZone, sv.CreatedAt, sv.UpdatedAt,
	}
}

const insertService = `INSERT INTO services (` + serviceCols + `)
	VALUES (coalesce($1, nextval(pg_get_serial_sequence('services', 'id'))),
		$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
	RETURNING id`

// CreateService stores sv under sv.ID; a zero ID lets the store pick one.
func (s *Store) CreateService(ctx context.Context, sv *tokend.Service) error {
	var id any
	if sv.ID != 0 {
		id = sv.ID
	}
	var got int64
	err := s.inTx(ctx, func(ctx context.Context, t *tx) error {
		if err := t.QueryRow(ctx, insertService, append([]any{id}, serviceArgs(sv)...)...).Scan(&got); err != nil {
			return err
		}
		// A service with a custom issuer must be found by it on every node.
		t.changed(tokend.Change{Kind: tokend.ChangeService, ServiceID: got})
		return nil
	})
	if err == nil {
		sv.ID = got
	}
	return err
}

func (s *Store) GetService(ctx context.Context, id int64) (*tokend.Service, error) {
	sv, err := getService(ctx, s.pool, id, "")
	return sv, s.fail(ctx, err)
}

func getService(ctx context.Context, q queryer, id int64, lock string) (*tokend.Service, error) {
	sv, err := scanService(q.QueryRow(ctx, `SELECT `+serviceCols+` FROM services WHERE id = $1`+lock, id))
	return sv, notFound(err, "service")
}

func (s *Store) ListServices(ctx context.Context) ([]*tokend.Service, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+serviceCols+` FROM services ORDER BY id`)
	out, err := collect(rows, err, scanService)
	return out, s.fail(ctx, err)
}

func (s *Store) UpdateService(ctx context.Context, id int64, update func(*tokend.Service) error) (*tokend.Service, error) {
	var sv *tokend.Service
	err := s.inTx(ctx, func(ctx context.Context, t *tx) error {
		var err error
		if sv, err = getService(ctx, t, id, ` FOR UPDATE`); err != nil {
			return err
		}
		if err := runUpdate(update, sv); err != nil {
			return err
		}
		sv.ID = id // the record's identity is not the update's to change
		_, err = t.Exec(ctx, `UPDATE services SET name = $2, description = $3, issuer = $4,
			access_token_ttl = $5, refresh_token_ttl = $6, scopes_supported = $7, grant_types_supported = $8,
			rotate_refresh = $9, refresh_reuse_grace = $10, keep_refresh_expiry = $11, password_callback_url = $12,
			allow_plain_pkce = $13, time_zone = $14, created_at = $15, updated_at = $16
			WHERE id = $1`, append([]any{id}, serviceArgs(sv)...)...)
		t.changed(tokend.Change{Kind: tokend.ChangeService, ServiceID: id})
		return err
	})
	if err != nil {
		return nil, err
	}
	return sv, nil
}

// DeleteService deletes the service; the foreign keys' ON DELETE CASCADE
// takes its clients, keys, tokens (and with them their retired refresh
// tokens), codes and users along, in the same transaction.
func (s *Store) DeleteService(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(ctx context.Context, t *tx) error {
		tag, err := t.Exec(ctx, `DELETE FROM services WHERE id = $1`, id)
		if err := mustAffect(tag, err, "service"); err != nil {
			return err
		}
		t.changed(tokend.Change{Kind: tokend.ChangeAll, ServiceID: id})
		return nil
	})
}
