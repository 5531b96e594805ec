package tokend

import (
	"encoding/json"
	"slices"
	"time"
)

// GrantType is how a token was obtained. Values are Authlete's spelling,
// which the native API uses too.
type GrantType string

const (
	GrantAuthorizationCode GrantType = "AUTHORIZATION_CODE"
	GrantImplicit          GrantType = "IMPLICIT"
	GrantPassword          GrantType = "PASSWORD"
	GrantClientCredentials GrantType = "CLIENT_CREDENTIALS"
	GrantRefreshToken      GrantType = "REFRESH_TOKEN"
	GrantCIBA              GrantType = "CIBA"
	GrantDeviceCode        GrantType = "DEVICE_CODE"
	GrantTokenExchange     GrantType = "TOKEN_EXCHANGE"
	GrantJWTBearer         GrantType = "JWT_BEARER"
	GrantPreAuthorizedCode GrantType = "PRE_AUTHORIZED_CODE"
)

// GrantTypes lists every grant type tokend knows, in a stable order.
var GrantTypes = []GrantType{
	GrantAuthorizationCode, GrantImplicit, GrantPassword, GrantClientCredentials,
	GrantRefreshToken, GrantCIBA, GrantDeviceCode, GrantTokenExchange,
	GrantJWTBearer, GrantPreAuthorizedCode,
}

// Valid reports whether g is a known grant type.
func (g GrantType) Valid() bool { return slices.Contains(GrantTypes, g) }

// HasSubject reports whether tokens of this grant act for an end user.
// Only client credentials act for the client itself.
func (g GrantType) HasSubject() bool { return g != GrantClientCredentials }

// HasRefreshToken reports whether the grant may come with a refresh token
// (RFC 6749 §4.2.2 and §4.4.3 forbid one for implicit and client credentials).
func (g GrantType) HasRefreshToken() bool {
	return g != GrantClientCredentials && g != GrantImplicit
}

// ClientType is RFC 6749 §2.1's client type.
type ClientType string

const (
	ClientConfidential ClientType = "CONFIDENTIAL"
	ClientPublic       ClientType = "PUBLIC"
)

// Valid reports whether t is a known client type.
func (t ClientType) Valid() bool { return t == ClientConfidential || t == ClientPublic }

// Hash is the SHA-256 digest of a secret. Stores keep these, never the secret.
type Hash [32]byte

// IsZero reports whether h is unset.
func (h Hash) IsZero() bool { return h == Hash{} }

// RefreshPolicy says what happens to a refresh token when it is used.
type RefreshPolicy struct {
	// Rotate issues a new refresh token on every use and retires the old one.
	Rotate bool `json:"rotate"`
	// ReuseGrace is how long a retired refresh token may be presented again
	// (a lost response) without being treated as reuse. Zero means never.
	ReuseGrace time.Duration `json:"-"`
	// KeepExpiry keeps the refresh token's original expiry across rotations
	// instead of starting a new lifetime on every refresh.
	KeepExpiry bool `json:"keep_expiry"`
}

