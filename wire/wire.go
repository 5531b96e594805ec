// Package wire holds the JSON shapes of tokend's native management API
// (/v1). The server (package api) and the Go client (package client) both
// use them, so the two cannot drift. Conventions: snake_case names; times
// in RFC 3339 UTC with milliseconds; durations in whole seconds; a nil
// pointer in a request means "leave unchanged" (PATCH) or "default" (POST).
package wire

import (
	"encoding/json"
	"time"
)

// Error is the body of every error response.
type Error struct {
	Error   string `json:"error"`           // a domain code: invalid, invalid_grant, unsupported, unauthorized, forbidden, not_found, conflict, unavailable, internal
	Message string `json:"message"`         // for people; names the field at fault
	Field   string `json:"field,omitempty"` // the request field at fault, when there is one
}

// RefreshPolicy is a service's refresh-token policy.
type RefreshPolicy struct {
	Rotate     *bool  `json:"rotate,omitempty"`
	ReuseGrace *int64 `json:"reuse_grace,omitempty"` // seconds a rotated refresh token may be replayed (lost response)
	KeepExpiry *bool  `json:"keep_expiry,omitempty"`
}

// Service is a tenant as the API shows it.
type Service struct {
	ID                  int64         `json:"id"`
	Name                string        `json:"name"`
	Description         string        `json:"description"`
	Issuer              string        `json:"issuer"`
	AccessTokenTTL      int64         `json:"access_token_ttl"`
	RefreshTokenTTL     int64         `json:"refresh_token_ttl"`
	ScopesSupported     []string      `json:"scopes_supported"`
	GrantTypesSupported []string      `json:"grant_types_supported"`
	RefreshTokenPolicy  RefreshPolicy `json:"refresh_token_policy"`
	// PasswordCallbackURL is where the password grant asks the host
	// application to check a user; "" means the built-in users table.
	PasswordCallbackURL string `json:"password_callback_url"`
	AllowPlainPKCE      bool   `json:"allow_plain_pkce"` // codes may use PKCE "plain"; S256 otherwise
	// TimeZone is the IANA zone the Kustvakt dialect shows this service's
	// dates in; "" means UTC.
	TimeZone string `json:"time_zone"`
	// The OAuth endpoints clients of this service talk to. They live under
	// the deployment's base URL even when the issuer is a custom one.
	TokenEndpoint         string `json:"token_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	// DiscoveryURL is where the issuer's RFC 8414 metadata is found: the
	// well-known path inserted between the issuer's host and its path (§3).
	DiscoveryURL string    `json:"discovery_url"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ServiceInput is the body of POST /v1/services and PATCH /v1/services/{sid}.
type ServiceInput struct {
	Name                *string        `json:"name,omitempty"`
	Description         *string        `json:"description,omitempty"`
	Issuer              *string        `json:"issuer,omitempty"` // "" resets to the derived issuer
	AccessTokenTTL      *int64         `json:"access_token_ttl,omitempty"`
	RefreshTokenTTL     *int64         `json:"refresh_token_ttl,omitempty"`
	ScopesSupported     *[]string      `json:"scopes_supported,omitempty"`
	GrantTypesSupported *[]string      `json:"grant_types_supported,omitempty"`
	RefreshTokenPolicy  *RefreshPolicy `json:"refresh_token_policy,omitempty"`
	PasswordCallbackURL *string        `json:"password_callback_url,omitempty"` // "" switches back to the built-in users table
	AllowPlainPKCE      *bool          `json:"allow_plain_pkce,omitempty"`
	TimeZone            *string        `json:"time_zone,omitempty"` // IANA zone name; "" switches back to UTC
}

// ServiceList is the body of GET /v1/services.
type ServiceList struct {
	Services []Service `json:"services"`
}

// Client is an OAuth client as the API shows it. ClientSecret is set only in
// the responses that create it (create, rotate): it is shown once.
type Client struct {
	ID           int64     `json:"id"`
	ServiceID    int64     `json:"service_id"`
	ClientID     string    `json:"client_id"`
	ClientSecret string    `json:"client_secret,omitempty"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	URL          string    `json:"url"`
	Developer    string    `json:"developer"`
	Type         string    `json:"type"`
	GrantTypes   []string  `json:"grant_types"`
	Scopes       []string  `json:"scopes"`
	RedirectURIs []string  `json:"redirect_uris"`
	FirstParty   bool      `json:"first_party"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ClientInput is the body of POST and PATCH on clients.
type ClientInput struct {
	ClientID     *string   `json:"client_id,omitempty"` // create only
	Name         *string   `json:"name,omitempty"`
	Description  *string   `json:"description,omitempty"`
	URL          *string   `json:"url,omitempty"`
	Developer    *string   `json:"developer,omitempty"`
	Type         *string   `json:"type,omitempty"`
	GrantTypes   *[]string `json:"grant_types,omitempty"`
	Scopes       *[]string `json:"scopes,omitempty"`
	RedirectURIs *[]string `json:"redirect_uris,omitempty"`
	FirstParty   *bool     `json:"first_party,omitempty"`
}

// ClientList is the body of GET /v1/services/{sid}/clients.
type ClientList struct {
	Clients       []Client `json:"clients"`
	NextPageToken string   `json:"next_page_token,omitempty"`
}

// Key is a management key as the API shows it. Key (the raw value) is set
// only in the create response.
type Key struct {
	ID          int64      `json:"id"`
	ServiceID   *int64     `json:"service_id"` // null for organization keys
	Name        string     `json:"name"`
	Permissions []string   `json:"permissions"`
	Key         string     `json:"key,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
}

// KeyInput is the body of POST /v1/keys and POST /v1/services/{sid}/keys.
type KeyInput struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	TTL         int64    `json:"ttl,omitempty"` // seconds; 0: never expires
}

// KeyList is the body of the key listings.
type KeyList struct {
	Keys []Key `json:"keys"`
}

// Property is a token's extra key/value pair.
type Property struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Hidden bool   `json:"hidden,omitempty"`
}

// Token is a token record as the API shows it: hashes, never values.
// AccessToken and RefreshToken are set only in responses that mint them.
type Token struct {
	ID                    int64           `json:"id"`
	ServiceID             int64           `json:"service_id"`
	Client                int64           `json:"client"` // the client's numeric id
	Subject               string          `json:"subject,omitempty"`
	GrantType             string          `json:"grant_type"`
	Status                string          `json:"status"` // active, expired or revoked
	AccessTokenHash       string          `json:"access_token_hash"`
	RefreshTokenHash      string          `json:"refresh_token_hash,omitempty"`
	AccessToken           string          `json:"access_token,omitempty"`
	RefreshToken          string          `json:"refresh_token,omitempty"`
	TokenType             string          `json:"token_type"` // Bearer or DPoP
	Scopes                []string        `json:"scopes"`
	RefreshScopes         []string        `json:"refresh_scopes,omitempty"`
	CreatedAt             time.Time       `json:"created_at"`
	ExpiresAt             *time.Time      `json:"expires_at"` // the access token's expiry; null when persistent
	ExpiresIn             *int64          `json:"expires_in,omitempty"`
	RefreshTokenExpiresAt *time.Time      `json:"refresh_token_expires_at,omitempty"`
	LastRefreshedAt       *time.Time      `json:"last_refreshed_at,omitempty"`
	RevokedAt             *time.Time      `json:"revoked_at,omitempty"`
	RevokedReason         string          `json:"revoked_reason,omitempty"`
	Persistent            bool            `json:"persistent"`
	Properties            []Property      `json:"properties,omitempty"`
	AccountID             string          `json:"account_id,omitempty"`
	Roles                 []string        `json:"roles,omitempty"`
	AuthTime              *time.Time      `json:"auth_time,omitempty"`
	ACR                   string          `json:"acr,omitempty"`
	SessionID             string          `json:"session_id,omitempty"`
	Resources             []string        `json:"resources,omitempty"`
	CertThumbprint        string          `json:"certificate_thumbprint,omitempty"`
	DPoPKeyThumbprint     string          `json:"dpop_key_thumbprint,omitempty"`
	AuthorizationDetails  json.RawMessage `json:"authorization_details,omitempty"`
	GrantID               int64           `json:"grant_id"`
}

// TokenInput is the body of POST /v1/services/{sid}/tokens.
type TokenInput struct {
	Client               string          `json:"client"` // numeric id or client_id
	GrantType            string          `json:"grant_type"`
	Subject              string          `json:"subject,omitempty"`
	Scopes               []string        `json:"scopes,omitempty"`
	RefreshScopes        []string        `json:"refresh_scopes,omitempty"`
	AccessToken          string          `json:"access_token,omitempty"`  // caller-supplied value (migration)
	RefreshToken         string          `json:"refresh_token,omitempty"` // caller-supplied value (migration)
	AccessTokenTTL       int64           `json:"access_token_ttl,omitempty"`
	RefreshTokenTTL      int64           `json:"refresh_token_ttl,omitempty"`
	Persistent           bool            `json:"persistent,omitempty"`
	NoRefreshToken       bool            `json:"no_refresh_token,omitempty"`
	Properties           []Property      `json:"properties,omitempty"`
	AccountID            string          `json:"account_id,omitempty"`
	Roles                []string        `json:"roles,omitempty"`
	AuthTime             *time.Time      `json:"auth_time,omitempty"`
	ACR                  string          `json:"acr,omitempty"`
	SessionID            string          `json:"session_id,omitempty"`
	Resources            []string        `json:"resources,omitempty"`
	CertThumbprint       string          `json:"certificate_thumbprint,omitempty"`
	DPoPKeyThumbprint    string          `json:"dpop_key_thumbprint,omitempty"`
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

// TokenUpdate is the body of PATCH /v1/services/{sid}/tokens/{id}.
type TokenUpdate struct {
	Scopes                *[]string        `json:"scopes,omitempty"`
	RefreshScopes         *[]string        `json:"refresh_scopes,omitempty"`
	ExpiresAt             *time.Time       `json:"expires_at,omitempty"`
	RefreshTokenExpiresAt *time.Time       `json:"refresh_token_expires_at,omitempty"`
	Persistent            *bool            `json:"persistent,omitempty"`
	Properties            *[]Property      `json:"properties,omitempty"`
	AccountID             *string          `json:"account_id,omitempty"`
	Roles                 *[]string        `json:"roles,omitempty"`
	Resources             *[]string        `json:"resources,omitempty"`
	CertThumbprint        *string          `json:"certificate_thumbprint,omitempty"`
	DPoPKeyThumbprint     *string          `json:"dpop_key_thumbprint,omitempty"`
	AuthorizationDetails  *json.RawMessage `json:"authorization_details,omitempty"`
	NewAccessToken        bool             `json:"new_access_token,omitempty"`
}

// TokenList is the body of GET /v1/services/{sid}/tokens.
type TokenList struct {
	Tokens        []Token `json:"tokens"`
	TotalCount    int     `json:"total_count"`
	NextPageToken string  `json:"next_page_token,omitempty"`
}

// TokenLookup is the body of POST /v1/services/{sid}/tokens/lookup: a
// token's value or hash travels in a body, never in a URL.
type TokenLookup struct {
	Token string `json:"token,omitempty"`
	Hash  string `json:"hash,omitempty"`
}

// RevokeRequest is the body of POST /v1/services/{sid}/tokens/revoke.
// Name one token (id, token or hash) or a client and/or a subject.
type RevokeRequest struct {
	ID      int64   `json:"id,omitempty"`
	Token   string  `json:"token,omitempty"`
	Hash    string  `json:"hash,omitempty"`
	Client  string  `json:"client,omitempty"`
	Subject *string `json:"subject,omitempty"`
	Reason  string  `json:"reason,omitempty"`
}

// RevokeReason is the optional body of POST
// /v1/services/{sid}/tokens/{id}/revoke.
type RevokeReason struct {
	Reason string `json:"reason,omitempty"` // kept with the token for audit
}

// RevokeResult tells how many tokens a revocation reached.
type RevokeResult struct {
	Count int `json:"count"`
}

// Grant is one app connected to a subject's account.
type Grant struct {
	Client        Client    `json:"client"`
	Scopes        []string  `json:"scopes"`
	FirstIssuedAt time.Time `json:"first_issued_at"`
	LastIssuedAt  time.Time `json:"last_issued_at"`
	TokenCount    int       `json:"token_count"`
}

// GrantList is the body of GET /v1/services/{sid}/subjects/{subject}/grants.
type GrantList struct {
	Subject string  `json:"subject"`
	Grants  []Grant `json:"grants"`
}

// CodeInput is the body of POST /v1/services/{sid}/authorization-codes: a
// host application that authenticated the user (and got consent) asks for
// a one-time code to send to redirect_uri.
type CodeInput struct {
	Client               string          `json:"client"` // numeric id or client_id
	Subject              string          `json:"subject"`
	Scopes               []string        `json:"scopes,omitempty"`
	RedirectURI          string          `json:"redirect_uri"` // one of the client's registered redirect_uris
	CodeChallenge        string          `json:"code_challenge,omitempty"`
	CodeChallengeMethod  string          `json:"code_challenge_method,omitempty"` // S256 (default) or plain
	AccountID            string          `json:"account_id,omitempty"`
	Roles                []string        `json:"roles,omitempty"`
	AuthTime             *time.Time      `json:"auth_time,omitempty"`
	ACR                  string          `json:"acr,omitempty"`
	SessionID            string          `json:"session_id,omitempty"`
	Resources            []string        `json:"resources,omitempty"`
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

// Code is a minted authorization code. Its value appears only in this
// response: the store keeps its hash.
type Code struct {
	Code        string    `json:"code"`
	ExpiresAt   time.Time `json:"expires_at"`
	ExpiresIn   int64     `json:"expires_in"` // seconds
	Client      int64     `json:"client"`     // the client's numeric id
	Subject     string    `json:"subject"`
	Scopes      []string  `json:"scopes"`
	RedirectURI string    `json:"redirect_uri"`
}

// User is an entry of a service's built-in users table. Neither the
// password nor its hash is ever shown.
type User struct {
	ID        int64     `json:"id"`
	ServiceID int64     `json:"service_id"`
	Username  string    `json:"username"` // also the subject of the user's tokens
	AccountID string    `json:"account_id"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// UserInput is the body of POST and PATCH on users.
type UserInput struct {
	Username  string    `json:"username,omitempty"` // create only
	Password  *string   `json:"password,omitempty"` // required on create
	AccountID *string   `json:"account_id,omitempty"`
	Roles     *[]string `json:"roles,omitempty"`
}

// UserList is the body of GET /v1/services/{sid}/users.
type UserList struct {
	Users         []User `json:"users"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// Health is the body of GET /healthz.
type Health struct {
	Status string `json:"status"`
}
