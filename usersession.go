package tokend

import (
	"context"
	"time"
)

// A first-party ("super") client acting for a signed-in user: the trusted
// application of the service itself shows the user the tokens other
// clients hold for them and lets the user cut those clients off
// (Kustvakt's super client services). The client authenticates with its
// secret, the user with an access token of the same service or with a
// password, and every call is confined to that user's tokens.

// MaxUserTokens bounds one answer of ListUserTokens; a user holding more
// live tokens sees the newest.
const MaxUserTokens = 10000

// ReasonFirstParty is the revocation reason of tokens a first-party client
// revoked for the user.
const ReasonFirstParty = "revoked_by_first_party_client"

// UserCredentials is how the user proves who they are: an access token, or
// a username and password.
type UserCredentials struct {
	AccessToken string
	Username    string
	Password    string
}

// UserSession is a first-party client acting for one user. Only
// OpenUserSession makes one, so holding it proves both authentications.
type UserSession struct {
	svc     *Service
	client  *Client
	subject string
}

// actor names the user in audit entries.
func (s *UserSession) actor() string { return "user:" + s.subject }

// Service is the service of the client and the user.
func (s *UserSession) Service() *Service { return s.svc }

// Client is the first-party client.
func (s *UserSession) Client() *Client { return s.client }

// Subject is the user.
func (s *UserSession) Subject() string { return s.subject }

// OpenUserSession authenticates a first-party client, found by its
// client_id in whichever service has it, and a user of that service.
// Failures of the client's authentication are EUNAUTHORIZED with Field
// "client"; a client that is not first-party, or is public (it has no
// secret to prove itself with), is EFORBIDDEN; failures of the user's are
// EUNAUTHORIZED with Field "user".
func (c *Core) OpenUserSession(ctx context.Context, client ClientCredentials, user UserCredentials) (*UserSession, error) {
	svc, cl, err := c.AuthenticateClientAnywhere(ctx, client)
	if ErrorCode(err) == EUNAUTHORIZED {
		return nil, &Error{Code: EUNAUTHORIZED, Field: "client", Message: ErrorMessage(err)}
	} else if err != nil {
		return nil, err
	}
	if !cl.FirstParty {
		return nil, Errorf(EFORBIDDEN, "client %s is not a first-party client: only those may act for a signed-in user", cl.ClientID)
	}
	if cl.Type != ClientConfidential {
		return nil, Errorf(EFORBIDDEN, "client %s is PUBLIC: a first-party client must prove itself with a secret", cl.ClientID)
	}
	userErr := func(msg string) error { return &Error{Code: EUNAUTHORIZED, Field: "user", Message: msg} }
	byToken, byPassword := user.AccessToken != "", user.Username != "" || user.Password != ""
	var subject string
	switch {
	case byToken && byPassword:
		return nil, Invalid("user", "give an access token or a username and password, not both")
	case byToken:
		_, t, err := c.AuthenticateBearer(ctx, svc.ID, user.AccessToken, "")
		if ErrorCode(err) == EUNAUTHORIZED {
			return nil, userErr(ErrorMessage(err))
		} else if err != nil {
			return nil, err
		}
		if t.Subject == "" {
			return nil, userErr("the access token acts for a client, not a user")
		}
		subject = t.Subject
	case byPassword:
		if user.Username == "" || user.Password == "" {
			return nil, userErr("both a username and a password are required")
		}
		u, err := c.verifyPassword(ctx, svc, user.Username, user.Password)
		if ErrorCode(err) == EGRANT {
			return nil, userErr("invalid username or password")
		} else if err != nil {
			return nil, err
		}
		subject = u.Subject
	default:
		return nil, userErr("the user's credentials are required: an access token, or a username and password")
	}
	return &UserSession{svc: svc, client: cl, subject: subject}, nil
}

// UserToken is one of a user's live tokens as a first-party client sees it.
type UserToken struct {
	Token     *Token
	Client    *Client
	Hash      Hash      // the listed value's: the access or the refresh token's
	IssuedAt  time.Time // when that value was issued (the last refresh that replaced it)
	ExpiresAt time.Time // zero: never (a persistent access token)
}

// ListUserTokens lists the user's live access tokens (or, with refresh,
// live refresh tokens), newest first: neither revoked nor expired, and not
// the first-party client's own. client, when set, keeps only the tokens of
// that client (numeric id or client_id; Invalid "client" if the service has
// no such client).
func (c *Core) ListUserTokens(ctx context.Context, s *UserSession, refresh bool, client string) ([]*UserToken, error) {
	now := c.Now()
	f := TokenFilter{
		ServiceID: s.svc.ID, Subject: &s.subject, Status: StatusActive, Now: now,
		OrderBy: OrderCreatedAt, Desc: true, Limit: MaxPageSize,
	}
	if client != "" {
		cl, err := c.userClient(ctx, s, client)
		if err != nil {
			return nil, err
		}
		f.ClientID = &cl.ID
	}
	var live []*Token
	for len(live) < MaxUserTokens {
		page, err := c.store.ListTokens(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Tokens {
			if t.ClientID == s.client.ID || len(live) == MaxUserTokens {
				continue
			}
			if (refresh && t.RefreshActive(now)) || (!refresh && t.AccessActive(now)) {
				live = append(live, t)
			}
		}
		if !page.More || len(page.Tokens) == 0 {
			break
		}
		last := page.Tokens[len(page.Tokens)-1]
		f.After = &Cursor{Value: last.OrderValue(f.OrderBy), ID: last.ID}
	}
	clients, err := c.clientsOf(ctx, s.svc.ID, live)
	if err != nil {
		return nil, err
	}
	out := make([]*UserToken, 0, len(live))
	for _, t := range live {
		ut := &UserToken{Token: t, Client: clients[t.ClientID], Hash: t.AccessHash, IssuedAt: valueIssuedAt(s.svc, t, refresh), ExpiresAt: t.AccessExpiresAt}
		if refresh {
			ut.Hash, ut.ExpiresAt = t.RefreshHash, t.RefreshExpiresAt
		}
		out = append(out, ut)
	}
	return out, nil
}

// valueIssuedAt is when the record's access (or refresh) value was minted:
// a refresh mints a new access token, and under rotation a new refresh
// token, in the same record.
func valueIssuedAt(svc *Service, t *Token, refresh bool) time.Time {
	if t.LastRefreshedAt.IsZero() || (refresh && !svc.RefreshPolicy.Rotate) {
		return t.CreatedAt
	}
	return t.LastRefreshedAt
}

// userClient resolves a client reference of a session's call.
func (c *Core) userClient(ctx context.Context, s *UserSession, ref string) (*Client, error) {
	if err := validIdent("client", ref, MaxNameLen); err != nil {
		return nil, err
	}
	cl, err := c.resolveClient(ctx, s.svc.ID, ref)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Invalid("client", "%.64q names no client of this service", ref)
	}
	return cl, err
}

