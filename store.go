package tokend

import (
	"context"
	"math"
	"time"
)

// Store persists tokend's records. Every backend implements it and passes the
// conformance suite in package storetest; the core holds no transaction and
// relies on the contracts written here.
//
// Common contracts:
//   - A missing record yields an *Error with code ENOTFOUND.
//   - A unique value already taken yields an *Error with code ECONFLICT whose
//     Field names it: "id", "client_id", "access_token", "refresh_token" or "key".
//   - An unreachable or failing backend yields an *Error with code
//     EUNAVAILABLE (wrapping the cause), so callers can answer 503.
//   - Update functions run inside the backend's transaction, see the current
//     record and may return an error to abort; nothing is written then.
//     They must not call the Store: a backend with one writer would deadlock.
//   - Times are stored with millisecond precision; the core truncates them
//     before they reach the store, so what is read equals what was written.
//   - Audit: every write method records the audit entries attached to its
//     context (WithAudit) in the same transaction as its change, both or
//     neither, and fills in an entry's empty TargetID with the id of the
//     record the write creates (CreateToken, CreateKey). A write that fails
//     records nothing.
type Store interface {
	// Ready returns nil when the store answers queries and its schema has
	// every migration this build knows; otherwise an EUNAVAILABLE error
	// saying which (a load balancer's readiness probe asks it).
	Ready(ctx context.Context) error

	CreateService(ctx context.Context, s *Service) error
	GetService(ctx context.Context, id int64) (*Service, error)
	// ListServices returns every service ordered by id.
	ListServices(ctx context.Context) ([]*Service, error)
	UpdateService(ctx context.Context, id int64, update func(*Service) error) (*Service, error)
	// DeleteService removes the service with everything it owns: clients,
	// keys, tokens and their retired refresh tokens, authorization codes
	// and users.
	DeleteService(ctx context.Context, id int64) error

	CreateClient(ctx context.Context, c *Client) error
	// GetClient finds a client by its numeric id, in any service.
	GetClient(ctx context.Context, id int64) (*Client, error)
	// GetClientByClientID finds a client of service by its OAuth client_id.
	GetClientByClientID(ctx context.Context, serviceID int64, clientID string) (*Client, error)
	// ClientsByClientID returns the clients of every service whose OAuth
	// client_id is clientID, ordered by id: none, one, or several (a
	// client_id is unique within a service only). Dialects whose requests
	// name no service find it through the client.
	ClientsByClientID(ctx context.Context, clientID string) ([]*Client, error)
	// ListClients returns a service's clients ordered by id, those with an id
	// greater than f.AfterID, at most f.Limit of them (all if Limit is 0).
	ListClients(ctx context.Context, f ClientFilter) ([]*Client, error)
	UpdateClient(ctx context.Context, id int64, update func(*Client) error) (*Client, error)
	// DeleteClient removes the client and, in the same transaction, revokes
	// its tokens at the given time with the given reason.
	DeleteClient(ctx context.Context, id int64, revokedAt time.Time, reason string) error

	// CreateKey stores k and sets k.ID.
	CreateKey(ctx context.Context, k *Key) error
	GetKeyByHash(ctx context.Context, h Hash) (*Key, error)
	// ListKeys returns the keys of one service (serviceID > 0), the
	// organization's keys (0), or all keys (-1), ordered by id.
	ListKeys(ctx context.Context, serviceID int64) ([]*Key, error)
	DeleteKey(ctx context.Context, id int64) error
	// CountKeys tells whether any key exists, for the first-start bootstrap.
	CountKeys(ctx context.Context) (int, error)

	// CreateToken stores t and sets t.ID; a zero t.GrantID becomes t.ID.
	CreateToken(ctx context.Context, t *Token) error
	// ImportTokens stores many tokens at once (bulk migration), all or
	// nothing: it fails as CreateToken does (ECONFLICT, Field
	// "access_token" or "refresh_token", for a hash already stored or
	// given twice in toks) and then stores none and changes none of toks.
	// On success each token has its ID and, if it had none, GrantID = ID.
	ImportTokens(ctx context.Context, toks []*Token) error
	GetToken(ctx context.Context, id int64) (*Token, error)
	GetTokenByAccessHash(ctx context.Context, h Hash) (*Token, error)
	GetTokenByRefreshHash(ctx context.Context, h Hash) (*Token, error)
	ListTokens(ctx context.Context, f TokenFilter) (*TokenPage, error)
	UpdateToken(ctx context.Context, id int64, update func(*Token) error) (*Token, error)
	// DeleteToken removes the token and its retired refresh tokens.
	DeleteToken(ctx context.Context, id int64) error
	// RevokeTokens marks every token that matches f and is not yet revoked as
	// revoked, and returns how many it marked.
	RevokeTokens(ctx context.Context, f RevokeFilter, at time.Time, reason string) (int, error)
	// ListSubjectGrants returns, per client, the subject's live tokens
	// (neither revoked nor expired at now) summarised: the sorted union of
	// their scopes, first and last creation time, count. Ordered by the last
	// creation time, newest first.
	ListSubjectGrants(ctx context.Context, serviceID int64, subject string, now time.Time) ([]*ClientGrant, error)

	// RotateRefreshToken finds the token whose refresh hash is old, calls
	// update on it, writes it, and records retired (with TokenID set to the
	// token's id) — all in one transaction, so that of many concurrent calls
	// with the same old hash exactly one finds it. ENOTFOUND if no token
	// holds old as its refresh hash (never issued, or already rotated).
	RotateRefreshToken(ctx context.Context, old Hash, retired RetiredRefresh, update func(*Token) error) (*Token, error)
	// GetRetiredRefresh returns what RotateRefreshToken recorded for h.
	GetRetiredRefresh(ctx context.Context, h Hash) (*RetiredRefresh, error)

	// CreateAuthorizationCode stores a code; ECONFLICT (Field "code") if
	// its hash exists.
	CreateAuthorizationCode(ctx context.Context, code *AuthorizationCode) error
	// RedeemAuthorizationCode marks the code with hash h used at at and
	// stores the token mint returns (setting its ID and the code's
	// TokenID), in one transaction. If mint fails, nothing is written and
	// its error is returned. A code used before is returned as it is
	// (UsedAt, TokenID set) with an ECONFLICT error, and nothing is written.
	// ENOTFOUND for an unknown code.
	RedeemAuthorizationCode(ctx context.Context, h Hash, at time.Time, mint func(*AuthorizationCode) (*Token, error)) (*AuthorizationCode, *Token, error)

	// CreateUser stores u and sets u.ID; ECONFLICT (Field "username") if
	// the service has a user of that name.
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, serviceID int64, username string) (*User, error)
	// ListUsers returns up to limit users of a service with ids above
	// afterID, ordered by id.
	ListUsers(ctx context.Context, serviceID, afterID int64, limit int) ([]*User, error)
	UpdateUser(ctx context.Context, serviceID int64, username string, update func(*User) error) (*User, error)
	DeleteUser(ctx context.Context, serviceID int64, username string) error

	// The janitor's (janitor.go). Each call is one short transaction, so
	// that requests never wait long behind it.

	// SweepTokens deletes up to limit tokens of a service that are dead
	// before cutoff — revoked before it, or not persistent and expired
	// (Token.ExpiresAt) before it — with their retired refresh tokens, and
	// returns how many it deleted. A token stays while any token of its
	// grant (the records RevokeFilter.GrantID names) is not dead before
	// cutoff: reuse detection reaches the live ones through the retired
	// refresh tokens of the dead.
	SweepTokens(ctx context.Context, serviceID int64, cutoff time.Time, limit int) (int, error)
	// SweepAuthorizationCodes deletes up to limit authorization codes that
	// expired before cutoff and returns how many it deleted.
	SweepAuthorizationCodes(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// LockJanitor takes the lock that lets one janitor at a time work on
	// the store, among every process that shares it. ok is false, and
	// release nil, when another holds it; release gives it back.
	LockJanitor(ctx context.Context) (release func(), ok bool, err error)

	// AppendAudit stores audit entries that ride on no change of their own
	// (security events such as repeated authentication failures). Entries
	// outlive what they name: deleting a service keeps its entries.
	AppendAudit(ctx context.Context, entries ...AuditEntry) error
	// ListAudit returns up to f.Limit entries matching f, by id (newest
	// first unless f.Ascending), and whether more follow.
	ListAudit(ctx context.Context, f AuditFilter) (*AuditPage, error)
}