// Service is one authorization-server tenant.
type Service struct {
	ID                  int64
	Name                string
	Description         string
	Issuer              string // the configured issuer; empty means derived from the deployment's base URL
	AccessTokenTTL      time.Duration
	RefreshTokenTTL     time.Duration
	ScopesSupported     []string
	GrantTypesSupported []GrantType
	RefreshPolicy       RefreshPolicy
	// PasswordCallbackURL, when set, is where the password grant asks the
	// host application to check a user; otherwise the built-in users table.
	PasswordCallbackURL string
	// AllowPlainPKCE lets codes use the "plain" PKCE method; S256 otherwise.
	AllowPlainPKCE bool
	// TimeZone is the IANA name of the zone dialects that show local
	// dates (Kustvakt) use for this service; "" means UTC.
	TimeZone  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SupportsScope reports whether scope may appear in this service's tokens.
func (s *Service) SupportsScope(scope string) bool {
	return slices.Contains(s.ScopesSupported, scope)
}

// SupportsGrant reports whether the service accepts grant g.
func (s *Service) SupportsGrant(g GrantType) bool {
	return slices.Contains(s.GrantTypesSupported, g)
}

// Client is an OAuth client registered with a service.
type Client struct {
	ID           int64  // numeric, unique in the deployment (Authlete's clientId)
	ServiceID    int64  //
	ClientID     string // the OAuth wire identifier (Authlete's clientIdAlias)
	Name         string
	Description  string
	URL          string
	Developer    string
	Type         ClientType
	GrantTypes   []GrantType
	Scopes       []string // the scopes this client may be granted
	RedirectURIs []string
	FirstParty   bool // a trusted "super" client of the service itself
	SecretHash   Hash // zero for public clients
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// AllowsGrant reports whether the client may use grant g.
func (c *Client) AllowsGrant(g GrantType) bool { return slices.Contains(c.GrantTypes, g) }

// AllowsScope reports whether the client may be granted scope.
func (c *Client) AllowsScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// Permission names an action a management key may take.
type Permission string

const (
	PermAll              Permission = "*"
	PermTokensRead       Permission = "tokens.read"
	PermTokensWrite      Permission = "tokens.write"
	PermTokensIntrospect Permission = "tokens.introspect"
	PermClientsRead      Permission = "clients.read"
	PermClientsWrite     Permission = "clients.write"
	PermServicesRead     Permission = "services.read"
	PermServicesWrite    Permission = "services.write"
	PermKeysRead         Permission = "keys.read"
	PermKeysWrite        Permission = "keys.write"
	PermUsersRead        Permission = "users.read"
	PermUsersWrite       Permission = "users.write"
	// PermAuditRead lets a key read the audit log (audit.go): an
	// organization key every tenant's, a service key its service's.
	PermAuditRead Permission = "audit.read"
)

// Permissions lists every permission a key can carry.
var Permissions = []Permission{
	PermAll, PermTokensRead, PermTokensWrite, PermTokensIntrospect,
	PermClientsRead, PermClientsWrite, PermServicesRead, PermServicesWrite,
	PermKeysRead, PermKeysWrite, PermUsersRead, PermUsersWrite, PermAuditRead,
}

// Key is a management credential. A key with ServiceID 0 belongs to the
// organization and reaches every service.
type Key struct {
	ID          int64
	ServiceID   int64 // 0 for an organization key
	Name        string
	Permissions []Permission
	Hash        Hash
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never
}

// Has reports whether the key carries permission p (or every permission).
func (k *Key) Has(p Permission) bool {
	return slices.Contains(k.Permissions, PermAll) || slices.Contains(k.Permissions, p)
}

// Property is an extra key/value pair attached to a token, as in Authlete.
// Hidden properties are not shown to clients (token and introspection
// responses); management calls see them.
type Property struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Hidden bool   `json:"hidden,omitempty"`
}

// Token is the record of one access token and, where the grant has one, its
// refresh token. Refresh rotation updates the record in place; the record's
// family is identified by GrantID.
type Token struct {
	ID                   int64
	ServiceID            int64
	ClientID             int64 // the client's numeric id
	Subject              string
	GrantType            GrantType
	AccessHash           Hash
	RefreshHash          Hash // zero when the token has no refresh token
	Scopes               []string
	RefreshScopes        []string // nil: the same as Scopes
	CreatedAt            time.Time
	AccessExpiresAt      time.Time // zero when Persistent
	RefreshExpiresAt     time.Time // zero when there is no refresh token
	LastRefreshedAt      time.Time // zero: never refreshed
	RevokedAt            time.Time // zero: not revoked
	RevokedReason        string
	Properties           []Property
	AccountID            string
	Roles                []string
	AuthTime             time.Time // when the end user authenticated; zero if unknown
	ACR                  string
	SessionID            string
	Resources            []string
	CertThumbprint       string // RFC 8705 x5t#S256
	DPoPThumbprint       string // RFC 9449 jkt
	AuthorizationDetails json.RawMessage
	Persistent           bool  // the access token never expires
	GrantID              int64 // the family; equal to ID for a token that started one

	// Minted is never stored: the writer of a token sets it when every hash
	// the write gives the token anew is of a value just generated from 256
	// random bits (the core's own tokens, the bench's seeded ones), which no
	// other token can hold. A store may then skip looking for a token that
	// holds it, in CreateToken, UpdateToken and ImportTokens: the ECONFLICT
	// contract exists for values callers supply, as in a migration.
	Minted bool
}

// HasRefresh reports whether the token has a refresh token.
func (t *Token) HasRefresh() bool { return !t.RefreshHash.IsZero() }

// AccessActive reports whether the access token can be used at now.
func (t *Token) AccessActive(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.Persistent || now.Before(t.AccessExpiresAt))
}

// RefreshActive reports whether the refresh token can be used at now.
func (t *Token) RefreshActive(now time.Time) bool {
	return t.RevokedAt.IsZero() && t.HasRefresh() && now.Before(t.RefreshExpiresAt)
}

// ExpiresAt is when the whole record stops being usable: the later of its two
// expiries. Zero for a persistent token.
func (t *Token) ExpiresAt() time.Time {
	if t.Persistent {
		return time.Time{}
	}
	if t.RefreshExpiresAt.After(t.AccessExpiresAt) {
		return t.RefreshExpiresAt
	}
	return t.AccessExpiresAt
}

// Status says whether the token is usable at now.
func (t *Token) Status(now time.Time) TokenStatus {
	switch {
	case !t.RevokedAt.IsZero():
		return StatusRevoked
	case t.AccessActive(now) || t.RefreshActive(now):
		return StatusActive
	default:
		return StatusExpired
	}
}

// EffectiveRefreshScopes returns the scopes the refresh token may request.
func (t *Token) EffectiveRefreshScopes() []string {
	if t.RefreshScopes != nil {
		return t.RefreshScopes
	}
	return t.Scopes
}

// RetiredRefresh remembers a refresh token that rotation replaced, so that
// presenting it again is recognised as reuse (or, within the service's
// grace period, as a retry after a lost response).
type RetiredRefresh struct {
	Hash      Hash
	TokenID   int64
	RetiredAt time.Time
	// Successor is the sealed successor token pair for the grace period
	// (see seal.go); nil when the service has no grace period.
	Successor []byte
}

// TokenStatus filters tokens by state.
type TokenStatus string

const (
	StatusActive  TokenStatus = "active"
	StatusExpired TokenStatus = "expired"
	StatusRevoked TokenStatus = "revoked"
	StatusAll     TokenStatus = "all"
	// StatusNotRevoked is active and expired tokens together: what a
	// dialect in which revocation removes a token (Authlete) calls "all".
	StatusNotRevoked TokenStatus = "not_revoked"
)

// ClientGrant is a client that holds live tokens for a subject: an entry of
// the subject's "connected apps".
type ClientGrant struct {
	Client      *Client
	Scopes      []string // the union of the scopes of the live tokens
	FirstIssued time.Time
	LastIssued  time.Time
	TokenCount  int
}
