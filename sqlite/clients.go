package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tokend/tokend"
)

const clientCols = `id, service_id, client_id, name, description, url, developer, type,
	grant_types, scopes, redirect_uris, first_party, secret_hash, created_at, updated_at`

// clientRow holds a client's columns as scanned, so that queries joining
// other values can scan a client too.
type clientRow struct {
	c                         tokend.Client
	name, desc, url, dev, typ sql.NullString
	grants, scopes, redirects sql.NullString
	secret                    []byte
	createdAt, updatedAt      int64
}

// dest lists scan destinations in clientCols order.
func (r *clientRow) dest() []any {
	return []any{&r.c.ID, &r.c.ServiceID, &r.c.ClientID, &r.name, &r.desc, &r.url, &r.dev, &r.typ,
		&r.grants, &r.scopes, &r.redirects, &r.c.FirstParty, &r.secret, &r.createdAt, &r.updatedAt}
}

func (r *clientRow) client() (*tokend.Client, error) {
	c := r.c
	c.Name, c.Description, c.URL, c.Developer = r.name.String, r.desc.String, r.url.String, r.dev.String
	c.Type = tokend.ClientType(r.typ.String)
	c.GrantTypes = wordsOf[tokend.GrantType](r.grants)
	c.Scopes = wordsOf[string](r.scopes)
	var err error
	if c.RedirectURIs, err = jsonListOf(r.redirects, false); err != nil {
		return nil, err
	}
	if c.SecretHash, err = hashOf(r.secret); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = timeOfMs(r.createdAt), timeOfMs(r.updatedAt)
	return &c, nil
}

func scanClient(rs rowScanner) (*tokend.Client, error) {
	var r clientRow
	if err := rs.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.client()
}

// clientArgs are the values of every column after service_id and client_id,
// in clientCols order.
func clientArgs(c *tokend.Client) ([]any, error) {
	grants, err := words("grant_types", c.GrantTypes)
	if err != nil {
		return nil, err
	}
	scopes, err := words("scopes", c.Scopes)
	if err != nil {
		return nil, err
	}
	redirects, err := jsonList(c.RedirectURIs)
	if err != nil {
		return nil, err
	}
	return []any{
		text(c.Name), text(c.Description), text(c.URL), text(c.Developer), text(string(c.Type)),
		grants, scopes, redirects, boolInt(c.FirstParty), hashArg(c.SecretHash),
		c.CreatedAt.UnixMilli(), c.UpdatedAt.UnixMilli(),
	}, nil
}

// CreateClient stores c under c.ID; a zero ID lets SQLite pick one.
func (s *Store) CreateClient(ctx context.Context, c *tokend.Client) error {
	args, err := clientArgs(c)
	if err != nil {
		return err
	}
	var id any
	if c.ID != 0 {
		id = c.ID
	}
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO clients (`+clientCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{id, c.ServiceID, c.ClientID}, args...)...)
		if err != nil {
			return err
		}
		if c.ID == 0 {
			c.ID, err = res.LastInsertId()
		}
		return err
	})
}

func (s *Store) GetClient(ctx context.Context, id int64) (*tokend.Client, error) {
	return s.getClient(ctx, s.reader(), id)
}

func (s *Store) getClient(ctx context.Context, q querier, id int64) (*tokend.Client, error) {
	c, err := scanClient(q.QueryRowContext(ctx, `SELECT `+clientCols+` FROM clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokend.NotFound("client")
	}
	return c, s.fail(ctx, err)
}

func (s *Store) GetClientByClientID(ctx context.Context, serviceID int64, clientID string) (*tokend.Client, error) {
	c, err := scanClient(s.reader().QueryRowContext(ctx,
		`SELECT `+clientCols+` FROM clients WHERE service_id = ? AND client_id = ?`, serviceID, clientID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokend.NotFound("client")
	}
	return c, s.fail(ctx, err)
}

func (s *Store) ClientsByClientID(ctx context.Context, clientID string) ([]*tokend.Client, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+clientCols+` FROM clients WHERE client_id = ? ORDER BY id`, clientID)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out, err := collect(rows, scanClient)
	return out, s.fail(ctx, err)
}

func (s *Store) ListClients(ctx context.Context, f tokend.ClientFilter) ([]*tokend.Client, error) {
	limit := int64(f.Limit)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT `+clientCols+` FROM clients
		WHERE service_id = ? AND id > ? ORDER BY id LIMIT ?`, f.ServiceID, f.AfterID, limit)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out, err := collect(rows, scanClient)
	return out, s.fail(ctx, err)
}

func (s *Store) UpdateClient(ctx context.Context, id int64, update func(*tokend.Client) error) (*tokend.Client, error) {
	var c *tokend.Client
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if c, err = s.getClient(ctx, tx, id); err != nil {
			return err
		}
		serviceID := c.ServiceID
		if err := runUpdate(update, c); err != nil {
			return err
		}
		c.ID, c.ServiceID = id, serviceID // identity is not the update's to change
		args, err := clientArgs(c)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE clients SET client_id = ?, name = ?, description = ?, url = ?,
			developer = ?, type = ?, grant_types = ?, scopes = ?, redirect_uris = ?, first_party = ?,
			secret_hash = ?, created_at = ?, updated_at = ? WHERE id = ?`,
			append(append([]any{c.ClientID}, args...), id)...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Store) DeleteClient(ctx context.Context, id int64, revokedAt time.Time, reason string) error {
	if revokedAt.IsZero() {
		return errZeroRevokedAt
	}
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var serviceID int64
		err := tx.QueryRowContext(ctx, `DELETE FROM clients WHERE id = ? RETURNING service_id`, id).Scan(&serviceID)
		if errors.Is(err, sql.ErrNoRows) {
			return tokend.NotFound("client")
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ?, revoked_reason = ?
			WHERE service_id = ? AND client_id = ? AND revoked_at IS NULL`,
			revokedAt.UnixMilli(), text(reason), serviceID, id)
		return err
	})
}
