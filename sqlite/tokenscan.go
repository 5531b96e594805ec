package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tokend/tokend"
)

// tokenReadCols are the columns a token is read from, in the order of the
// col* constants: tokenCols with id and without expires_at, which only
// serves the indexes (Token.OrderValue derives it).
const tokenReadCols = `id, service_id, client_id, grant_type, created_at, access_hash, refresh_hash,
	subject, scopes, access_expires_at, refresh_expires_at, persistent, grant_id, last_refreshed_at,
	revoked_at, revoked_reason, refresh_scopes, account_id, roles, auth_time, acr, session_id,
	resources, cert_thumbprint, dpop_thumbprint, properties, authorization_details`

const (
	colID = iota
	colServiceID
	colClientID
	colGrantType
	colCreatedAt
	colAccessHash
	colRefreshHash
	colSubject
	colScopes
	colAccessExpiresAt
	colRefreshExpiresAt
	colPersistent
	colGrantID
	colLastRefreshedAt
	colRevokedAt
	colRevokedReason
	colRefreshScopes
	colAccountID
	colRoles
	colAuthTime
	colACR
	colSessionID
	colResources
	colCertThumbprint
	colDPoPThumbprint
	colProperties
	colAuthorizationDetails
	nTokenCols
)

// maxTokenSlab bounds the tokens allocated at once for a list.
const maxTokenSlab = 64

// tokenScanner reads token rows into tokens. Its destinations are made once
// and reused for every row: each is an *any, which database/sql fills
// without conversion or reflection, and nothing escapes per row (scanning
// into fresh sql.Null* locals cost 25 allocations a row). The two hash
// blobs of a multi-row result go through sql.RawBytes and are copied into
// the token's Hash before the next row. A list's tokens and their word
// lists are carved from slabs, a few allocations per page instead of a few
// per token; each word list is capped, so appending to one copies it
// rather than overwriting its neighbour.
type tokenScanner struct {
	vals      [nTokenCols]any
	raw       [2]sql.RawBytes // access_hash, refresh_hash when rawHashes
	dest      [nTokenCols]any
	toks      []tokend.Token // the slab the next tokens come from
	words     []string       // the slab the next word lists come from
	want      int            // tokens still expected, sizing the next slab
	rawHashes bool
}

// newTokenScanner returns a scanner for about n rows. rawHashes (for
// *sql.Rows; *sql.Row.Scan refuses RawBytes) reads the hashes without a
// copy and sizes the word slab for a list.
func newTokenScanner(n int, rawHashes bool) *tokenScanner {
	s := &tokenScanner{want: n, rawHashes: rawHashes}
	for i := range s.dest {
		s.dest[i] = &s.vals[i]
	}
	if rawHashes {
		s.dest[colAccessHash], s.dest[colRefreshHash] = &s.raw[0], &s.raw[1]
	}
	return s
}

func (s *tokenScanner) newToken() *tokend.Token {
	if len(s.toks) == cap(s.toks) {
		// Slabs double from 8, so a short list wastes little, within
		// the rows expected while any are.
		n := min(max(2*cap(s.toks), 8), maxTokenSlab)
		if s.want > 0 {
			n = min(n, s.want)
		}
		s.want -= n
		s.toks = make([]tokend.Token, 0, n)
	}
	s.toks = s.toks[:len(s.toks)+1]
	return &s.toks[len(s.toks)-1]
}

// fields splits a space-joined list into a non-nil slice cut from the slab.
func (s *tokenScanner) fields(v string) []string {
	n := countFields(v)
	if n == 0 {
		return []string{}
	}
	if cap(s.words)-len(s.words) < n {
		size := n
		if s.rawHashes { // a list: room for more tokens' words
			size = max(n, min(2*cap(s.words), 1024), 32)
		}
		s.words = make([]string, 0, size)
	}
	start := len(s.words)
	for i := 0; i < len(v); {
		for i < len(v) && isSpace(v[i]) {
			i++
		}
		j := i
		for j < len(v) && !isSpace(v[j]) {
			j++
		}
		if j > i {
			s.words = append(s.words, v[i:j])
		}
		i = j
	}
	return s.words[start:len(s.words):len(s.words)]
}

