package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/tokend/tokend"
)

// tokenCols are the columns a token is written to, after id, in the order
// tokenArgs produces them.
const tokenCols = `service_id, client_id, grant_type, created_at, expires_at, access_hash, refresh_hash,
	subject, scopes, access_expires_at, refresh_expires_at, persistent, grant_id, last_refreshed_at,
	revoked_at, revoked_reason, refresh_scopes, account_id, roles, auth_time, acr, session_id,
	resources, cert_thumbprint, dpop_thumbprint, properties, authorization_details`

// tokenReadCols are the columns a token is read from: tokenCols with id and
// without expires_at, which only serves the indexes (Token.OrderValue
// derives it).
const tokenReadCols = `id, service_id, client_id, grant_type, created_at, access_hash, refresh_hash,
	subject, scopes, access_expires_at, refresh_expires_at, persistent, grant_id, last_refreshed_at,
	revoked_at, revoked_reason, refresh_scopes, account_id, roles, auth_time, acr, session_id,
	resources, cert_thumbprint, dpop_thumbprint, properties, authorization_details`

const selectToken = `SELECT ` + tokenReadCols + ` FROM tokens`

const (
	byIDSQL      = selectToken + ` WHERE id = $1`
	byAccessSQL  = selectToken + ` WHERE access_hash = $1`
	byRefreshSQL = selectToken + ` WHERE refresh_hash = $1`
)

var insertTokenSQL = `INSERT INTO tokens (` + tokenCols + `) VALUES (` + placeholders(1, strings.Count(tokenCols, ",")+1) + `) RETURNING id`

// updateTokenSQL writes every column but id and service_id: an update may
// not move a token to another service.
var updateTokenSQL = func() string {
	cols := strings.Split(tokenCols, ",")[1:]
	for i, c := range cols {
		cols[i] = strings.TrimSpace(c) + " = $" + strconv.Itoa(i+2)
	}
	return `UPDATE tokens SET ` + strings.Join(cols, ", ") + ` WHERE id = $1`
}()

// placeholders returns "$from, …, $(from+n-1)".
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

var (
	errZeroRevokedAt = tokend.Invalid("revoked_at", "must be set")
	errNoAccessHash  = tokend.Invalid("access_token", "hash must be set")
)

// infinity is the expires_at of a persistent token: after every time.
var infinity = pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}

// PostgreSQL's timestamptz range in Unix milliseconds (4713 BC to 294276
// AD), to which cursor values from page tokens are clamped.
const (
	minPGMillis = -210866803200000
	maxPGMillis = 9224318015999999
)

