package tokend

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"
)

// TokenInput describes a token to mint through the management API.
type TokenInput struct {
	Client        string // numeric id or client_id
	GrantType     GrantType
	Subject       string
	Scopes        []string
	RefreshScopes []string // nil: the same as Scopes

	// Caller-supplied values, for tokens migrated from another server.
	// Empty: generated.
	AccessToken  string
	RefreshToken string

	AccessTokenTTL  time.Duration // zero: the service's default
	RefreshTokenTTL time.Duration // zero: the service's default
	Persistent      bool          // the access token never expires
	NoRefreshToken  bool          // do not issue a refresh token even where the grant has one

	Properties           []Property
	AccountID            string
	Roles                []string
	AuthTime             time.Time
	ACR                  string
	SessionID            string
	Resources            []string
	CertThumbprint       string
	DPoPThumbprint       string
	AuthorizationDetails json.RawMessage
}

// IssuedToken is a token together with the raw values minted for it. The
// raw values exist only in this response; the store keeps their hashes.
type IssuedToken struct {
	Token        *Token
	AccessToken  string // empty unless minted by this call
	RefreshToken string // empty unless minted by this call
}

// createToken mints a token for CreateToken (observer.go), which counts it.
func (c *Core) createToken(ctx context.Context, p *Principal, sid int64, in TokenInput) (*IssuedToken, error) {
	svc, err := c.service(ctx, p, sid, PermTokensWrite)
	if err != nil {
		return nil, err
	}
	if in.Client == "" {
		return nil, Invalid("client", "is required")
	}
	cl, err := c.resolveClient(ctx, sid, in.Client)
	if err != nil {
		return nil, err
	}
	ctx = auditDetail(c.audited(ctx, actorOf(p), sid, AuditTokenCreate, TargetToken, ""), in.Subject, "")
	return c.issue(ctx, svc, cl, in)
}

// issue applies every rule a new token must meet and stores it. All the
// surfaces that mint tokens go through here (or through prepare, when the
// store saves the token in a transaction of its own).
func (c *Core) issue(ctx context.Context, svc *Service, cl *Client, in TokenInput) (*IssuedToken, error) {
	issued, err := c.prepare(svc, cl, in)
	if err != nil {
		return nil, err
	}
	if err := c.store.CreateToken(ctx, issued.Token); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == ECONFLICT {
			return nil, &Error{Code: ECONFLICT, Field: e.Field, Message: "a token with this value already exists"}
		}
		return nil, err
	}
	return issued, nil
}

