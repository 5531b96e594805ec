package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/tokend/tokend"
)

// grantCodes store a token's grant type in one byte instead of up to 20.
// The codes are part of the file format: never renumber, only append.
var grantCodes = map[tokend.GrantType]int64{
	tokend.GrantAuthorizationCode: 1,
	tokend.GrantImplicit:          2,
	tokend.GrantPassword:          3,
	tokend.GrantClientCredentials: 4,
	tokend.GrantRefreshToken:      5,
	tokend.GrantCIBA:              6,
	tokend.GrantDeviceCode:        7,
	tokend.GrantTokenExchange:     8,
	tokend.GrantJWTBearer:         9,
	tokend.GrantPreAuthorizedCode: 10,
}

var grantsByCode = func() map[int64]tokend.GrantType {
	m := make(map[int64]tokend.GrantType, len(grantCodes))
	for g, c := range grantCodes {
		m[c] = g
	}
	return m
}()

// tokenCols are the columns after id, in the order tokenArgs produces.
const tokenCols = `service_id, client_id, grant_type, created_at, expires_at, access_hash, refresh_hash,
	subject, scopes, access_expires_at, refresh_expires_at, persistent, grant_id, last_refreshed_at,
	revoked_at, revoked_reason, refresh_scopes, account_id, roles, auth_time, acr, session_id,
	resources, cert_thumbprint, dpop_thumbprint, properties, authorization_details`

const selectToken = `SELECT ` + tokenReadCols + ` FROM tokens`

// Lookups by hash search the 8-byte prefix index (migration 0003) and
// compare the full hash in the row. Their two arguments come from hashKey.
const (
	byAccessSQL  = selectToken + ` WHERE substr(access_hash, 1, 8) = ? AND access_hash = ?`
	byRefreshSQL = selectToken + ` WHERE substr(refresh_hash, 1, 8) = ? AND refresh_hash = ?`
)

// hashKey is the arguments of a lookup by h: its index key and h itself.
func hashKey(h tokend.Hash) []any { return []any{h[:8], h[:]} }

// checkHashesSQL finds another token holding either hash: 1 for the access
// hash, 2 for the refresh hash. A NULL refresh hash matches nothing.
const checkHashesSQL = `SELECT 1 FROM tokens WHERE substr(access_hash, 1, 8) = ?1 AND access_hash = ?2 AND id <> ?5
	UNION ALL
	SELECT 2 FROM tokens WHERE substr(refresh_hash, 1, 8) = ?3 AND refresh_hash = ?4 AND id <> ?5
	LIMIT 1`

var (
	errAccessTaken  = &tokend.Error{Code: tokend.ECONFLICT, Field: "access_token", Message: "a record with this access_token already exists"}
	errRefreshTaken = &tokend.Error{Code: tokend.ECONFLICT, Field: "refresh_token", Message: "a record with this refresh_token already exists"}
)

// checkTokenHashes stands in for the UNIQUE constraints the prefix indexes
// cannot carry: ECONFLICT if a token other than id (0: none) holds either
// hash. Run in the writer's transaction before every insert or update of a
// token's hashes, it sees every committed and earlier-in-group write, and no
// other connection writes, so nothing can slip in between check and write.
func (s *Store) checkTokenHashes(ctx context.Context, tx *sql.Tx, id int64, access, refresh tokend.Hash) error {
	return checkHashesWith(ctx, tx.StmtContext(ctx, s.checkHashes), id, access, refresh)
}

// checkHashesWith is checkTokenHashes with the transaction's statement.
func checkHashesWith(ctx context.Context, st *sql.Stmt, id int64, access, refresh tokend.Hash) error {
	var refreshKey, refreshArg any
	if !refresh.IsZero() {
		refreshKey, refreshArg = refresh[:8], refresh[:]
	}
	var which int
	err := st.QueryRowContext(ctx, access[:8], access[:], refreshKey, refreshArg, id).Scan(&which)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case which == 1:
		return errAccessTaken
	default:
		return errRefreshTaken
	}
}

