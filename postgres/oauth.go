package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tokend/tokend"
)

const selectRetired = `SELECT hash, token_id, retired_at, successor FROM refresh_history WHERE hash = $1`

// upsertRetired keeps the latest retirement of a hash. A hash is retired
// twice only if an update put a retired value back on a token; a replay of
// it then concerns that latest holder, not the first.
const upsertRetired = `INSERT INTO refresh_history (hash, token_id, retired_at, successor) VALUES ($1, $2, $3, $4)
	ON CONFLICT (hash) DO UPDATE SET token_id = excluded.token_id, retired_at = excluded.retired_at,
		successor = excluded.successor`

var errNotReplaced = tokend.Invalid("refresh_token", "rotation must replace the refresh token")

func (s *Store) RotateRefreshToken(ctx context.Context, old tokend.Hash, retired tokend.RetiredRefresh, update func(*tokend.Token) error) (*tokend.Token, error) {
	if old.IsZero() {
		return nil, tokend.NotFound("token") // the zero hash means "no refresh token"
	}
	var t *tokend.Token
	err := s.inTx(ctx, func(ctx context.Context, tx *tx) error {
		// The row lock decides among concurrent rotations of one value, on
		// any node: the others wait for this transaction, and PostgreSQL
		// then checks their condition again on the committed row, which no
		// longer holds old, so they find nothing.
		var err error
		if t, err = scanToken(tx.QueryRow(ctx, byRefreshSQL+` FOR UPDATE`, old[:])); err != nil {
			return notFound(err, "token")
		}
		if err := updateToken(ctx, tx, t, update); err != nil {
			return err
		}
		if t.RefreshHash == old {
			// The old value would stay usable and its history claim it
			// retired; a second concurrent call would find it too.
			return errNotReplaced
		}
		var successor any
		if len(retired.Successor) > 0 {
			successor = retired.Successor
		}
		_, err = tx.Exec(ctx, upsertRetired, old[:], t.ID, retired.RetiredAt, successor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Store) GetRetiredRefresh(ctx context.Context, h tokend.Hash) (*tokend.RetiredRefresh, error) {
	r, err := scanRetired(s.pool.QueryRow(ctx, selectRetired, h[:]))
	return r, s.fail(ctx, notFound(err, "refresh token"))
}

func scanRetired(row pgx.Row) (*tokend.RetiredRefresh, error) {
	var (
		r    tokend.RetiredRefresh
		hash []byte
	)
	if err := row.Scan(&hash, &r.TokenID, &r.RetiredAt, &r.Successor); err != nil {
		return nil, err
	}
	var err error
	if r.Hash, err = hashOf(hash); err != nil {
		return nil, err
	}
	r.RetiredAt = utc(r.RetiredAt)
	if len(r.Successor) == 0 {
		r.Successor = nil
	}
	return &r, nil
}

const codeCols = `hash, service_id, client_id, subject, scopes, redirect_uri, code_challenge,
	code_challenge_method, account_id, roles, auth_time, acr, session_id, resources,
	authorization_details, created_at, expires_at, used_at, token_id`

const selectCode = `SELECT ` + codeCols + ` FROM authorization_codes WHERE hash = $1`

func codeArgs(c *tokend.AuthorizationCode) []any {
	var details, tokenID any
	if len(c.AuthorizationDetails) > 0 {
		details = string(c.AuthorizationDetails)
	}
	if c.TokenID != 0 {
		tokenID = c.TokenID
	}
	return []any{
		c.Hash[:], c.ServiceID, c.ClientID, c.Subject, list(c.Scopes), c.RedirectURI, c.CodeChallenge,
		c.CodeChallengeMethod, c.AccountID, optList(c.Roles), ts(c.AuthTime), c.ACR, c.SessionID, optList(c.Resources),
		details, c.CreatedAt, c.ExpiresAt, ts(c.UsedAt), tokenID,
	}
}

func scanCode(r pgx.Row) (*tokend.AuthorizationCode, error) {
	var (
		c                        tokend.AuthorizationCode
		hash                     []byte
		scopes, roles, resources []string
		authTime, usedAt         *time.Time
		details                  *string
		tokenID                  *int64
	)
	err := r.Scan(&hash, &c.ServiceID, &c.ClientID, &c.Subject, &scopes, &c.RedirectURI, &c.CodeChallenge,
		&c.CodeChallengeMethod, &c.AccountID, &roles, &authTime, &c.ACR, &c.SessionID, &resources,
		&details, &c.CreatedAt, &c.ExpiresAt, &usedAt, &tokenID)
	if err != nil {
		return nil, err
	}
	if c.Hash, err = hashOf(hash); err != nil {
		return nil, err
	}
	c.Scopes = listOf[string](scopes)
	c.Roles, c.Resources = optListOf(roles), optListOf(resources)
	if details != nil && *details != "" {
		c.AuthorizationDetails = []byte(*details)
	}
	c.AuthTime, c.UsedAt = timeOf(authTime), timeOf(usedAt)
	c.CreatedAt, c.ExpiresAt = utc(c.CreatedAt), utc(c.ExpiresAt)
	if tokenID != nil {
		c.TokenID = *tokenID
	}
	return &c, nil
}

var insertCodeSQL = `INSERT INTO authorization_codes (` + codeCols + `) VALUES (` + placeholders(1, 19) + `)`

func (s *Store) CreateAuthorizationCode(ctx context.Context, c *tokend.AuthorizationCode) error {
	return s.inTx(ctx, func(ctx context.Context, tx *tx) error {
		_, err := tx.Exec(ctx, insertCodeSQL, codeArgs(c)...)
		return err
	})
}

var errZeroUsedAt = tokend.Invalid("used_at", "must be set")

func (s *Store) RedeemAuthorizationCode(ctx context.Context, h tokend.Hash, at time.Time, mint func(*tokend.AuthorizationCode) (*tokend.Token, error)) (*tokend.AuthorizationCode, *tokend.Token, error) {
	if at.IsZero() {
		// A NULL used_at reads as unused: the code could be redeemed again.
		return nil, nil, errZeroUsedAt
	}
	var (
		code *tokend.AuthorizationCode
		t    *tokend.Token
		used bool
	)
	err := s.inTx(ctx, func(ctx context.Context, tx *tx) error {
		code, t, used = nil, nil, false // a retried transaction starts afresh
		// Locked, so that of concurrent redemptions on any node only the
		// first sees the code unused; the others wait and see it used.
		var err error
		if code, err = scanCode(tx.QueryRow(ctx, selectCode+` FOR UPDATE`, h[:])); err != nil {
			return notFound(err, "authorization code")
		}
		if !code.UsedAt.IsZero() {
			used = true
			return &tokend.Error{Code: tokend.ECONFLICT, Field: "code", Message: "the authorization code was already used"}
		}
		if t, err = mint(code); err != nil {
			return callerError{err}
		}
		if t == nil {
			return tokend.Errorf(tokend.EINTERNAL, "mint returned neither a token nor an error")
		}
		c := *t
		c.ID = 0 // as in CreateToken: a stale id must not become the grant id
		args, err := tokenArgs(&c)
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, insertTokenSQL, args...).Scan(&id); err != nil {
			return err
		}
		t.ID = id
		if t.GrantID == 0 {
			t.GrantID = id
		}
		code.UsedAt, code.TokenID = utc(at), id
		_, err = tx.Exec(ctx, `UPDATE authorization_codes SET used_at = $1, token_id = $2 WHERE hash = $3`, at, id, h[:])
		return err
	})
	switch {
	case used:
		return code, nil, err
	case err != nil:
		return nil, nil, err
	}
	return code, t, nil
}