// prepare builds a token under every rule, without storing it.
func (c *Core) prepare(svc *Service, cl *Client, in TokenInput) (*IssuedToken, error) {
	if in.GrantType == "" {
		return nil, Invalid("grant_type", "is required")
	}
	if !in.GrantType.Valid() {
		return nil, Invalid("grant_type", "unknown grant type %.40q (known: %s)", in.GrantType, joinGrants(GrantTypes))
	}
	if !svc.SupportsGrant(in.GrantType) {
		return nil, Invalid("grant_type", "%s is not in the service's grant_types_supported", in.GrantType)
	}
	if !cl.AllowsGrant(in.GrantType) {
		return nil, Invalid("grant_type", "client %s may not use %s", cl.ClientID, in.GrantType)
	}
	t := &Token{ServiceID: svc.ID, ClientID: cl.ID, GrantType: in.GrantType}
	if in.GrantType.HasSubject() {
		if in.Subject == "" {
			return nil, Invalid("subject", "is required for the %s grant", in.GrantType)
		}
		if err := validSubject("subject", in.Subject); err != nil {
			return nil, err
		}
		t.Subject = in.Subject
	} else if in.Subject != "" {
		return nil, Invalid("subject", "must be empty for the %s grant: its tokens act for the client", in.GrantType)
	}

	scopes, err := c.grantableScopes("scopes", in.Scopes, svc, cl)
	if err != nil {
		return nil, err
	}
	t.Scopes = scopes
	if in.RefreshScopes != nil {
		if t.RefreshScopes, err = c.grantableScopes("refresh_scopes", in.RefreshScopes, svc, cl); err != nil {
			return nil, err
		}
	}

	withRefresh := in.GrantType.HasRefreshToken() && !in.NoRefreshToken &&
		svc.SupportsGrant(GrantRefreshToken) && cl.AllowsGrant(GrantRefreshToken)
	if !withRefresh && (in.RefreshToken != "" || in.RefreshTokenTTL != 0) {
		return nil, Invalid("refresh_token", "this token gets no refresh token (grant %s, or REFRESH_TOKEN not allowed for the service or client)", in.GrantType)
	}
	if !withRefresh && in.RefreshScopes != nil {
		return nil, Invalid("refresh_scopes", "this token gets no refresh token")
	}
	if err := validDuration("access_token_ttl", in.AccessTokenTTL); err != nil {
		return nil, err
	}
	if err := validDuration("refresh_token_ttl", in.RefreshTokenTTL); err != nil {
		return nil, err
	}
	if in.Persistent && in.AccessTokenTTL != 0 {
		return nil, Invalid("access_token_ttl", "must not be set for a persistent token")
	}

	issued := &IssuedToken{Token: t}
	if in.AccessToken != "" {
		if err := validSuppliedToken("access_token", in.AccessToken, KindAccessToken); err != nil {
			return nil, err
		}
		t.AccessHash = HashSecret(in.AccessToken)
	} else {
		issued.AccessToken = NewSecret(KindAccessToken)
		t.AccessHash = HashSecret(issued.AccessToken)
	}
	if withRefresh {
		if in.RefreshToken != "" {
			if err := validSuppliedToken("refresh_token", in.RefreshToken, KindRefreshToken); err != nil {
				return nil, err
			}
			if in.RefreshToken == in.AccessToken {
				return nil, Invalid("refresh_token", "must differ from access_token")
			}
			t.RefreshHash = HashSecret(in.RefreshToken)
		} else {
			issued.RefreshToken = NewSecret(KindRefreshToken)
			t.RefreshHash = HashSecret(issued.RefreshToken)
		}
	}

	t.Minted = in.AccessToken == "" && in.RefreshToken == ""

	if err := in.applyAttributes(t); err != nil {
		return nil, err
	}

	now := c.Now()
	t.CreatedAt = now
	t.Persistent = in.Persistent
	if !in.Persistent {
		t.AccessExpiresAt = now.Add(orDefault(in.AccessTokenTTL, svc.AccessTokenTTL))
	}
	if withRefresh {
		t.RefreshExpiresAt = now.Add(orDefault(in.RefreshTokenTTL, svc.RefreshTokenTTL))
	}
	return issued, nil
}

func (in *TokenInput) applyAttributes(t *Token) error {
	var err error
	if t.Properties, err = validProperties("properties", in.Properties); err != nil {
		return err
	}
	if in.AccountID != "" {
		if err := validIdent("account_id", in.AccountID, MaxSubjectLen); err != nil {
			return err
		}
		t.AccountID = in.AccountID
	}
	if len(in.Roles) > 0 {
		if t.Roles, err = validRoles("roles", in.Roles); err != nil {
			return err
		}
	}
	t.AuthTime = in.AuthTime.UTC().Truncate(time.Millisecond)
	if err := validText("acr", in.ACR, MaxNameLen); err != nil {
		return err
	}
	t.ACR = in.ACR
	if in.SessionID != "" {
		if err := validIdent("session_id", in.SessionID, MaxNameLen); err != nil {
			return err
		}
		t.SessionID = in.SessionID
	}
	if len(in.Resources) > 0 {
		if t.Resources, err = validResources(in.Resources); err != nil {
			return err
		}
	}
	if err := validThumbprint("certificate_thumbprint", in.CertThumbprint); err != nil {
		return err
	}
	t.CertThumbprint = in.CertThumbprint
	if err := validThumbprint("dpop_key_thumbprint", in.DPoPThumbprint); err != nil {
		return err
	}
	t.DPoPThumbprint = in.DPoPThumbprint
	t.AuthorizationDetails, err = validAuthorizationDetails("authorization_details", in.AuthorizationDetails)
	return err
}

