package transfer

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tokend/tokend"
)

// The file format, one JSON object a line:
//
//	{"type":"header","format":"tokend-export","version":1,"exported_at":"…"}
//	{"type":"service","service":{…}}     every record, parents first
//	…
//	{"type":"end","counts":{"services":1,…}}
//
// Hashes are lowercase hex, times RFC 3339 in UTC (omitted when unset),
// durations integer nanoseconds, other bytes standard base64. Authorization
// details are a string holding the JSON exactly as it was stored.

const (
	formatName    = "tokend-export"
	formatVersion = 1
)

type line struct {
	Type       string               `json:"type"`
	Format     string               `json:"format,omitempty"`
	Version    int                  `json:"version,omitempty"`
	ExportedAt time.Time            `json:"exported_at,omitzero"`
	Counts     *tokend.RecordCounts `json:"counts,omitempty"`
	Service    *service             `json:"service,omitempty"`
	Key        *key                 `json:"key,omitempty"`
	Client     *client              `json:"client,omitempty"`
	User       *user                `json:"user,omitempty"`
	Token      *token               `json:"token,omitempty"`
	Retired    *retired             `json:"retired_refresh_token,omitempty"`
	Code       *code                `json:"authorization_code,omitempty"`
	Audit      *auditEntry          `json:"audit_entry,omitempty"`
}

// hash is a Hash as hex; the zero hash (unset) is "".
type hash string

func hashOut(h tokend.Hash) hash {
	if h.IsZero() {
		return ""
	}
	return hash(hex.EncodeToString(h[:]))
}

func (h hash) in(field string) (tokend.Hash, error) {
	var out tokend.Hash
	if h == "" {
		return out, nil
	}
	b, err := hex.DecodeString(string(h))
	if err != nil || len(b) != len(out) {
		return out, fmt.Errorf("%s: not a hex SHA-256 hash", field)
	}
	copy(out[:], b)
	return out, nil
}