// RevokeUserToken revokes one of the user's tokens, named by its value or
// by the hash ListUserTokens shows. A token that is not the user's (or
// does not exist) is Invalid "token", so no one learns of other users'
// tokens; one already revoked is left as it is, without an error.
func (c *Core) RevokeUserToken(ctx context.Context, s *UserSession, ref string) error {
	if ref == "" {
		return Invalid("token", "is required")
	}
	t, err := c.findValueOrHash(ctx, ref, "")
	if ErrorCode(err) == ENOTFOUND || (err == nil && (t.ServiceID != s.svc.ID || t.Subject != s.subject)) {
		return Invalid("token", "names none of the user's tokens")
	} else if err != nil {
		return err
	}
	if !t.RevokedAt.IsZero() {
		return nil
	}
	ctx = auditDetail(c.audited(ctx, s.actor(), s.svc.ID, AuditTokenRevoke, TargetToken, idString(t.ID)), s.subject, ReasonFirstParty)
	_, err = c.revoke(ctx, RevokeFilter{ServiceID: s.svc.ID, TokenID: t.ID}, c.Now(), ReasonFirstParty, t.GrantType)
	c.tokens.changedToken(s.svc.ID, t.ID)
	return err
}

// RevokeUserClient revokes every token client holds for the user and
// returns how many it revoked.
func (c *Core) RevokeUserClient(ctx context.Context, s *UserSession, client string) (int, error) {
	if client == "" {
		return 0, Invalid("client", "is required")
	}
	cl, err := c.userClient(ctx, s, client)
	if err != nil {
		return 0, err
	}
	defer c.tokens.changedService(s.svc.ID)
	ctx = auditDetail(c.audited(ctx, s.actor(), s.svc.ID, AuditTokenRevoke, TargetClient, idString(cl.ID)), s.subject, ReasonFirstParty)
	return c.revoke(ctx, RevokeFilter{ServiceID: s.svc.ID, ClientID: cl.ID, Subject: &s.subject}, c.Now(), ReasonFirstParty, "")
}

// UserClients returns the clients holding live tokens for the user, newest
// first, without the first-party client itself.
func (c *Core) UserClients(ctx context.Context, s *UserSession) ([]*ClientGrant, error) {
	grants, err := c.store.ListSubjectGrants(ctx, s.svc.ID, s.subject, c.Now())
	if err != nil {
		return nil, err
	}
	out := grants[:0]
	for _, g := range grants {
		if g.Client != nil && g.Client.ID != s.client.ID {
			out = append(out, g)
		}
	}
	return out, nil
}

// RevokeByClientValueOrHash is RevokeByClient for a token named by its
// value or by the hash dialects show in place of values (tokend keeps no
// values): unknown tokens and other services' are not an error (RFC 7009
// §2.2), another client's token is EFORBIDDEN.
func (c *Core) RevokeByClientValueOrHash(ctx context.Context, svc *Service, cl *Client, ref, hint string) error {
	if ref == "" {
		return Invalid("token", "is required")
	}
	t, err := c.findValueOrHash(ctx, ref, hint)
	if ErrorCode(err) == ENOTFOUND {
		t, err = c.retiredRecord(ctx, ref)
	}
	if ErrorCode(err) == ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if t.ServiceID != svc.ID {
		return nil
	}
	if t.ClientID != cl.ID {
		return Errorf(EFORBIDDEN, "the token was not issued to this client")
	}
	ctx = auditDetail(c.audited(ctx, clientActor(cl), svc.ID, AuditTokenRevoke, TargetToken, idString(t.ID)), t.Subject, "revoked_by_client")
	_, err = c.revoke(ctx, RevokeFilter{ServiceID: svc.ID, TokenID: t.ID}, c.Now(), "revoked_by_client", t.GrantType)
	c.tokens.changedToken(svc.ID, t.ID)
	return err
}

// findValueOrHash finds the token a presented string names: as a value
// first, then, if it has the form of one, as the base64url hash of either
// of the record's values. A value and a hash cannot be confused: a value
// whose own hash is stored is found first, and the chance that a string is
// both someone's value and someone else's hash is that of a SHA-256
// preimage.
func (c *Core) findValueOrHash(ctx context.Context, s, hint string) (*Token, error) {
	t, _, err := c.findPresented(ctx, s, hint)
	if ErrorCode(err) != ENOTFOUND {
		return t, err
	}
	if h, ok := ParseHash(s); ok {
		return c.byEitherHash(ctx, h)
	}
	return nil, err
}