// validResources checks RFC 8707 resource indicators: absolute URIs
// without a fragment.
func validResources(resources []string) ([]string, error) {
	out, err := validURLs("resources", resources, true)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// grantableScopes validates requested scopes against the service and client.
func (c *Core) grantableScopes(field string, requested []string, svc *Service, cl *Client) ([]string, error) {
	scopes, err := normScopes(field, requested)
	if err != nil {
		return nil, err
	}
	if err := scopesWithin(field, scopes, svc.ScopesSupported, "service's scopes_supported"); err != nil {
		return nil, err
	}
	if cl != nil {
		if err := scopesWithin(field, scopes, cl.Scopes, "scopes allowed to client "+cl.ClientID); err != nil {
			return nil, err
		}
	}
	return scopes, nil
}

// tokenOf loads token id and checks that it belongs to service sid.
func (c *Core) tokenOf(ctx context.Context, sid, id int64) (*Token, error) {
	t, err := c.store.GetToken(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.ServiceID != sid {
		return nil, NotFound("token")
	}
	return t, nil
}

// GetToken returns a token of service sid by its id.
func (c *Core) GetToken(ctx context.Context, p *Principal, sid, id int64) (*Token, error) {
	if _, err := c.service(ctx, p, sid, PermTokensRead); err != nil {
		return nil, err
	}
	return c.tokenOf(ctx, sid, id)
}

// TokenRef names a token by its raw value (access or refresh token) or by
// the base64url hash of either. Exactly one is set.
type TokenRef struct {
	Value string
	Hash  string
}

// lookup finds the token a reference names, in service sid.
func (c *Core) lookup(ctx context.Context, sid int64, ref TokenRef) (*Token, error) {
	var t *Token
	var err error
	switch {
	case ref.Value != "" && ref.Hash != "":
		return nil, Invalid("hash", "give either token or hash, not both")
	case ref.Value != "":
		kind, ok := SecretKindOf(ref.Value)
		switch {
		case !ok:
			return nil, NotFound("token") // mistyped: no store query
		case kind == KindAccessToken:
			t, err = c.store.GetTokenByAccessHash(ctx, HashSecret(ref.Value))
		case kind == KindRefreshToken:
			t, err = c.store.GetTokenByRefreshHash(ctx, HashSecret(ref.Value))
		case kind == "":
			t, err = c.byEitherHash(ctx, HashSecret(ref.Value))
		default:
			return nil, Invalid("token", "is a %s, not a token", kindName(kind))
		}
	case ref.Hash != "":
		h, ok := ParseHash(ref.Hash)
		if !ok {
			return nil, Invalid("hash", "must be the unpadded base64url SHA-256 of a token (43 characters)")
		}
		t, err = c.byEitherHash(ctx, h)
	default:
		return nil, Invalid("token", "give a token or a hash")
	}
	if err != nil {
		return nil, err
	}
	if t.ServiceID != sid {
		return nil, NotFound("token")
	}
	return t, nil
}

func (c *Core) byEitherHash(ctx context.Context, h Hash) (*Token, error) {
	t, err := c.store.GetTokenByAccessHash(ctx, h)
	if ErrorCode(err) == ENOTFOUND {
		return c.store.GetTokenByRefreshHash(ctx, h)
	}
	return t, err
}

// FindToken returns the token of service sid that ref names.
func (c *Core) FindToken(ctx context.Context, p *Principal, sid int64, ref TokenRef) (*Token, error) {
	if _, err := c.service(ctx, p, sid, PermTokensRead); err != nil {
		return nil, err
	}
	return c.lookup(ctx, sid, ref)
}

// TokenQuery filters, orders and pages a token list. Nil filters are unset.
type TokenQuery struct {
	Subject       *string
	Client        *string // numeric id or client_id
	GrantType     *GrantType
	Scope         *string
	AccountID     *string
	Role          *string
	Status        TokenStatus // "": active
	CreatedAfter  time.Time
	CreatedBefore time.Time

	OrderBy OrderKey // "": created_at
	Desc    bool

	PageSize  int    // 0: DefaultPageSize
	PageToken string // cursor paging
	Offset    int    // offset paging; not with PageToken
}

// TokenList is a page of tokens.
type TokenList struct {
	Tokens        []*Token
	TotalCount    int
	NextPageToken string // empty on the last page
}

// ListTokens lists tokens of service sid.
func (c *Core) ListTokens(ctx context.Context, p *Principal, sid int64, q TokenQuery) (*TokenList, error) {
	if _, err := c.service(ctx, p, sid, PermTokensRead); err != nil {
		return nil, err
	}
	f, err := c.tokenFilter(ctx, sid, q)
	if err != nil {
		return nil, err
	}
	return c.listTokens(ctx, f)
}

// tokenFilter validates a query and turns it into a store filter.
func (c *Core) tokenFilter(ctx context.Context, sid int64, q TokenQuery) (TokenFilter, error) {
	f := TokenFilter{ServiceID: sid, Now: c.Now(), CountTotal: true, Desc: q.Desc}
	if q.Subject != nil {
		if err := validSubject("subject", *q.Subject); err != nil {
			return f, err
		}
		f.Subject = q.Subject
	}
	if q.Client != nil {
		id, err := c.clientFilterID(ctx, sid, *q.Client)
		if err != nil {
			return f, err
		}
		f.ClientID = &id
	}
	if q.GrantType != nil {
		if !q.GrantType.Valid() {
			return f, Invalid("grant_type", "unknown grant type %.40q (known: %s)", *q.GrantType, joinGrants(GrantTypes))
		}
		f.GrantType = q.GrantType
	}
	if q.Scope != nil {
		if err := validScopeToken("scope", *q.Scope); err != nil {
			return f, err
		}
		f.Scope = q.Scope
	}
	if q.AccountID != nil {
		if err := validIdent("account_id", *q.AccountID, MaxSubjectLen); err != nil {
			return f, err
		}
		f.AccountID = q.AccountID
	}
	if q.Role != nil {
		if err := validIdent("role", *q.Role, MaxRoleLen); err != nil {
			return f, err
		}
		f.Role = q.Role
	}
	switch q.Status {
	case "":
		f.Status = StatusActive
	case StatusActive, StatusExpired, StatusRevoked, StatusAll, StatusNotRevoked:
		f.Status = q.Status
	default:
		return f, Invalid("status", "must be active, expired, revoked, not_revoked or all, not %.40q", q.Status)
	}
	f.CreatedAfter = q.CreatedAfter.UTC().Truncate(time.Millisecond)
	f.CreatedBefore = q.CreatedBefore.UTC().Truncate(time.Millisecond)
	switch {
	case q.OrderBy == "":
		f.OrderBy = OrderCreatedAt
	case q.OrderBy.Valid():
		f.OrderBy = q.OrderBy
	default:
		return f, Invalid("order_by", "must be created_at, expires_at or last_refreshed_at, not %.40q", q.OrderBy)
	}
	switch {
	case q.PageSize == 0:
		f.Limit = DefaultPageSize
	case q.PageSize < 1 || q.PageSize > MaxPageSize:
		return f, Invalid("page_size", "must be between 1 and %d", MaxPageSize)
	default:
		f.Limit = q.PageSize
	}
	if q.Offset < 0 {
		return f, Invalid("offset", "must not be negative")
	}
	if q.PageToken != "" {
		if q.Offset != 0 {
			return f, Invalid("offset", "cannot be combined with page_token")
		}
		cur, err := decodePageToken(q.PageToken, f.OrderBy, f.Desc)
		if err != nil {
			return f, err
		}
		f.After = cur
	}
	f.Offset = q.Offset
	return f, nil
}

func (c *Core) listTokens(ctx context.Context, f TokenFilter) (*TokenList, error) {
	page, err := c.store.ListTokens(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &TokenList{Tokens: page.Tokens, TotalCount: page.Total}
	if page.More && len(page.Tokens) > 0 {
		last := page.Tokens[len(page.Tokens)-1]
		out.NextPageToken = encodePageToken(f.OrderBy, f.Desc, Cursor{Value: last.OrderValue(f.OrderBy), ID: last.ID})
	}
	return out, nil
}

// clientFilterID turns a client reference in a filter into a numeric id. A
// numeric id is used as given, so tokens of a deleted client stay listable.
func (c *Core) clientFilterID(ctx context.Context, sid int64, ref string) (int64, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return id, nil
	}
	cl, err := c.resolveClient(ctx, sid, ref)
	if err != nil {
		return 0, err
	}
	return cl.ID, nil
}

// TokenUpdate changes a token; nil fields are left as they are.
type TokenUpdate struct {
	Scopes               *[]string
	RefreshScopes        *[]string
	AccessExpiresAt      *time.Time
	RefreshExpiresAt     *time.Time
	Persistent           *bool
	Properties           *[]Property
	AccountID            *string
	Roles                *[]string
	Resources            *[]string
	CertThumbprint       *string
	DPoPThumbprint       *string
	AuthorizationDetails *json.RawMessage
	// NewAccessToken replaces the access token's value; the old one stops working.
	NewAccessToken bool
}

// UpdateToken changes a live or expired token of service sid. A revoked
// token cannot be changed.
func (c *Core) UpdateToken(ctx context.Context, p *Principal, sid, id int64, u TokenUpdate) (*IssuedToken, error) {
	svc, err := c.service(ctx, p, sid, PermTokensWrite)
	if err != nil {
		return nil, err
	}
	current, err := c.tokenOf(ctx, sid, id)
	if err != nil {
		return nil, err
	}
	var cl *Client
	if u.Scopes != nil || u.RefreshScopes != nil {
		if cl, err = c.store.GetClient(ctx, current.ClientID); err != nil {
			return nil, err
		}
	}
	// Validate everything before the transaction so it holds no lock while
	// we think, then apply under it.
	var scopes, refreshScopes []string
	if u.Scopes != nil {
		if scopes, err = c.grantableScopes("scopes", *u.Scopes, svc, cl); err != nil {
			return nil, err
		}
	}
	if u.RefreshScopes != nil {
		if refreshScopes, err = c.grantableScopes("refresh_scopes", *u.RefreshScopes, svc, cl); err != nil {
			return nil, err
		}
	}
	var attrs Token
	in := TokenInput{}
	if u.Properties != nil {
		in.Properties = *u.Properties
	}
	if u.AccountID != nil {
		in.AccountID = *u.AccountID
	}
	if u.Roles != nil {
		in.Roles = *u.Roles
	}
	if u.Resources != nil {
		in.Resources = *u.Resources
	}
	if u.CertThumbprint != nil {
		in.CertThumbprint = *u.CertThumbprint
	}
	if u.DPoPThumbprint != nil {
		in.DPoPThumbprint = *u.DPoPThumbprint
	}
	if u.AuthorizationDetails != nil {
		in.AuthorizationDetails = *u.AuthorizationDetails
	}
	if err := in.applyAttributes(&attrs); err != nil {
		return nil, err
	}
	now := c.Now()
	limit := now.Add(MaxTokenTTL)
	if u.AccessExpiresAt != nil && u.AccessExpiresAt.After(limit) {
		return nil, Invalid("access_token_expires_at", "must be within 100 years")
	}
	if u.RefreshExpiresAt != nil && u.RefreshExpiresAt.After(limit) {
		return nil, Invalid("refresh_token_expires_at", "must be within 100 years")
	}
	issued := &IssuedToken{}
	if u.NewAccessToken {
		issued.AccessToken = NewSecret(KindAccessToken)
	}
	ctx = auditDetail(c.audited(ctx, actorOf(p), sid, AuditTokenUpdate, TargetToken, idString(id)), current.Subject, "")
	t, err := c.store.UpdateToken(ctx, id, func(t *Token) error {
		if !t.RevokedAt.IsZero() {
			return &Error{Code: ECONFLICT, Message: "the token is revoked and cannot be changed"}
		}
		if u.Scopes != nil {
			t.Scopes = scopes
		}
		if u.RefreshScopes != nil {
			if !t.HasRefresh() {
				return Invalid("refresh_scopes", "the token has no refresh token")
			}
			t.RefreshScopes = refreshScopes
		}
		if u.Persistent != nil {
			t.Persistent = *u.Persistent
			if t.Persistent {
				t.AccessExpiresAt = time.Time{}
			} else if u.AccessExpiresAt == nil {
				return Invalid("access_token_expires_at", "is required when a token stops being persistent")
			}
		}
		if u.AccessExpiresAt != nil {
			if t.Persistent {
				return Invalid("access_token_expires_at", "a persistent token does not expire: set persistent to false too")
			}
			t.AccessExpiresAt = u.AccessExpiresAt.UTC().Truncate(time.Millisecond)
		}
		if u.RefreshExpiresAt != nil {
			if !t.HasRefresh() {
				return Invalid("refresh_token_expires_at", "the token has no refresh token")
			}
			t.RefreshExpiresAt = u.RefreshExpiresAt.UTC().Truncate(time.Millisecond)
		}
		if u.Properties != nil {
			t.Properties = attrs.Properties
		}
		if u.AccountID != nil {
			t.AccountID = attrs.AccountID
		}
		if u.Roles != nil {
			t.Roles = attrs.Roles
		}
		if u.Resources != nil {
			t.Resources = attrs.Resources
		}
		if u.CertThumbprint != nil {
			t.CertThumbprint = attrs.CertThumbprint
		}
		if u.DPoPThumbprint != nil {
			t.DPoPThumbprint = attrs.DPoPThumbprint
		}
		if u.AuthorizationDetails != nil {
			t.AuthorizationDetails = attrs.AuthorizationDetails
		}
		if u.NewAccessToken {
			t.AccessHash = HashSecret(issued.AccessToken)
		}
		t.Minted = true // the only hash an update can change is one just made
		return nil
	})
	c.tokens.changedToken(sid, id)
	if err != nil {
		return nil, err
	}
	issued.Token = t
	return issued, nil
}

// DeleteToken removes a token record outright; it stops working at once and
// no longer appears in any list.
func (c *Core) DeleteToken(ctx context.Context, p *Principal, sid, id int64) error {
	if _, err := c.service(ctx, p, sid, PermTokensWrite); err != nil {
		return err
	}
	t, err := c.tokenOf(ctx, sid, id)
	if err != nil {
		return err
	}
	defer c.tokens.changedToken(sid, id)
	ctx = auditDetail(c.audited(ctx, actorOf(p), sid, AuditTokenDelete, TargetToken, idString(id)), t.Subject, "")
	return c.store.DeleteToken(ctx, id)
}

// RevokeRequest selects tokens to revoke: one token (by id, value or hash),
// or every token of a client, a subject, or a client and subject.
type RevokeRequest struct {
	TokenID int64
	Token   TokenRef
	Client  string
	Subject *string
	Reason  string // recorded with the revocation; "": "revoked"
}

// RevokeTokens revokes what r selects in service sid and returns how many
// tokens it revoked. A token record holds both an access and a refresh
// token, so revoking either revokes both.
func (c *Core) RevokeTokens(ctx context.Context, p *Principal, sid int64, r RevokeRequest) (int, error) {
	if _, err := c.service(ctx, p, sid, PermTokensWrite); err != nil {
		return 0, err
	}
	if r.Reason == "" {
		r.Reason = "revoked"
	}
	if err := validText("reason", r.Reason, MaxNameLen); err != nil {
		return 0, err
	}
	one := r.TokenID != 0 || r.Token.Value != "" || r.Token.Hash != ""
	many := r.Client != "" || r.Subject != nil
	f := RevokeFilter{ServiceID: sid}
	var grant GrantType // the token's, when one is named
	switch {
	case one && many:
		field := "client"
		if r.Client == "" {
			field = "subject"
		}
		return 0, Invalid(field, "name one token, or a client and/or subject, not both")
	case r.TokenID != 0:
		if r.Token.Value != "" || r.Token.Hash != "" {
			return 0, Invalid("token", "give an id, a token or a hash, not several")
		}
		t, err := c.tokenOf(ctx, sid, r.TokenID)
		if err != nil {
			return 0, err
		}
		f.TokenID, grant = t.ID, t.GrantType
	case one:
		t, err := c.lookup(ctx, sid, r.Token)
		if err != nil {
			return 0, err
		}
		f.TokenID, grant = t.ID, t.GrantType
	case many:
		if r.Client != "" {
			id, err := c.clientFilterID(ctx, sid, r.Client)
			if err != nil {
				return 0, err
			}
			f.ClientID = id
		}
		if r.Subject != nil {
			if err := validSubject("subject", *r.Subject); err != nil {
				return 0, err
			}
			f.Subject = r.Subject
		}
	default:
		return 0, Invalid("token", "name what to revoke: token, hash, client and/or subject")
	}
	if f.TokenID != 0 {
		defer c.tokens.changedToken(sid, f.TokenID)
	} else {
		defer c.tokens.changedService(sid)
	}
	var subject string
	if f.Subject != nil {
		subject = *f.Subject
	}
	targetType, targetID := TargetSubject, subject
	switch {
	case f.TokenID != 0:
		targetType, targetID = TargetToken, idString(f.TokenID)
	case f.ClientID != 0:
		targetType, targetID = TargetClient, idString(f.ClientID)
	}
	ctx = auditDetail(c.audited(ctx, actorOf(p), sid, AuditTokenRevoke, targetType, targetID), subject, r.Reason)
	return c.revoke(ctx, f, c.Now(), r.Reason, grant)
}

// SubjectGrants returns the apps connected to a subject's account.
func (c *Core) SubjectGrants(ctx context.Context, p *Principal, sid int64, subject string) ([]*ClientGrant, error) {
	if _, err := c.service(ctx, p, sid, PermTokensRead); err != nil {
		return nil, err
	}
	if err := validSubject("subject", subject); err != nil {
		return nil, err
	}
	return c.store.ListSubjectGrants(ctx, sid, subject, c.Now())
}

// RevokeSubjectGrant disconnects one app from a subject's account: every
// token the client holds for the subject is revoked.
func (c *Core) RevokeSubjectGrant(ctx context.Context, p *Principal, sid int64, subject, client string) (int, error) {
	if client == "" {
		return 0, Invalid("client", "is required")
	}
	return c.RevokeTokens(ctx, p, sid, RevokeRequest{Client: client, Subject: &subject, Reason: "grant_revoked"})
}

// SortedUnion merges scope lists into one sorted list without duplicates;
// stores use it to summarise a subject's grants.
func SortedUnion(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