// insertTokenTx checks t's hashes and inserts it, returning its new id.
func (s *Store) insertTokenTx(ctx context.Context, tx *sql.Tx, t *tokend.Token, args []any) (id int64, err error) {
	// A minted token's hashes are new to the world (see Token.Minted):
	// looking for them would cost the writer a tenth of its time.
	if !t.Minted {
		if err := s.checkTokenHashes(ctx, tx, 0, t.AccessHash, t.RefreshHash); err != nil {
			return 0, err
		}
	}
	// Exec and the last rowid, not RETURNING: no result set to build.
	res, err := tx.StmtContext(ctx, s.insertToken).ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

var insertTokenSQL = `INSERT INTO tokens (` + tokenCols + `) VALUES (` +
	strings.TrimSuffix(strings.Repeat("?, ", strings.Count(tokenCols, ",")+1), ", ") + `)`

// updateTokenSQL writes every column but id and service_id: an update may
// not move a token to another service.
var updateTokenSQL = func() string {
	cols := strings.Split(tokenCols, ",")[1:]
	for i, c := range cols {
		cols[i] = strings.TrimSpace(c) + " = ?"
	}
	return `UPDATE tokens SET ` + strings.Join(cols, ", ") + ` WHERE id = ?`
}()

var errZeroRevokedAt = tokend.Invalid("revoked_at", "must be set")

func tokenArgs(t *tokend.Token) ([]any, error) {
	grant, ok := grantCodes[t.GrantType]
	if !ok {
		return nil, tokend.Invalid("grant_type", "unknown grant type %.40q", t.GrantType)
	}
	scopes, err := words("scopes", t.Scopes)
	if err != nil {
		return nil, err
	}
	var refreshScopes any
	if t.RefreshScopes != nil {
		// Unlike other lists, empty differs from unset here: nil means
		// "same as scopes", an empty list means "no scopes".
		if refreshScopes, err = words("refresh_scopes", t.RefreshScopes); err != nil {
			return nil, err
		}
		if refreshScopes == nil {
			refreshScopes = ""
		}
	}
	roles, err := words("roles", t.Roles)
	if err != nil {
		return nil, err
	}
	// Resource indicators are URIs, which may hold spaces (url.Parse accepts
	// them in paths), so they cannot be space-joined.
	resources, err := jsonList(t.Resources)
	if err != nil {
		return nil, err
	}
	var props, details any
	if len(t.Properties) > 0 {
		b, err := json.Marshal(t.Properties)
		if err != nil {
			return nil, err
		}
		props = string(b)
	}
	if len(t.AuthorizationDetails) > 0 {
		details = string(t.AuthorizationDetails)
	}
	var grantID any
	if t.GrantID != 0 && t.GrantID != t.ID {
		grantID = t.GrantID
	}
	if t.AccessHash.IsZero() {
		return nil, tokend.Invalid("access_token", "hash must be set")
	}
	return []any{
		t.ServiceID, t.ClientID, grant, t.CreatedAt.UnixMilli(), t.OrderValue(tokend.OrderExpiresAt),
		t.AccessHash[:], hashArg(t.RefreshHash),
		text(t.Subject), scopes, millis(t.AccessExpiresAt), millis(t.RefreshExpiresAt), boolInt(t.Persistent),
		grantID, millis(t.LastRefreshedAt), millis(t.RevokedAt), text(t.RevokedReason), refreshScopes,
		text(t.AccountID), roles, millis(t.AuthTime), text(t.ACR), text(t.SessionID), resources,
		text(t.CertThumbprint), text(t.DPoPThumbprint), props, details,
	}, nil
}

// scanToken reads one token row selected with tokenReadCols.
func scanToken(r rowScanner) (*tokend.Token, error) {
	return newTokenScanner(1, false).scan(r)
}

// scanTokens reads every row of a token list and closes rows; n is about
// how many there are.
func scanTokens(rows *sql.Rows, n int) ([]*tokend.Token, error) {
	defer rows.Close()
	sc := newTokenScanner(n, true)
	out := make([]*tokend.Token, 0, min(n, 1024))
	for rows.Next() {
		t, err := sc.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) CreateToken(ctx context.Context, t *tokend.Token) error {
	t.ID = 0 // the store assigns ids; a stale one must not become the grant id
	args, err := tokenArgs(t)
	if err != nil {
		return err
	}
	var id int64
	err = s.inStmt(ctx, func(ctx context.Context, tx *sql.Tx) error {
		id, err = s.insertTokenTx(ctx, tx, t, args)
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

func (s *Store) GetToken(ctx context.Context, id int64) (*tokend.Token, error) {
	return s.getToken(ctx, s.reader(), id)
}

func (s *Store) getToken(ctx context.Context, q querier, id int64) (*tokend.Token, error) {
	return s.oneToken(ctx, q.QueryRowContext(ctx, selectToken+` WHERE id = ?`, id))
}

func (s *Store) oneToken(ctx context.Context, row *sql.Row) (*tokend.Token, error) {
	t, err := scanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tokend.NotFound("token")
	}
	return t, s.fail(ctx, err)
}

func (s *Store) GetTokenByAccessHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	return s.oneToken(ctx, s.getByAccess.QueryRowContext(ctx, hashKey(h)...))
}

func (s *Store) GetTokenByRefreshHash(ctx context.Context, h tokend.Hash) (*tokend.Token, error) {
	if h.IsZero() {
		// The zero hash means "no refresh token"; it names no token.
		return nil, tokend.NotFound("token")
	}
	return s.oneToken(ctx, s.getByRefresh.QueryRowContext(ctx, hashKey(h)...))
}

func (s *Store) UpdateToken(ctx context.Context, id int64, update func(*tokend.Token) error) (*tokend.Token, error) {
	var t *tokend.Token
	// inTx, not inStmt, although it writes once: the update function may
	// panic, and only a savepoint tells that nothing was written then.
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if t, err = s.getToken(ctx, tx, id); err != nil {
			return err
		}
		return s.updateToken(ctx, tx, t, update)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// updateToken runs update on t, as read in tx, and writes the result back.
func (s *Store) updateToken(ctx context.Context, tx *sql.Tx, t *tokend.Token, update func(*tokend.Token) error) error {
	id, serviceID := t.ID, t.ServiceID
	access, refresh := t.AccessHash, t.RefreshHash
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
	if !t.Minted && (t.AccessHash != access || t.RefreshHash != refresh) {
		if err := s.checkTokenHashes(ctx, tx, id, t.AccessHash, t.RefreshHash); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, updateTokenSQL, append(args[1:], id)...)
	return err
}

func (s *Store) DeleteToken(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// A retired refresh token of a deleted record is just unknown.
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_history WHERE token_id = ?`, id); err != nil {
			return err
		}
		return mustAffect(tx.ExecContext(ctx, `DELETE FROM tokens WHERE id = ?`, id))("token")
	})
}

func (s *Store) RevokeTokens(ctx context.Context, f tokend.RevokeFilter, at time.Time, reason string) (int, error) {
	if at.IsZero() {
		return 0, errZeroRevokedAt
	}
	var w where
	w.add("service_id = ?", f.ServiceID)
	w.add("revoked_at IS NULL")
	if f.TokenID != 0 {
		w.add("id = ?", f.TokenID)
	}
	if f.GrantID != 0 {
		// The family's first token keeps grant_id NULL (its own id).
		w.add("(grant_id = ? OR (id = ? AND grant_id IS NULL))", f.GrantID, f.GrantID)
	}
	if f.ClientID != 0 {
		w.add("client_id = ?", f.ClientID)
	}
	if f.Subject != nil {
		w.eqText("subject", *f.Subject)
	}
	if f.TokenID == 0 && f.GrantID == 0 && f.ClientID == 0 && f.Subject == nil {
		// Refuse rather than revoke a whole service by accident.
		return 0, tokend.Invalid("token", "name what to revoke: token, grant, client or subject")
	}
	var n int64
	err := s.inStmt(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ?, revoked_reason = ? WHERE `+w.String(),
			append([]any{at.UnixMilli(), text(reason)}, w.args...)...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// where builds a conjunction of conditions with their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// eqText matches a text column stored with "" as NULL.
func (w *where) eqText(col, v string) {
	if v == "" {
		w.add(col + " IS NULL")
		return
	}
	w.add(col+" = ?", v)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return "1"
	}
	return strings.Join(w.conds, " AND ")
}

// liveSQL is true for a token whose access or refresh token can be used at
// the instant bound to its three parameters; it mirrors Token.Status, with
// expiry exclusive. IFNULL keeps the result 0 or 1 so that NOT works on it.
const liveSQL = `(persistent OR IFNULL(access_expires_at > ?, 0) OR (refresh_hash IS NOT NULL AND IFNULL(refresh_expires_at > ?, 0)))`

// orderExprs are the SQL values of Token.OrderValue for each key.
var orderExprs = map[tokend.OrderKey]string{
	tokend.OrderCreatedAt:       "created_at",
	tokend.OrderExpiresAt:       "expires_at",
	tokend.OrderLastRefreshedAt: "IFNULL(last_refreshed_at, 0)",
}

// tokenQuery returns the filter's conditions without paging: the list adds
// the cursor to them, the total does not.
func tokenQuery(f tokend.TokenFilter) (*where, error) {
	var w where
	w.add("service_id = ?", f.ServiceID)
	if f.Subject != nil {
		w.eqText("subject", *f.Subject)
	}
	if f.ClientID != nil {
		w.add("client_id = ?", *f.ClientID)
	}
	if f.GrantType != nil {
		code, ok := grantCodes[*f.GrantType]
		if !ok {
			return nil, tokend.Invalid("grant_type", "unknown grant type %.40q", *f.GrantType)
		}
		w.add("grant_type = ?", code)
	}
	// Whole words of the space-joined column; instr, unlike LIKE, has no
	// wildcards and is case-sensitive.
	if f.Scope != nil {
		w.add("instr(' ' || scopes || ' ', ?) > 0", " "+*f.Scope+" ")
	}
	if f.AccountID != nil {
		w.eqText("account_id", *f.AccountID)
	}
	if f.Role != nil {
		w.add("instr(' ' || roles || ' ', ?) > 0", " "+*f.Role+" ")
	}
	now := f.Now.UnixMilli()
	switch f.Status {
	case tokend.StatusAll, "":
	case tokend.StatusRevoked:
		w.add("revoked_at IS NOT NULL")
	case tokend.StatusActive:
		// expires_at > now follows from liveSQL; said separately it can be
		// served by the (service_id, expires_at) index. When another order
		// is asked for, the unary + keeps the planner on that order's index
		// instead of sorting every live token.
		col := "expires_at"
		if f.OrderBy != tokend.OrderExpiresAt {
			col = "+expires_at"
		}
		w.add("revoked_at IS NULL AND "+col+" > ? AND "+liveSQL, now, now, now)
	case tokend.StatusExpired:
		w.add("revoked_at IS NULL AND NOT "+liveSQL, now, now)
	case tokend.StatusNotRevoked:
		w.add("revoked_at IS NULL")
	default:
		return nil, tokend.Invalid("status", "must be active, expired, revoked, not_revoked or all, not %.40q", f.Status)
	}
	if !f.CreatedAfter.IsZero() {
		w.add("created_at > ?", f.CreatedAfter.UnixMilli())
	}
	if !f.CreatedBefore.IsZero() {
		w.add("created_at < ?", f.CreatedBefore.UnixMilli())
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
		w.add("("+order+", id) "+cmp+" (?, ?)", f.After.Value, f.After.ID)
	}
	q := selectToken + ` WHERE ` + w.String() + ` ORDER BY ` + order + dir + `, id` + dir + ` LIMIT ? OFFSET ?`
	// One more row than asked tells whether another page follows.
	return q, append(w.args, f.Limit+1, f.Offset), nil
}

func (s *Store) ListTokens(ctx context.Context, f tokend.TokenFilter) (*tokend.TokenPage, error) {
	q, args, err := listSQL(f)
	if err != nil {
		return nil, err
	}
	list, err := s.prepareList(ctx, q, args)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	var count *listQuery
	if f.CountTotal {
		w, _ := tokenQuery(f) // validated by listSQL
		if count, err = s.prepareList(ctx, `SELECT count(*) FROM tokens WHERE `+w.String(), w.args); err != nil {
			return nil, s.fail(ctx, err)
		}
	}
	// One read transaction, so the total and the page see the same
	// snapshot; without a total the page is one statement, a snapshot of
	// its own.
	var tx *sql.Tx
	if count != nil {
		if tx, err = s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
			return nil, s.fail(ctx, err)
		}
		defer tx.Rollback()
	}
	rows, err := list.run(ctx, s.read, tx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	toks, err := scanTokens(rows, f.Limit+1)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	page := &tokend.TokenPage{Tokens: toks}
	if len(toks) > f.Limit {
		page.Tokens, page.More = toks[:f.Limit], true
	}
	if count == nil {
		return page, nil
	}
	if n, ok := pageTotal(f, len(toks)); ok {
		page.Total = n
		return page, nil
	}
	rows, err = count.run(ctx, s.read, tx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	defer rows.Close()
	if !rows.Next() {
		err = rows.Err()
		if err == nil {
			err = errors.New("sqlite: count returned no row")
		}
		return nil, s.fail(ctx, err)
	}
	if err := rows.Scan(&page.Total); err != nil {
		return nil, s.fail(ctx, err)
	}
	return page, s.fail(ctx, rows.Close())
}

// pageTotal is the number of tokens the filter matches, ignoring paging,
// when the page shows it: a page without a cursor that ends before the
// limit holds the last of them, so the total is its offset plus the rows
// read (unless the offset lies past the end). Most subjects hold fewer
// tokens than a page, so their total costs no count of its own, which
// would read every row again to judge its status.
func pageTotal(f tokend.TokenFilter, rows int) (int, bool) {
	if f.After != nil || rows > f.Limit || (rows == 0 && f.Offset > 0) {
		return 0, false
	}
	return f.Offset + rows, true
}

func (s *Store) ListSubjectGrants(ctx context.Context, serviceID int64, subject string, now time.Time) ([]*tokend.ClientGrant, error) {
	var w where
	w.add("service_id = ?", serviceID)
	w.eqText("subject", subject)
	n := now.UnixMilli()
	w.add("revoked_at IS NULL AND +expires_at > ? AND "+liveSQL, n, n, n)
	// Tokens of a deleted client drop out with the inner join; DeleteClient
	// revoked them anyway.
	rows, err := s.reader().QueryContext(ctx, `SELECT `+prefixed("c.", clientCols)+`, g.scopes, g.first, g.last, g.n
		FROM (SELECT client_id, group_concat(scopes, ' ') AS scopes, min(created_at) AS first,
				max(created_at) AS last, count(*) AS n
			FROM tokens WHERE `+w.String()+` GROUP BY client_id) AS g
		JOIN clients c ON c.id = g.client_id
		ORDER BY g.last DESC, c.id`, w.args...)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out, err := collect(rows, func(r rowScanner) (*tokend.ClientGrant, error) {
		var (
			c      clientRow
			scopes sql.NullString
			first  int64
			last   int64
			g      tokend.ClientGrant
		)
		if err := r.Scan(append(c.dest(), &scopes, &first, &last, &g.TokenCount)...); err != nil {
			return nil, err
		}
		cl, err := c.client()
		if err != nil {
			return nil, err
		}
		g.Client = cl
		g.Scopes = tokend.SortedUnion(wordsOf[string](scopes))
		if g.Scopes == nil {
			g.Scopes = []string{}
		}
		g.FirstIssued, g.LastIssued = timeOfMs(first), timeOfMs(last)
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