// list makes an always-present list non-nil, so that it is written as [].
func list[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

type service struct {
	ID                  int64     `json:"id"`
	Name                string    `json:"name,omitempty"`
	Description         string    `json:"description,omitempty"`
	Issuer              string    `json:"issuer,omitempty"`
	AccessTokenTTL      int64     `json:"access_token_ttl_ns"`
	RefreshTokenTTL     int64     `json:"refresh_token_ttl_ns"`
	ScopesSupported     []string  `json:"scopes_supported"`
	GrantTypesSupported []string  `json:"grant_types_supported"`
	RotateRefresh       bool      `json:"rotate_refresh_tokens"`
	ReuseGrace          int64     `json:"refresh_reuse_grace_ns"`
	KeepRefreshExpiry   bool      `json:"keep_refresh_expiry"`
	PasswordCallbackURL string    `json:"password_callback_url,omitempty"`
	AllowPlainPKCE      bool      `json:"allow_plain_pkce"`
	TimeZone            string    `json:"time_zone,omitempty"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

func serviceOut(s *tokend.Service) *service {
	return &service{
		ID: s.ID, Name: s.Name, Description: s.Description, Issuer: s.Issuer,
		AccessTokenTTL: int64(s.AccessTokenTTL), RefreshTokenTTL: int64(s.RefreshTokenTTL),
		ScopesSupported: list(s.ScopesSupported), GrantTypesSupported: names(s.GrantTypesSupported),
		RotateRefresh: s.RefreshPolicy.Rotate, ReuseGrace: int64(s.RefreshPolicy.ReuseGrace), KeepRefreshExpiry: s.RefreshPolicy.KeepExpiry,
		PasswordCallbackURL: s.PasswordCallbackURL, AllowPlainPKCE: s.AllowPlainPKCE, TimeZone: s.TimeZone,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

func (s *service) in() (*tokend.Service, error) {
	return &tokend.Service{
		ID: s.ID, Name: s.Name, Description: s.Description, Issuer: s.Issuer,
		AccessTokenTTL: time.Duration(s.AccessTokenTTL), RefreshTokenTTL: time.Duration(s.RefreshTokenTTL),
		ScopesSupported: list(s.ScopesSupported), GrantTypesSupported: typed[tokend.GrantType](s.GrantTypesSupported),
		RefreshPolicy:       tokend.RefreshPolicy{Rotate: s.RotateRefresh, ReuseGrace: time.Duration(s.ReuseGrace), KeepExpiry: s.KeepRefreshExpiry},
		PasswordCallbackURL: s.PasswordCallbackURL, AllowPlainPKCE: s.AllowPlainPKCE, TimeZone: s.TimeZone,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}, nil
}

func names[T ~string](l []T) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = string(v)
	}
	return out
}

func typed[T ~string](l []string) []T {
	out := make([]T, len(l))
	for i, v := range l {
		out[i] = T(v)
	}
	return out
}

type key struct {
	ID          int64     `json:"id"`
	ServiceID   int64     `json:"service_id,omitempty"` // absent: an organization key
	Name        string    `json:"name,omitempty"`
	Permissions []string  `json:"permissions"`
	Hash        hash      `json:"hash"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
}

func keyOut(k *tokend.Key) *key {
	return &key{ID: k.ID, ServiceID: k.ServiceID, Name: k.Name, Permissions: names(k.Permissions),
		Hash: hashOut(k.Hash), CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt}
}

func (k *key) in() (*tokend.Key, error) {
	h, err := k.Hash.in("hash")
	if err != nil {
		return nil, err
	}
	if h.IsZero() {
		return nil, fmt.Errorf("hash: is required")
	}
	return &tokend.Key{ID: k.ID, ServiceID: k.ServiceID, Name: k.Name, Permissions: typed[tokend.Permission](k.Permissions),
		Hash: h, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt}, nil
}

type client struct {
	ID           int64     `json:"id"`
	ServiceID    int64     `json:"service_id"`
	ClientID     string    `json:"client_id"`
	Name         string    `json:"name,omitempty"`
	Description  string    `json:"description,omitempty"`
	URL          string    `json:"url,omitempty"`
	Developer    string    `json:"developer,omitempty"`
	Type         string    `json:"type"`
	GrantTypes   []string  `json:"grant_types"`
	Scopes       []string  `json:"scopes"`
	RedirectURIs []string  `json:"redirect_uris"`
	FirstParty   bool      `json:"first_party"`
	SecretHash   hash      `json:"secret_hash,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func clientOut(c *tokend.Client) *client {
	return &client{ID: c.ID, ServiceID: c.ServiceID, ClientID: c.ClientID, Name: c.Name, Description: c.Description,
		URL: c.URL, Developer: c.Developer, Type: string(c.Type), GrantTypes: names(c.GrantTypes), Scopes: list(c.Scopes),
		RedirectURIs: list(c.RedirectURIs), FirstParty: c.FirstParty, SecretHash: hashOut(c.SecretHash),
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (c *client) in() (*tokend.Client, error) {
	h, err := c.SecretHash.in("secret_hash")
	if err != nil {
		return nil, err
	}
	return &tokend.Client{ID: c.ID, ServiceID: c.ServiceID, ClientID: c.ClientID, Name: c.Name, Description: c.Description,
		URL: c.URL, Developer: c.Developer, Type: tokend.ClientType(c.Type), GrantTypes: typed[tokend.GrantType](c.GrantTypes),
		Scopes: list(c.Scopes), RedirectURIs: list(c.RedirectURIs), FirstParty: c.FirstParty, SecretHash: h,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}, nil
}

type user struct {
	ID           int64     `json:"id"`
	ServiceID    int64     `json:"service_id"`
	Username     string    `json:"username"`
	PasswordHash string    `json:"password_hash,omitempty"` // a PHC string, never a password
	AccountID    string    `json:"account_id,omitempty"`
	Roles        []string  `json:"roles,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func userOut(u *tokend.User) *user {
	return &user{ID: u.ID, ServiceID: u.ServiceID, Username: u.Username, PasswordHash: u.PasswordHash,
		AccountID: u.AccountID, Roles: u.Roles, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func (u *user) in() (*tokend.User, error) {
	return &tokend.User{ID: u.ID, ServiceID: u.ServiceID, Username: u.Username, PasswordHash: u.PasswordHash,
		AccountID: u.AccountID, Roles: u.Roles, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}, nil
}

type token struct {
	ID                   int64             `json:"id"`
	ServiceID            int64             `json:"service_id"`
	ClientID             int64             `json:"client_id"`
	GrantID              int64             `json:"grant_id"`
	Subject              string            `json:"subject,omitempty"`
	GrantType            string            `json:"grant_type"`
	AccessHash           hash              `json:"access_token_hash"`
	RefreshHash          hash              `json:"refresh_token_hash,omitempty"`
	Scopes               []string          `json:"scopes"`
	RefreshScopes        *[]string         `json:"refresh_scopes,omitempty"` // absent: the same as scopes
	CreatedAt            time.Time         `json:"created_at"`
	AccessExpiresAt      time.Time         `json:"access_token_expires_at,omitzero"`
	RefreshExpiresAt     time.Time         `json:"refresh_token_expires_at,omitzero"`
	Persistent           bool              `json:"persistent,omitempty"`
	LastRefreshedAt      time.Time         `json:"last_refreshed_at,omitzero"`
	RevokedAt            time.Time         `json:"revoked_at,omitzero"`
	RevokedReason        string            `json:"revoked_reason,omitempty"`
	Properties           []tokend.Property `json:"properties,omitempty"`
	AccountID            string            `json:"account_id,omitempty"`
	Roles                []string          `json:"roles,omitempty"`
	AuthTime             time.Time         `json:"auth_time,omitzero"`
	ACR                  string            `json:"acr,omitempty"`
	SessionID            string            `json:"session_id,omitempty"`
	Resources            []string          `json:"resources,omitempty"`
	CertThumbprint       string            `json:"cert_thumbprint,omitempty"`
	DPoPThumbprint       string            `json:"dpop_thumbprint,omitempty"`
	AuthorizationDetails string            `json:"authorization_details,omitempty"`
}

func tokenOut(t *tokend.Token) *token {
	out := &token{ID: t.ID, ServiceID: t.ServiceID, ClientID: t.ClientID, GrantID: t.GrantID, Subject: t.Subject,
		GrantType: string(t.GrantType), AccessHash: hashOut(t.AccessHash), RefreshHash: hashOut(t.RefreshHash),
		Scopes: list(t.Scopes), CreatedAt: t.CreatedAt, AccessExpiresAt: t.AccessExpiresAt, RefreshExpiresAt: t.RefreshExpiresAt,
		Persistent: t.Persistent, LastRefreshedAt: t.LastRefreshedAt, RevokedAt: t.RevokedAt, RevokedReason: t.RevokedReason,
		Properties: t.Properties, AccountID: t.AccountID, Roles: t.Roles, AuthTime: t.AuthTime, ACR: t.ACR,
		SessionID: t.SessionID, Resources: t.Resources, CertThumbprint: t.CertThumbprint, DPoPThumbprint: t.DPoPThumbprint,
		AuthorizationDetails: string(t.AuthorizationDetails)}
	if t.RefreshScopes != nil {
		rs := list(t.RefreshScopes)
		out.RefreshScopes = &rs
	}
	return out
}

func (t *token) in() (*tokend.Token, error) {
	access, err := t.AccessHash.in("access_token_hash")
	if err != nil {
		return nil, err
	}
	refresh, err := t.RefreshHash.in("refresh_token_hash")
	if err != nil {
		return nil, err
	}
	out := &tokend.Token{ID: t.ID, ServiceID: t.ServiceID, ClientID: t.ClientID, GrantID: t.GrantID, Subject: t.Subject,
		GrantType: tokend.GrantType(t.GrantType), AccessHash: access, RefreshHash: refresh, Scopes: list(t.Scopes),
		CreatedAt: t.CreatedAt, AccessExpiresAt: t.AccessExpiresAt, RefreshExpiresAt: t.RefreshExpiresAt,
		Persistent: t.Persistent, LastRefreshedAt: t.LastRefreshedAt, RevokedAt: t.RevokedAt, RevokedReason: t.RevokedReason,
		Properties: t.Properties, AccountID: t.AccountID, Roles: t.Roles, AuthTime: t.AuthTime, ACR: t.ACR,
		SessionID: t.SessionID, Resources: t.Resources, CertThumbprint: t.CertThumbprint, DPoPThumbprint: t.DPoPThumbprint}
	if t.RefreshScopes != nil {
		out.RefreshScopes = list(*t.RefreshScopes)
	}
	if t.AuthorizationDetails != "" {
		out.AuthorizationDetails = []byte(t.AuthorizationDetails)
	}
	return out, nil
}

type retired struct {
	Hash      hash      `json:"hash"`
	TokenID   int64     `json:"token_id"`
	RetiredAt time.Time `json:"retired_at"`
	Successor string    `json:"successor,omitempty"` // base64 of the sealed successor
}

func retiredOut(r *tokend.RetiredRefresh) *retired {
	return &retired{Hash: hashOut(r.Hash), TokenID: r.TokenID, RetiredAt: r.RetiredAt,
		Successor: base64.StdEncoding.EncodeToString(r.Successor)}
}

func (r *retired) in() (*tokend.RetiredRefresh, error) {
	h, err := r.Hash.in("hash")
	if err != nil {
		return nil, err
	}
	out := &tokend.RetiredRefresh{Hash: h, TokenID: r.TokenID, RetiredAt: r.RetiredAt}
	if r.Successor != "" {
		if out.Successor, err = base64.StdEncoding.DecodeString(r.Successor); err != nil {
			return nil, fmt.Errorf("successor: not base64")
		}
	}
	return out, nil
}

type code struct {
	Hash                 hash      `json:"hash"`
	ServiceID            int64     `json:"service_id"`
	ClientID             int64     `json:"client_id"`
	Subject              string    `json:"subject,omitempty"`
	Scopes               []string  `json:"scopes"`
	RedirectURI          string    `json:"redirect_uri,omitempty"`
	CodeChallenge        string    `json:"code_challenge,omitempty"`
	CodeChallengeMethod  string    `json:"code_challenge_method,omitempty"`
	AccountID            string    `json:"account_id,omitempty"`
	Roles                []string  `json:"roles,omitempty"`
	AuthTime             time.Time `json:"auth_time,omitzero"`
	ACR                  string    `json:"acr,omitempty"`
	SessionID            string    `json:"session_id,omitempty"`
	Resources            []string  `json:"resources,omitempty"`
	AuthorizationDetails string    `json:"authorization_details,omitempty"`
	CreatedAt            time.Time `json:"created_at"`
	ExpiresAt            time.Time `json:"expires_at"`
	UsedAt               time.Time `json:"used_at,omitzero"`
	TokenID              int64     `json:"token_id,omitempty"`
}

func codeOut(c *tokend.AuthorizationCode) *code {
	return &code{Hash: hashOut(c.Hash), ServiceID: c.ServiceID, ClientID: c.ClientID, Subject: c.Subject,
		Scopes: list(c.Scopes), RedirectURI: c.RedirectURI, CodeChallenge: c.CodeChallenge,
		CodeChallengeMethod: c.CodeChallengeMethod, AccountID: c.AccountID, Roles: c.Roles, AuthTime: c.AuthTime,
		ACR: c.ACR, SessionID: c.SessionID, Resources: c.Resources, AuthorizationDetails: string(c.AuthorizationDetails),
		CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt, UsedAt: c.UsedAt, TokenID: c.TokenID}
}

func (c *code) in() (*tokend.AuthorizationCode, error) {
	h, err := c.Hash.in("hash")
	if err != nil {
		return nil, err
	}
	out := &tokend.AuthorizationCode{Hash: h, ServiceID: c.ServiceID, ClientID: c.ClientID, Subject: c.Subject,
		Scopes: list(c.Scopes), RedirectURI: c.RedirectURI, CodeChallenge: c.CodeChallenge,
		CodeChallengeMethod: c.CodeChallengeMethod, AccountID: c.AccountID, Roles: c.Roles, AuthTime: c.AuthTime,
		ACR: c.ACR, SessionID: c.SessionID, Resources: c.Resources,
		CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt, UsedAt: c.UsedAt, TokenID: c.TokenID}
	if c.AuthorizationDetails != "" {
		out.AuthorizationDetails = []byte(c.AuthorizationDetails)
	}
	return out, nil
}

// lineOf is the line of a record.
func lineOf(r *tokend.Record) (*line, error) {
	switch {
	case r.Service != nil:
		return &line{Type: "service", Service: serviceOut(r.Service)}, nil
	case r.Key != nil:
		return &line{Type: "key", Key: keyOut(r.Key)}, nil
	case r.Client != nil:
		return &line{Type: "client", Client: clientOut(r.Client)}, nil
	case r.User != nil:
		return &line{Type: "user", User: userOut(r.User)}, nil
	case r.Token != nil:
		return &line{Type: "token", Token: tokenOut(r.Token)}, nil
	case r.Retired != nil:
		return &line{Type: "retired_refresh_token", Retired: retiredOut(r.Retired)}, nil
	case r.Code != nil:
		return &line{Type: "authorization_code", Code: codeOut(r.Code)}, nil
	case r.Audit != nil:
		a := auditEntry(*r.Audit)
		return &line{Type: "audit_entry", Audit: &a}, nil
	}
	return nil, fmt.Errorf("transfer: an empty record")
}

// record is the record of a line; the line's type says which field holds
// it, and that field must be there.
func (l *line) record() (*tokend.Record, error) {
	var (
		r   tokend.Record
		err error
	)
	missing := fmt.Errorf("a %q line without its %q object", l.Type, l.Type)
	switch l.Type {
	case "service":
		if l.Service == nil {
			return nil, missing
		}
		r.Service, err = l.Service.in()
	case "key":
		if l.Key == nil {
			return nil, missing
		}
		r.Key, err = l.Key.in()
	case "client":
		if l.Client == nil {
			return nil, missing
		}
		r.Client, err = l.Client.in()
	case "user":
		if l.User == nil {
			return nil, missing
		}
		r.User, err = l.User.in()
	case "token":
		if l.Token == nil {
			return nil, missing
		}
		r.Token, err = l.Token.in()
	case "retired_refresh_token":
		if l.Retired == nil {
			return nil, missing
		}
		r.Retired, err = l.Retired.in()
	case "authorization_code":
		if l.Code == nil {
			return nil, missing
		}
		r.Code, err = l.Code.in()
	case "audit_entry":
		if l.Audit == nil {
			return nil, missing
		}
		a := tokend.AuditEntry(*l.Audit)
		r.Audit = &a
	default:
		return nil, fmt.Errorf("unknown line type %q", l.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Type, err)
	}
	return &r, nil
}

// auditEntry is an audit log entry as the file holds it.
type auditEntry struct {
	ID         int64              `json:"id"`
	Time       time.Time          `json:"time"`
	ServiceID  int64              `json:"service_id,omitempty"`
	Actor      string             `json:"actor"`
	Action     tokend.AuditAction `json:"action"`
	TargetType string             `json:"target_type,omitempty"`
	TargetID   string             `json:"target_id,omitempty"`
	Subject    string             `json:"subject,omitempty"`
	Reason     string             `json:"reason,omitempty"`
}