// orderTime is the timestamptz a Token.OrderValue stands for.
func orderTime(ms int64) any {
	switch {
	case ms >= maxPGMillis:
		return infinity
	case ms <= minPGMillis:
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	return time.UnixMilli(ms).UTC()
}

// tokenArgs are the values of tokenCols for t.
func tokenArgs(t *tokend.Token) ([]any, error) {
	if !t.GrantType.Valid() {
		return nil, tokend.Invalid("grant_type", "unknown grant type %.40q", t.GrantType)
	}
	if t.AccessHash.IsZero() {
		return nil, errNoAccessHash
	}
	var expires any = infinity
	if !t.Persistent {
		expires = orderTime(t.OrderValue(tokend.OrderExpiresAt))
	}
	// Unlike other lists, empty differs from unset here: nil means "same
	// as scopes", an empty list means "no scopes".
	var refreshScopes any
	if t.RefreshScopes != nil {
		refreshScopes = list(t.RefreshScopes)
	}
	var props any
	if len(t.Properties) > 0 {
		b, err := json.Marshal(t.Properties)
		if err != nil {
			return nil, err
		}
		props = b
	}
	var details any
	if len(t.AuthorizationDetails) > 0 {
		details = string(t.AuthorizationDetails)
	}
	var grantID any
	if t.GrantID != 0 && t.GrantID != t.ID {
		grantID = t.GrantID
	}
	return []any{
		t.ServiceID, t.ClientID, string(t.GrantType), t.CreatedAt, expires, t.AccessHash[:], hashArg(t.RefreshHash),
		t.Subject, list(t.Scopes), ts(t.AccessExpiresAt), ts(t.RefreshExpiresAt), t.Persistent, grantID, ts(t.LastRefreshedAt),
		ts(t.RevokedAt), t.RevokedReason, refreshScopes, t.AccountID, optList(t.Roles), ts(t.AuthTime), t.ACR, t.SessionID,
		optList(t.Resources), t.CertThumbprint, t.DPoPThumbprint, props, details,
	}, nil
}

// scanToken reads one row selected with tokenReadCols.
func scanToken(r pgx.Row) (*tokend.Token, error) {
	var (
		t                                             tokend.Token
		grant                                         string
		access, refresh                               []byte
		accessExp, refreshExp, lastRefreshed, revoked *time.Time
		authTime                                      *time.Time
		grantID                                       *int64
		scopes, refreshScopes, roles, resources       []string
		props                                         []byte
		details                                       *string
	)
	err := r.Scan(&t.ID, &t.ServiceID, &t.ClientID, &grant, &t.CreatedAt, &access, &refresh,
		&t.Subject, &scopes, &accessExp, &refreshExp, &t.Persistent, &grantID, &lastRefreshed,
		&revoked, &t.RevokedReason, &refreshScopes, &t.AccountID, &roles, &authTime, &t.ACR, &t.SessionID,
		&resources, &t.CertThumbprint, &t.DPoPThumbprint, &props, &details)
	if err != nil {
		return nil, err
	}
	t.GrantType = tokend.GrantType(grant)
	t.CreatedAt = utc(t.CreatedAt)
	if t.AccessHash, err = hashOf(access); err != nil {
		return nil, err
	}
	if t.RefreshHash, err = hashOf(refresh); err != nil {
		return nil, err
	}
	t.Scopes = listOf[string](scopes)
	if refreshScopes != nil {
		t.RefreshScopes = listOf[string](refreshScopes)
	}
	t.Roles, t.Resources = optListOf(roles), optListOf(resources)
	t.AccessExpiresAt, t.RefreshExpiresAt = timeOf(accessExp), timeOf(refreshExp)
	t.LastRefreshedAt, t.RevokedAt, t.AuthTime = timeOf(lastRefreshed), timeOf(revoked), timeOf(authTime)
	t.GrantID = t.ID
	if grantID != nil {
		t.GrantID = *grantID
	}
	if len(props) > 0 {
		if err := json.Unmarshal(props, &t.Properties); err != nil {
			return nil, fmt.Errorf("postgres: token %d: stored properties: %w", t.ID, err)
		}
	}
	if details != nil && *details != "" {
		t.AuthorizationDetails = json.RawMessage(*details)
	}
	return &t, nil
}

// scanTokens reads every row of a token list and closes rows.
func scanTokens(rows pgx.Rows, err error) ([]*tokend.Token, error) {
	return collect(rows, err, scanToken)
}

func (s *Store) CreateToken(ctx context.Context, t *tokend.Token) error {
	c := *t
	c.ID = 0 // the store assigns ids; a stale one must not become the grant id
	args, err := tokenArgs(&c)
	if err != nil {
		return err
	}
	var id int64
	err = s.inTx(ctx, func(ctx context.Context, tx *tx) error {
		err := tx.QueryRow(ctx, insertTokenSQL, args...).Scan(&id)
		tx.created = id
		return err
	})
	if err != nil {
		return err
	}
	// Set only once committed: a failed call leaves the token as it was.
	t.ID = id
	if t.GrantID == 0 {
		t.GrantID = t.ID
	}
	return nil
}

// ImportTokens takes ids for the tokens from the sequence, in one round
// trip, and writes them with COPY in the same transaction: a hash already
// stored or given twice fails the COPY on its unique constraint, and the
// transaction stores nothing. The ids of a failed call are used up, as any
// sequence's; none is ever handed out twice.
func (s *Store) ImportTokens(ctx context.Context, toks []*tokend.Token) error {
	if len(toks) == 0 {
		return nil
	}
	rows := make([][]any, len(toks))
	for _, t := range toks {
		// Validated before anything is written, and without changing t.
		if _, err := tokenArgs(t); err != nil {
			return err
		}
	}
	var ids []int64
	err := s.inTx(ctx, func(ctx context.Context, tx *tx) error {
		r, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('tokens', 'id')) FROM generate_series(1, $1)`, len(toks))
		if err != nil {
			return err
		}
		if ids, err = pgx.CollectRows(r, pgx.RowTo[int64]); err != nil {
			return err
		}
		slices.Sort(ids) // handed out in the order of the slice
		for i, t := range toks {
			c := *t
			c.ID = ids[i]
			args, err := tokenArgs(&c)
			if err != nil {
				return err
			}
			rows[i] = append([]any{c.ID}, args...)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"tokens"}, tokenCopyCols, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return err
	}
	for i, t := range toks {
		t.ID = ids[i]
		if t.GrantID == 0 {
			t.GrantID = t.ID
		}
	}
	return nil
}

func (s *Store) GetToken(ctx context.Context, id int64) (*tokend.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, byIDSQL, id))
	return t, s.fail(ctx, notFound(err, "token"))
}

func (s *Store) GetTokenByAccessHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, byAccessSQL, h[:]))
	return t, s.fail(ctx, notFound(err, "token"))
}

func (s *Store) GetTokenByRefreshHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	if h.IsZero() {
		// The zero hash means "no refresh token"; it names no token.
		return nil, tokend.NotFound("token")
	}
	t, err := scanToken(s.pool.QueryRow(ctx, byRefreshSQL, h[:]))
	return t, s.fail(ctx, notFound(err, "token"))
}

func (s *Store) UpdateToken(ctx context.Context, id int64, update func(*tokend.Token) error) (*tokend.Token, error) {
	var t *tokend.Token
	err := s.inTx(ctx, func(ctx context.Context, tx *tx) error {
		// FOR UPDATE: a concurrent update of the same token waits for
		// this one to commit and then sees its result, on any node.
		var err error
		if t, err = scanToken(tx.QueryRow(ctx, byIDSQL+` FOR UPDATE`, id)); err != nil {
			return notFound(err, "token")
		}
		return updateToken(ctx, tx, t, update)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// updateToken runs update on t, as read and locked in tx, and writes the
// result back.
func updateToken(ctx context.Context, tx *tx, t *tokend.Token, update func(*tokend.Token) error) error {
	id, serviceID := t.ID, t.ServiceID
	if err := runUpdate(update, t); err != nil {
		return err
	}
	t.ID, t.ServiceID = id, serviceID // identity is not the update's to change
	if t.GrantID == 0 {
		t.GrantID = id
	}
	args, err := tokenArgs(t)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, updateTokenSQL, append([]any{id}, args[1:]...)...); err != nil {
		return err
	}
	tx.changed(tokend.Change{Kind: tokend.ChangeToken, ServiceID: serviceID, ID: id})
	return nil
}

// DeleteToken deletes the token; its retired refresh tokens go with it
// (ON DELETE CASCADE).
func (s *Store) DeleteToken(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(ctx context.Context, tx *tx) error {
		var serviceID int64
		if err := tx.QueryRow(ctx, `DELETE FROM tokens WHERE id = $1 RETURNING service_id`, id).Scan(&serviceID); err != nil {
			return notFound(err, "token")
		}
		tx.changed(tokend.Change{Kind: tokend.ChangeToken, ServiceID: serviceID, ID: id})
		return nil
	})
}

func (s *Store) RevokeTokens(ctx context.Context, f tokend.RevokeFilter, at time.Time, reason string) (int, error) {
	if at.IsZero() {
		return 0, errZeroRevokedAt
	}
	if f.TokenID == 0 && f.GrantID == 0 && f.ClientID == 0 && f.Subject == nil {
		// Refuse rather than revoke a whole service by accident.
		return 0, tokend.Invalid("token", "name what to revoke: token, grant, client or subject")
	}
	q, args := revokeSQL(f, at, reason)
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx *tx) error {
		tag, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		switch {
		case n == 0:
		case f.TokenID != 0:
			tx.changed(tokend.Change{Kind: tokend.ChangeToken, ServiceID: f.ServiceID, ID: f.TokenID})
		default:
			tx.changed(tokend.Change{Kind: tokend.ChangeTokens, ServiceID: f.ServiceID})
		}
		return nil
	})
	return int(n), err
}

// revokeSQL returns the statement that revokes what f names.
func revokeSQL(f tokend.RevokeFilter, at time.Time, reason string) (string, []any) {
	var w where
	w.add("revoked_at IS NULL")
	w.add("service_id = $", f.ServiceID)
	if f.TokenID != 0 {
		w.add("id = $", f.TokenID)
	}
	if f.GrantID != 0 {
		// The grant's first token keeps grant_id NULL (its own id).
		w.add("(grant_id = $ OR (id = $ AND grant_id IS NULL))", f.GrantID, f.GrantID)
	}
	if f.ClientID != 0 {
		w.add("client_id = $", f.ClientID)
	}
	if f.Subject != nil {
		w.add("subject = $", *f.Subject)
	}
	return `UPDATE tokens SET revoked_at = $1, revoked_reason = $2 WHERE ` + w.sql(3), append([]any{at, reason}, w.args...)
}

// where builds a conjunction of conditions. Each "$" in a condition is a
// placeholder, numbered when the SQL is made.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	if strings.Count(cond, "$") != len(args) {
		panic("postgres: where: placeholders and arguments differ: " + cond)
	}
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// sql returns the conditions with their placeholders numbered from first.
func (w *where) sql(first int) string {
	if len(w.conds) == 0 {
		return "true"
	}
	var b strings.Builder
	n := first
	for i, c := range w.conds {
		if i > 0 {
			b.WriteString(" AND ")
		}
		for _, r := range c {
			b.WriteRune(r)
			if r == '$' {
				b.WriteString(strconv.Itoa(n))
				n++
			}
		}
	}
	return b.String()
}

// liveSQL is true for a token whose access or refresh token can be used at
// the instant bound to its three placeholders; it mirrors Token.Status,
// with expiry exclusive. coalesce keeps it true or false, never NULL, so
// that NOT works on it.
const liveSQL = `(persistent OR coalesce(access_expires_at > $, false) OR (refresh_hash IS NOT NULL AND coalesce(refresh_expires_at > $, false)))`

// liveSQLOf is liveSQL on the columns of table alias a.
func liveSQLOf(a string) string {
	return "(" + a + ".persistent OR coalesce(" + a + ".access_expires_at > $, false) OR (" +
		a + ".refresh_hash IS NOT NULL AND coalesce(" + a + ".refresh_expires_at > $, false)))"
}

// orderExprs are the SQL values of Token.OrderValue for each key.
var orderExprs = map[tokend.OrderKey]string{
	tokend.OrderCreatedAt:       "created_at",
	tokend.OrderExpiresAt:       "expires_at",
	tokend.OrderLastRefreshedAt: "coalesce(last_refreshed_at, '1970-01-01 00:00:00+00')",
}

// tokenQuery returns the filter's conditions without paging: the list adds
// the cursor to them, the total does not.
func tokenQuery(f tokend.TokenFilter) (*where, error) {
	var w where
	w.add("service_id = $", f.ServiceID)
	if f.Subject != nil {
		w.add("subject = $", *f.Subject)
	}
	if f.ClientID != nil {
		w.add("client_id = $", *f.ClientID)
	}
	if f.GrantType != nil {
		if !f.GrantType.Valid() {
			return nil, tokend.Invalid("grant_type", "unknown grant type %.40q", *f.GrantType)
		}
		w.add("grant_type = $", string(*f.GrantType))
	}
	if f.Scope != nil {
		w.add("$ = ANY (scopes)", *f.Scope)
	}
	if f.AccountID != nil {
		w.add("account_id = $", *f.AccountID)
	}
	if f.Role != nil {
		w.add("$ = ANY (roles)", *f.Role)
	}
	now := f.Now
	switch f.Status {
	case tokend.StatusAll, "":
	case tokend.StatusRevoked:
		w.add("revoked_at IS NOT NULL")
	case tokend.StatusActive:
		// expires_at > now follows from liveSQL; said separately it is a
		// range on the (service_id, expires_at) index.
		w.add("revoked_at IS NULL AND expires_at > $ AND "+liveSQL, now, now, now)
	case tokend.StatusExpired:
		w.add("revoked_at IS NULL AND NOT "+liveSQL, now, now)
	case tokend.StatusNotRevoked:
		w.add("revoked_at IS NULL")
	default:
		return nil, tokend.Invalid("status", "must be active, expired, revoked, not_revoked or all, not %.40q", f.Status)
	}
	if !f.CreatedAfter.IsZero() {
		w.add("created_at > $", f.CreatedAfter)
	}
	if !f.CreatedBefore.IsZero() {
		w.add("created_at < $", f.CreatedBefore)
	}
	return &w, nil
}

// listSQL returns the page query and its arguments.
func listSQL(f tokend.TokenFilter) (string, []any, error) {
	if f.OrderBy == "" {
		f.OrderBy = tokend.OrderCreatedAt
	}
	order, ok := orderExprs[f.OrderBy]
	if !ok {
		return "", nil, tokend.Invalid("order_by", "unknown order key %.40q", f.OrderBy)
	}
	if f.Limit < 1 {
		return "", nil, tokend.Invalid("limit", "must be at least 1")
	}
	if f.Offset < 0 {
		return "", nil, tokend.Invalid("offset", "must not be negative")
	}
	w, err := tokenQuery(f)
	if err != nil {
		return "", nil, err
	}
	dir, cmp := "", ">"
	if f.Desc {
		dir, cmp = " DESC", "<"
	}
	if f.After != nil {
		w.add("("+order+", id) "+cmp+" ($, $)", orderTime(f.After.Value), f.After.ID)
	}
	n := len(w.args)
	q := selectToken + ` WHERE ` + w.sql(1) + ` ORDER BY ` + order + dir + `, id` + dir +
		` LIMIT $` + strconv.Itoa(n+1) + ` OFFSET $` + strconv.Itoa(n+2)
	// One more row than asked tells whether another page follows.
	return q, append(w.args, f.Limit+1, f.Offset), nil
}

func (s *Store) ListTokens(ctx context.Context, f tokend.TokenFilter) (*tokend.TokenPage, error) {
	q, args, err := listSQL(f)
	if err != nil {
		return nil, err
	}
	if !f.CountTotal {
		toks, err := scanTokens(s.pool.Query(ctx, q, args...))
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return page(toks, f.Limit), nil
	}
	// The page and the total from one snapshot.
	var p *tokend.TokenPage
	err = s.runRead(ctx, func(ctx context.Context, tx pgx.Tx) error {
		toks, err := scanTokens(tx.Query(ctx, q, args...))
		if err != nil {
			return err
		}
		p = page(toks, f.Limit)
		if n, ok := pageTotal(f, len(toks)); ok {
			p.Total = n
			return nil
		}
		w, _ := tokenQuery(f) // validated by listSQL
		return tx.QueryRow(ctx, `SELECT count(*) FROM tokens WHERE `+w.sql(1), w.args...).Scan(&p.Total)
	})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return p, nil
}

// runRead runs fn in a read-only transaction whose statements all see one
// snapshot.
func (s *Store) runRead(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(ctx, tx) })
}

func page(toks []*tokend.Token, limit int) *tokend.TokenPage {
	p := &tokend.TokenPage{Tokens: toks}
	if len(toks) > limit {
		p.Tokens, p.More = toks[:limit], true
	}
	return p
}

// pageTotal is the number of tokens the filter matches, ignoring paging,
// when the page shows it: a page without a cursor that ends before the
// limit holds the last of them, so the total is its offset plus the rows
// read (unless the offset lies past the end).
func pageTotal(f tokend.TokenFilter, rows int) (int, bool) {
	if f.After != nil || rows > f.Limit || (rows == 0 && f.Offset > 0) {
		return 0, false
	}
	return f.Offset + rows, true
}

// subjectGrantsSQL returns the query of ListSubjectGrants.
func subjectGrantsSQL(serviceID int64, subject string, now time.Time) (string, []any) {
	var w where
	w.add("t.service_id = $", serviceID)
	w.add("t.subject = $", subject)
	w.add("t.revoked_at IS NULL AND t.expires_at > $", now)
	w.add(liveSQLOf("t"), now, now)
	// Tokens of a deleted client drop out with the inner join; DeleteClient
	// revoked them anyway.
	return `SELECT ` + prefixed("c.", clientCols) + `, g.scopes, g.first, g.last, g.n
		FROM (SELECT t.client_id, array_agg(DISTINCT sc) FILTER (WHERE sc IS NOT NULL) AS scopes,
				min(t.created_at) AS first, max(t.created_at) AS last, count(DISTINCT t.id) AS n
			FROM tokens t LEFT JOIN LATERAL unnest(t.scopes) AS sc ON true
			WHERE ` + w.sql(1) + ` GROUP BY t.client_id) AS g
		JOIN clients c ON c.id = g.client_id
		ORDER BY g.last DESC, c.id`, w.args
}

func (s *Store) ListSubjectGrants(ctx context.Context, serviceID int64, subject string, now time.Time) ([]*tokend.ClientGrant, error) {
	q, args := subjectGrantsSQL(serviceID, subject, now)
	rows, err := s.pool.Query(ctx, q, args...)
	out, err := collect(rows, err, func(r pgx.Row) (*tokend.ClientGrant, error) {
		var (
			c      clientRow
			scopes []string
			g      tokend.ClientGrant
		)
		if err := r.Scan(append(c.dest(), &scopes, &g.FirstIssued, &g.LastIssued, &g.TokenCount)...); err != nil {
			return nil, err
		}
		cl, err := c.client()
		if err != nil {
			return nil, err
		}
		g.Client = cl
		// Sorted by bytes as the core sorts, not by the database's collation.
		g.Scopes = tokend.SortedUnion(scopes)
		if g.Scopes == nil {
			g.Scopes = []string{}
		}
		g.FirstIssued, g.LastIssued = utc(g.FirstIssued), utc(g.LastIssued)
		return &g, nil
	})
	return out, s.fail(ctx, err)
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