// isSpace is the ASCII white space words refuses in values; the lists
// stored are ASCII-separated, as strings.Fields would split them.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func countFields(v string) int {
	n, in := 0, false
	for i := 0; i < len(v); i++ {
		if isSpace(v[i]) {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}

// scan reads the current row of r into a new token.
func (s *tokenScanner) scan(r rowScanner) (*tokend.Token, error) {
	if err := r.Scan(s.dest[:]...); err != nil {
		return nil, err
	}
	t := s.newToken()
	if err := s.decode(t); err != nil {
		return nil, err
	}
	return t, nil
}

// colError reports a stored value of a type the column never holds.
func colError(id int64, col int, v any) error {
	return fmt.Errorf("sqlite: token %d: column %d holds %T", id, col, v)
}

func (s *tokenScanner) int(id int64, col int) (int64, bool, error) {
	switch v := s.vals[col].(type) {
	case int64:
		return v, true, nil
	case nil:
		return 0, false, nil
	default:
		return 0, false, colError(id, col, v)
	}
}

func (s *tokenScanner) text(id int64, col int) (string, error) {
	switch v := s.vals[col].(type) {
	case string:
		return v, nil
	case nil:
		return "", nil
	case []byte:
		return string(v), nil
	default:
		return "", colError(id, col, v)
	}
}

func (s *tokenScanner) blob(col, raw int) []byte {
	if s.rawHashes {
		return s.raw[raw]
	}
	b, _ := s.vals[col].([]byte)
	return b
}

// decode fills t from the scanned values; see scanToken for the encoding.
func (s *tokenScanner) decode(t *tokend.Token) error {
	id, ok := s.vals[colID].(int64)
	if !ok {
		return fmt.Errorf("sqlite: token id is %T", s.vals[colID])
	}
	t.ID = id
	var err error
	ints := func(col int, dst *int64) bool {
		var v int64
		if v, _, err = s.int(id, col); err == nil {
			*dst = v
		}
		return err == nil
	}
	var grant, created, persistent int64
	if !ints(colServiceID, &t.ServiceID) || !ints(colClientID, &t.ClientID) || !ints(colGrantType, &grant) ||
		!ints(colCreatedAt, &created) || !ints(colPersistent, &persistent) {
		return err
	}
	if t.GrantType, ok = grantsByCode[grant]; !ok {
		return fmt.Errorf("sqlite: token %d has unknown grant type code %d", id, grant)
	}
	t.Persistent = persistent != 0
	t.CreatedAt = timeOfMs(created)
	if t.AccessHash, err = hashOf(s.blob(colAccessHash, 0)); err != nil {
		return err
	}
	if t.RefreshHash, err = hashOf(s.blob(colRefreshHash, 1)); err != nil {
		return err
	}
	times := [...]struct {
		col int
		dst *time.Time
	}{
		{colAccessExpiresAt, &t.AccessExpiresAt}, {colRefreshExpiresAt, &t.RefreshExpiresAt},
		{colLastRefreshedAt, &t.LastRefreshedAt}, {colRevokedAt, &t.RevokedAt}, {colAuthTime, &t.AuthTime},
	}
	for _, c := range times {
		ms, valid, err := s.int(id, c.col)
		if err != nil {
			return err
		}
		*c.dst = timeOf(sql.NullInt64{Int64: ms, Valid: valid})
	}
	t.GrantID = id
	if g, valid, err := s.int(id, colGrantID); err != nil {
		return err
	} else if valid {
		t.GrantID = g
	}
	texts := [...]struct {
		col int
		dst *string
	}{
		{colSubject, &t.Subject}, {colRevokedReason, &t.RevokedReason}, {colAccountID, &t.AccountID},
		{colACR, &t.ACR}, {colSessionID, &t.SessionID}, {colCertThumbprint, &t.CertThumbprint},
		{colDPoPThumbprint, &t.DPoPThumbprint},
	}
	for _, c := range texts {
		if *c.dst, err = s.text(id, c.col); err != nil {
			return err
		}
	}
	scopes, err := s.text(id, colScopes)
	if err != nil {
		return err
	}
	t.Scopes = s.fields(scopes)
	// NULL: the same as scopes; '': none (an empty, non-nil list).
	if s.vals[colRefreshScopes] != nil {
		rs, err := s.text(id, colRefreshScopes)
		if err != nil {
			return err
		}
		t.RefreshScopes = s.fields(rs)
	}
	roles, err := s.text(id, colRoles)
	if err != nil {
		return err
	}
	if roles != "" {
		t.Roles = s.fields(roles)
	}
	resources, err := s.text(id, colResources)
	if err != nil {
		return err
	}
	if t.Resources, err = jsonListOf(sql.NullString{String: resources, Valid: true}, true); err != nil {
		return err
	}
	props, err := s.text(id, colProperties)
	if err != nil {
		return err
	}
	if props != "" {
		if err := json.Unmarshal([]byte(props), &t.Properties); err != nil {
			return fmt.Errorf("sqlite: token %d: stored properties: %w", id, err)
		}
	}
	details, err := s.text(id, colAuthorizationDetails)
	if err != nil {
		return err
	}
	if details != "" {
		t.AuthorizationDetails = json.RawMessage(details)
	}
	return nil
}
