package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tokend/tokend"
)

const clientCols = `id, service_id, client_id, name, description, url, developer, type,
	grant_types, scopes, redirect_uris, first_party, secret_hash, created_at, updated_at`

// clientRow holds a client's columns as scanned, so that queries joining
// other values can scan a client too.
type clientRow struct {
	c                         tokend.Client
	typ                       string
	grants, scopes, redirects []string
	secret                    []byte
}

// dest lists scan destinations in clientCols order.
func (r *clientRow) dest() []any {
	return []any{&r.c.ID, &r.c.ServiceID, &r.c.ClientID, &r.c.Name, &r.c.Description, &r.c.URL, &r.c.Developer, &r.typ,
		&r.grants, &r.scopes, &r.redirects, &r.c.FirstParty, &r.secret, &r.c.CreatedAt, &r.c.UpdatedAt}
}

func (r *clientRow) client() (*tokend.Client, error) {
	c := r.c
	c.Type = tokend.ClientType(r.typ)
	c.GrantTypes = listOf[tokend.GrantType](r.grants)
	c.Scopes = listOf[string](r.scopes)
	c.RedirectURIs = listOf[string](r.redirects)
	var err error
	if c.SecretHash, err = hashOf(r.secret); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
	return &c, nil
}

func scanClient(rs pgx.Row) (*tokend.Client, error) {
	var r clientRow
	if err := rs.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.client()
}

// clientArgs are the values of every column after id, in clientCols order.
func clientArgs(c *tokend.Client) []any {
	return []any{
		c.ServiceID, c.ClientID, c.Name, c.Description, c.URL, c.Developer, string(c.Type),
		list(c.GrantTypes), list(c.Scopes), list(c.RedirectURIs), c.FirstParty, hashArg(c.SecretHash),
		c.CreatedAt, c.UpdatedAt,
	}
}

const insertClient = `INSERT INTO clients (` + clientCols + `)
	VALUES (coalesce($1, nextval(pg_get_serial_sequence('clients', 'id'))),
		$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
	RETURNING id`

// CreateClient stores c under c.ID; a zero ID lets the store pick one.
func (s *Store) CreateClient(ctx context.Context, c *tokend.Client) error {
	var id any
	if c.ID != 0 {
		id = c.ID
	}
	var got int64
	err := s.inTx(ctx, func(ctx context.Context, t *tx) error {
		return t.QueryRow(ctx, insertClient, append([]any{id}, clientArgs(c)...)...).Scan(&got)
	})
	if err == nil {
		c.ID = got
	}
	return err
}

func (s *Store) GetClient(ctx context.Context, id int64) (*tokend.Client, error) {
	c, err := getClient(ctx, s.pool, id, "")
	return c, s.fail(ctx, err)
}

func getClient(ctx context.Context, q queryer, id int64, lock string) (*tokend.Client, error) {
	c, err := scanClient(q.QueryRow(ctx, `SELECT `+clientCols+` FROM clients WHERE id = $1`+lock, id))
	return c, notFound(err, "client")
}

func (s *Store) GetClientByClientID(ctx context.Context, serviceID int64, clientID string) (*tokend.Client, error) {
	c, err := scanClient(s.pool.QueryRow(ctx, `SELECT `+clientCols+` FROM clients WHERE service_id = $1 AND client_id = $2`,
		serviceID, clientID))
	return c, s.fail(ctx, notFound(err, "client"))
}

func (s *Store) ClientsByClientID(ctx context.Context, clientID string) ([]*tokend.Client, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clientCols+` FROM clients WHERE client_id = $1 ORDER BY id`, clientID)
	out, err := collect(rows, err, scanClient)
	return out, s.fail(ctx, err)
}

func (s *Store) ListClients(ctx context.Context, f tokend.ClientFilter) ([]*tokend.Client, error) {
	var limit any // NULL: no limit
	if f.Limit > 0 {
		limit = f.Limit
	}
	rows, err := s.pool.Query(ctx, `SELECT `+clientCols+` FROM clients
		WHERE service_id = $1 AND id > $2 ORDER BY id LIMIT $3`, f.ServiceID, f.AfterID, limit)
	out, err := collect(rows, err, scanClient)
	return out, s.fail(ctx, err)
}

func (s *Store) UpdateClient(ctx context.Context, id int64, update func(*tokend.Client) error) (*tokend.Client, error) {
	var c *tokend.Client
	err := s.inTx(ctx, func(ctx context.Context, t *tx) error {
		var err error
		if c, err = getClient(ctx, t, id, ` FOR UPDATE`); err != nil {
			return err
		}
		serviceID := c.ServiceID
		if err := runUpdate(update, c); err != nil {
			return err
		}
		c.ID, c.ServiceID = id, serviceID // identity is not the update's to change
		_, err = t.Exec(ctx, `UPDATE clients SET service_id = $2, client_id = $3, name = $4, description = $5,
			url = $6, developer = $7, type = $8, grant_types = $9, scopes = $10, redirect_uris = $11,
			first_party = $12, secret_hash = $13, created_at = $14, updated_at = $15 WHERE id = $1`,
			append([]any{id}, clientArgs(c)...)...)
		t.changed(tokend.Change{Kind: tokend.ChangeClient, ServiceID: serviceID, ID: id})
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
	return s.inTx(ctx, func(ctx context.Context, t *tx) error {
		var serviceID int64
		err := t.QueryRow(ctx, `DELETE FROM clients WHERE id = $1 RETURNING service_id`, id).Scan(&serviceID)
		if err != nil {
			return notFound(err, "client")
		}
		tag, err := t.Exec(ctx, `UPDATE tokens SET revoked_at = $1, revoked_reason = $2
			WHERE service_id = $3 AND client_id = $4 AND revoked_at IS NULL`, revokedAt, reason, serviceID, id)
		if err != nil {
			return err
		}
		t.changed(tokend.Change{Kind: tokend.ChangeClient, ServiceID: serviceID, ID: id})
		if tag.RowsAffected() > 0 {
			t.changed(tokend.Change{Kind: tokend.ChangeTokens, ServiceID: serviceID})
		}
		return nil
	})
}
