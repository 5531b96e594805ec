package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tokend/tokend"
)

const selectRetired = `SELECT hash, token_id, retired_at, successor FROM refresh_history WHERE hash = ?`

// upsertRetired keeps the latest retirement of a hash. A hash is retired
// twice only if an update put a retired value back on a token; a replay of
// it then concerns that latest holder, not the first.
const upsertRetired = `INSERT INTO refresh_history (hash, token_id, retired_at, successor) VALUES (?, ?, ?, ?)
	ON CONFLICT (hash) DO UPDATE SET token_id = excluded.token_id, retired_at = excluded.retired_at,
		successor = excluded.successor`

var errNotReplaced = tokend.Invalid("refresh_token", "rotation must replace the refresh token")

func (s *Store) RotateRefreshToken(ctx context.Context, old tokend.Hash, retired tokend.RetiredRefresh, update func(*tokend.Token) error) (*tokend.Token, error) {
	if old.IsZero() {
		return nil, tokend.NotFound("token") // the zero hash means "no refresh token"
	}
	var t *tokend.Token
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Looked up inside the writer transaction: a concurrent rotation of
		// the same hash waits for this one to commit and then finds nothing.
		var err error
		if t, err = s.oneToken(ctx, tx.QueryRowContext(ctx, byRefreshSQL, hashKey(old)...)); err != nil {
			return err
		}
		if err := s.updateToken(ctx, tx, t, update); err != nil {
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
		_, err = tx.ExecContext(ctx, upsertRetired, old[:], t.ID, retired.RetiredAt.UnixMilli(), successor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Store) GetRetiredRefresh(ctx context.Context, h tokend.Hash) (*tokend.RetiredRefresh, error) {
	var (
		r         tokend.RetiredRefresh
		hash      []byte
		retiredAt int64
	)
	err := s.reader().QueryRowContext(ctx, selectRetired, h[:]).Scan(&hash, &r.TokenID, &retiredAt, &r.Successor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokend.NotFound("refresh token")
	}
	if err == nil {
		r.Hash, err = hashOf(hash)
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	r.RetiredAt = timeOfMs(retiredAt)
	return &r, nil
}

const codeCols = `hash, service_id, client_id, subject, scopes, redirect_uri, code_challenge,
	code_challenge_method, account_id, roles, auth_time, acr, session_id, resources,
	authorization_details, created_at, expires_at, used_at, token_id`

const selectCode = `SELECT ` + codeCols + ` FROM authorization_codes WHERE hash = ?`

func codeArgs(c *tokend.AuthorizationCode) ([]any, error) {
	scopes, err := words("scopes", c.Scopes)
	if err != nil {
		return nil, err
	}
	roles, err := words("roles", c.Roles)
	if err != nil {
		return nil, err
	}
	resources, err := jsonList(c.Resources) // URIs: may hold spaces
	if err != nil {
		return nil, err
	}
	var details, tokenID any
	if len(c.AuthorizationDetails) > 0 {
		details = string(c.AuthorizationDetails)
	}
	if c.TokenID != 0 {
		tokenID = c.TokenID
	}
	return []any{
		c.Hash[:], c.ServiceID, c.ClientID, text(c.Subject), scopes, text(c.RedirectURI), text(c.CodeChallenge),
		text(c.CodeChallengeMethod), text(c.AccountID), roles, millis(c.AuthTime), text(c.ACR), text(c.SessionID),
		resources, details, c.CreatedAt.UnixMilli(), c.ExpiresAt.UnixMilli(), millis(c.UsedAt), tokenID,
	}, nil
}

func scanCode(r rowScanner) (*tokend.AuthorizationCode, error) {
	var (
		c                                    tokend.AuthorizationCode
		hash                                 []byte
		subject, scopes, redirect, challenge sql.NullString
		method, account, roles, acr, session sql.NullString
		resources, details                   sql.NullString
		authTime, usedAt, tokenID            sql.NullInt64
		createdAt, expiresAt                 int64
	)
	err := r.Scan(&hash, &c.ServiceID, &c.ClientID, &subject, &scopes, &redirect, &challenge,
		&method, &account, &roles, &authTime, &acr, &session, &resources,
		&details, &createdAt, &expiresAt, &usedAt, &tokenID)
	if err != nil {
		return nil, err
	}
	if c.Hash, err = hashOf(hash); err != nil {
		return nil, err
	}
	c.Subject, c.RedirectURI, c.CodeChallenge = subject.String, redirect.String, challenge.String
	c.CodeChallengeMethod, c.AccountID, c.ACR, c.SessionID = method.String, account.String, acr.String, session.String
	c.Scopes = wordsOf[string](scopes)
	c.Roles = optWordsOf[string](roles)
	if c.Resources, err = jsonListOf(resources, true); err != nil {
		return nil, err
	}
	if details.String != "" {
		c.AuthorizationDetails = []byte(details.String)
	}
	c.AuthTime, c.UsedAt = timeOf(authTime), timeOf(usedAt)
	c.CreatedAt, c.ExpiresAt = timeOfMs(createdAt), timeOfMs(expiresAt)
	c.TokenID = tokenID.Int64
	return &c, nil
}

func (s *Store) CreateAuthorizationCode(ctx context.Context, c *tokend.AuthorizationCode) error {
	args, err := codeArgs(c)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO authorization_codes (`+codeCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
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
	// mint runs inside the writer transaction, so that of concurrent
	// redemptions only the first sees the code unused.
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		code, err = scanCode(tx.QueryRowContext(ctx, selectCode, h[:]))
		if errors.Is(err, sql.ErrNoRows) {
			return tokend.NotFound("authorization code")
		} else if err != nil {
			return err
		}
		if !code.UsedAt.IsZero() {
			used = true
			return &tokend.Error{Code: tokend.ECONFLICT, Field: "code", Message: "the authorization code was already used"}
		}
		if t, err = mint(code); err != nil {
			return callerError{err}
		}
		if t == nil {
			// Not EUNAVAILABLE, which fail would make of a plain error: retrying cannot help.
			return tokend.Errorf(tokend.EINTERNAL, "mint returned neither a token nor an error")
		}
		t.ID = 0 // as in CreateToken: a stale id must not become the grant id
		args, err := tokenArgs(t)
		if err != nil {
			return err
		}
		if t.ID, err = s.insertTokenTx(ctx, tx, t, args); err != nil {
			return err
		}
		if t.GrantID == 0 {
			t.GrantID = t.ID
		}
		code.UsedAt, code.TokenID = timeOfMs(at.UnixMilli()), t.ID
		_, err = tx.ExecContext(ctx, `UPDATE authorization_codes SET used_at = ?, token_id = ? WHERE hash = ?`,
			at.UnixMilli(), t.ID, h[:])
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
