package tokend

import (
	"context"
	"strings"
	"time"
)

// A subject's grants to clients ("connected apps", Authlete's client
// authorizations), beyond listing and revoking them (tokens.go). tokend
// keeps no record of a grant apart from the tokens: what a subject has
// granted a client is what that client's live tokens for the subject carry.

// AuthorizedClients returns the clients that hold live tokens for subject
// in service sid, newest grant first; with developer set, only the clients
// of that developer.
func (c *Core) AuthorizedClients(ctx context.Context, p *Principal, sid int64, subject string, developer *string) ([]*ClientGrant, error) {
	gs, err := c.SubjectGrants(ctx, p, sid, subject)
	if err != nil || developer == nil {
		return gs, err
	}
	if err := validText("developer", *developer, MaxNameLen); err != nil {
		return nil, err
	}
	out := gs[:0]
	for _, g := range gs {
		if g.Client != nil && g.Client.Developer == *developer {
			out = append(out, g)
		}
	}
	return out, nil
}

// GrantedScopes is what a subject has granted one client.
type GrantedScopes struct {
	Client *Client
	// Latest holds the scopes of the newest live token, Merged the union of
	// the scopes of all of them; both nil when the client holds none.
	Latest     []string
	Merged     []string
	ModifiedAt time.Time // when the newest live token was issued; zero when none
}

// GrantedScopes tells what subject has granted client in service sid.
func (c *Core) GrantedScopes(ctx context.Context, p *Principal, sid int64, client, subject string) (*GrantedScopes, error) {
	if _, err := c.service(ctx, p, sid, PermTokensRead); err != nil {
		return nil, err
	}
	if err := validSubject("subject", subject); err != nil {
		return nil, err
	}
	cl, err := c.resolveClient(ctx, sid, client)
	if err != nil {
		return nil, err
	}
	out := &GrantedScopes{Client: cl}
	now := c.Now()
	gs, err := c.store.ListSubjectGrants(ctx, sid, subject, now)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		if g.Client != nil && g.Client.ID == cl.ID {
			out.Merged, out.ModifiedAt = g.Scopes, g.LastIssued
		}
	}
	if out.Merged == nil {
		return out, nil
	}
	page, err := c.store.ListTokens(ctx, TokenFilter{ServiceID: sid, Subject: &subject, ClientID: &cl.ID,
		Status: StatusActive, Now: now, OrderBy: OrderCreatedAt, Desc: true, Limit: 1})
	if err != nil {
		return nil, err
	}
	out.Latest = []string{}
	if len(page.Tokens) > 0 {
		out.Latest = page.Tokens[0].Scopes
	}
	return out, nil
}

// UpdateGrantScopes replaces the scopes of every live token that client
// holds for subject in service sid, refresh tokens included (a refresh must
// not bring back a scope taken away), and returns how many it changed. The
// scopes must be ones the service supports and the client may be granted.
// Each token is changed in a transaction of its own: should the store fail
// part way, the call can be repeated and ends in the same state.
func (c *Core) UpdateGrantScopes(ctx context.Context, p *Principal, sid int64, client, subject string, scopes []string) (int, error) {
	svc, err := c.service(ctx, p, sid, PermTokensWrite)
	if err != nil {
		return 0, err
	}
	if err := validSubject("subject", subject); err != nil {
		return 0, err
	}
	cl, err := c.resolveClient(ctx, sid, client)
	if err != nil {
		return 0, err
	}
	scopes, err = c.grantableScopes("scopes", scopes, svc, cl)
	if err != nil {
		return 0, err
	}
	f := TokenFilter{ServiceID: sid, Subject: &subject, ClientID: &cl.ID, Status: StatusActive,
		Now: c.Now(), OrderBy: OrderCreatedAt, Limit: 200}
	changed := 0
	for {
		page, err := c.store.ListTokens(ctx, f)
		if err != nil {
			return changed, err
		}
		for _, t := range page.Tokens {
			actx := auditDetail(c.audited(ctx, actorOf(p), sid, AuditGrantUpdate, TargetToken, idString(t.ID)),
				subject, "scopes: "+strings.Join(scopes, " "))
			_, err := c.store.UpdateToken(actx, t.ID, func(t *Token) error {
				if !t.RevokedAt.IsZero() {
					return nil // revoked since the list was read: leave it be
				}
				t.Scopes = scopes
				if t.HasRefresh() {
					t.RefreshScopes = scopes
				}
				return nil
			})
			c.tokens.changedToken(sid, t.ID)
			if ErrorCode(err) == ENOTFOUND {
				continue // deleted since the list was read
			}
			if err != nil {
				return changed, err
			}
			changed++
		}
		if !page.More || len(page.Tokens) == 0 {
			return changed, nil
		}
		last := page.Tokens[len(page.Tokens)-1]
		f.After = &Cursor{Value: last.OrderValue(f.OrderBy), ID: last.ID}
	}
}

// TokenClient returns a client of service sid by numeric id or client_id
// for a caller that may read tokens: a token list filtered by client shows
// which client it is without the clients.read permission, as introspection
// shows a token's client_id.
func (c *Core) TokenClient(ctx context.Context, p *Principal, sid int64, ref string) (*Client, error) {
	if _, err := c.service(ctx, p, sid, PermTokensRead); err != nil {
		return nil, err
	}
	return c.resolveClient(ctx, sid, ref)
}