// ClientFilter selects a page of a service's clients.
type ClientFilter struct {
	ServiceID int64
	AfterID   int64
	Limit     int
}

// OrderKey is a column tokens can be listed by.
type OrderKey string

const (
	OrderCreatedAt       OrderKey = "created_at"
	OrderExpiresAt       OrderKey = "expires_at"
	OrderLastRefreshedAt OrderKey = "last_refreshed_at"
)

// Valid reports whether k is a known order key.
func (k OrderKey) Valid() bool {
	return k == OrderCreatedAt || k == OrderExpiresAt || k == OrderLastRefreshedAt
}

// NeverExpires is the order value of a persistent token's expiry: it sorts
// after every real time.
const NeverExpires = math.MaxInt64

// OrderValue is the value tokens are sorted by for key k, in milliseconds
// since the epoch: the record's overall expiry for expires_at (NeverExpires
// when persistent), 0 for a token never refreshed.
func (t *Token) OrderValue(k OrderKey) int64 {
	switch k {
	case OrderExpiresAt:
		if t.Persistent {
			return NeverExpires
		}
		return t.ExpiresAt().UnixMilli()
	case OrderLastRefreshedAt:
		if t.LastRefreshedAt.IsZero() {
			return 0
		}
		return t.LastRefreshedAt.UnixMilli()
	default:
		return t.CreatedAt.UnixMilli()
	}
}

// Cursor is the position after the last token of a page: its order value and
// id. Keyset paging from it is stable while tokens are added or removed.
type Cursor struct {
	Value int64
	ID    int64
}

// TokenFilter selects and orders tokens. Pointer fields are unset when nil.
type TokenFilter struct {
	ServiceID int64
	Subject   *string
	ClientID  *int64
	GrantType *GrantType
	Scope     *string // tokens whose scopes include this one
	AccountID *string
	Role      *string // tokens whose roles include this one
	Status    TokenStatus
	Now       time.Time // the instant Status is judged at

	CreatedAfter  time.Time // exclusive; zero: unset
	CreatedBefore time.Time // exclusive; zero: unset

	OrderBy OrderKey
	Desc    bool
	After   *Cursor // keyset paging: only tokens after this position
	Offset  int     // offset paging; not combined with After
	Limit   int     // at least 1

	// CountTotal asks for the number of matching tokens, ignoring paging.
	CountTotal bool
}

// TokenPage is one page of tokens.
type TokenPage struct {
	Tokens []*Token
	Total  int  // set when CountTotal was asked
	More   bool // more tokens follow the page
}

// RevokeFilter selects tokens of one service to revoke. Zero fields are
// unset; at least one of TokenID, GrantID, ClientID and Subject is set.
type RevokeFilter struct {
	ServiceID int64
	TokenID   int64
	GrantID   int64
	ClientID  int64
	Subject   *string
}
