package tokend

import (
	"context"
	"crypto/rand"
	"slices"
	"strconv"
)

// ClientInput creates or changes a client; nil fields are left as they are
// (on create: defaults).
type ClientInput struct {
	ClientID     *string // on create only: a caller-chosen client_id (migration)
	Name         *string
	Description  *string
	URL          *string
	Developer    *string
	Type         *ClientType
	GrantTypes   *[]GrantType
	Scopes       *[]string
	RedirectURIs *[]string
	FirstParty   *bool
}

// ClientReason is the revocation reason recorded when a client is deleted.
const ClientReason = "client_deleted"

func (in *ClientInput) apply(c *Client, svc *Service) error {
	if in.Name != nil {
		if err := validName("name", *in.Name); err != nil {
			return err
		}
		c.Name = *in.Name
	}
	if in.Description != nil {
		if err := validText("description", *in.Description, MaxTextLen); err != nil {
			return err
		}
		c.Description = *in.Description
	}
	if in.URL != nil {
		if *in.URL != "" {
			if err := validURL("url", *in.URL, false); err != nil {
				return err
			}
		}
		c.URL = *in.URL
	}
	if in.Developer != nil {
		if err := validText("developer", *in.Developer, MaxNameLen); err != nil {
			return err
		}
		c.Developer = *in.Developer
	}
	if in.Type != nil {
		if !in.Type.Valid() {
			return Invalid("type", "must be CONFIDENTIAL or PUBLIC, not %.40q", *in.Type)
		}
		c.Type = *in.Type
	}
	if in.GrantTypes != nil {
		gs, err := validGrantTypes("grant_types", *in.GrantTypes)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if !svc.SupportsGrant(g) {
				return Invalid("grant_types", "grant type %s is not in the service's grant_types_supported", g)
			}
		}
		c.GrantTypes = gs
	}
	if in.Scopes != nil {
		scopes, err := normScopes("scopes", *in.Scopes)
		if err != nil {
			return err
		}
		if err := scopesWithin("scopes", scopes, svc.ScopesSupported, "service's scopes_supported"); err != nil {
			return err
		}
		c.Scopes = scopes
	}
	if in.RedirectURIs != nil {
		uris, err := validURLs("redirect_uris", *in.RedirectURIs, true)
		if err != nil {
			return err
		}
		c.RedirectURIs = uris
	}
	if in.FirstParty != nil {
		c.FirstParty = *in.FirstParty
	}
	// RFC 6749 §2.1: a public client cannot keep a secret, so it cannot
	// authenticate for the client credentials grant.
	if c.Type == ClientPublic && c.AllowsGrant(GrantClientCredentials) {
		return Invalid("grant_types", "a PUBLIC client cannot use CLIENT_CREDENTIALS")
	}
	return nil
}

// newClientID returns a random client_id that never parses as a number, so
// that "numeric id or client_id" references are unambiguous.
func newClientID() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var raw [22]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("tokend: crypto/rand failed: " + err.Error())
	}
	out := make([]byte, len(raw))
	for i, b := range raw {
		out[i] = alphabet[int(b)%len(alphabet)]
	}
	out[0] = alphabet[int(raw[0])%25] // a letter first
	return string(out)
}

// CreateClient registers a client with service sid and returns it with its
// secret (empty for public clients), shown this once.
func (c *Core) CreateClient(ctx context.Context, p *Principal, sid int64, in ClientInput) (*Client, string, error) {
	svc, err := c.service(ctx, p, sid, PermClientsWrite)
	if err != nil {
		return nil, "", err
	}
	if in.Name == nil {
		return nil, "", Invalid("name", "is required")
	}
	now := c.Now()
	cl := &Client{ServiceID: sid, Type: ClientConfidential, CreatedAt: now, UpdatedAt: now, RedirectURIs: []string{}}
	if in.Type != nil {
		cl.Type = *in.Type // defaults below depend on it; apply validates it
	}
	if in.GrantTypes == nil {
		cl.GrantTypes = []GrantType{}
		for _, g := range svc.GrantTypesSupported {
			if g != GrantClientCredentials || cl.Type != ClientPublic {
				cl.GrantTypes = append(cl.GrantTypes, g)
			}
		}
	}
	if in.Scopes == nil {
		cl.Scopes = slices.Clone(svc.ScopesSupported)
	}
	if err := in.apply(cl, svc); err != nil {
		return nil, "", err
	}
	if in.ClientID != nil {
		if err := validIdent("client_id", *in.ClientID, MaxNameLen); err != nil {
			return nil, "", err
		}
		if *in.ClientID == "." || *in.ClientID == ".." {
			return nil, "", Invalid("client_id", "must not be %q: it cannot be named in a URL path", *in.ClientID)
		}
		if _, err := strconv.ParseInt(*in.ClientID, 10, 64); err == nil {
			return nil, "", Invalid("client_id", "must not be a number: numbers name clients by their numeric id")
		}
		cl.ClientID = *in.ClientID
	} else {
		cl.ClientID = newClientID()
	}
	var secret string
	if cl.Type == ClientConfidential {
		secret = NewSecret(KindClientSecret)
		cl.SecretHash = HashSecret(secret)
	}
	err = createWithRandomID(func(id int64) error {
		cl.ID = id
		return c.store.CreateClient(c.audited(ctx, actorOf(p), sid, AuditClientCreate, TargetClient, idString(id)), cl)
	})
	if err != nil {
		return nil, "", err
	}
	return cl, secret, nil
}

// resolveClient finds a client of service sid by numeric id or client_id.
// Another service's client is reported as not found.
func (c *Core) resolveClient(ctx context.Context, sid int64, ref string) (*Client, error) {
	if ref == "" {
		return nil, Invalid("client", "is required")
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		cl, err := c.store.GetClient(ctx, id)
		if err != nil {
			return nil, err
		}
		if cl.ServiceID != sid {
			return nil, NotFound("client")
		}
		return cl, nil
	}
	return c.store.GetClientByClientID(ctx, sid, ref)
}

// GetClient returns a client of service sid by numeric id or client_id.
func (c *Core) GetClient(ctx context.Context, p *Principal, sid int64, ref string) (*Client, error) {
	if _, err := c.service(ctx, p, sid, PermClientsRead); err != nil {
		return nil, err
	}
	return c.resolveClient(ctx, sid, ref)
}

// ListClients returns up to limit clients of service sid with ids above
// afterID, and whether more follow.
func (c *Core) ListClients(ctx context.Context, p *Principal, sid, afterID int64, limit int) ([]*Client, bool, error) {
	if _, err := c.service(ctx, p, sid, PermClientsRead); err != nil {
		return nil, false, err
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, false, Invalid("page_size", "must be between 1 and %d", MaxPageSize)
	}
	cs, err := c.store.ListClients(ctx, ClientFilter{ServiceID: sid, AfterID: afterID, Limit: limit + 1})
	return trimPage(cs, limit, err)
}

// trimPage drops the one item fetched beyond a page, which tells that more follow.
func trimPage[T any](items []T, limit int, err error) ([]T, bool, error) {
	if err != nil {
		return nil, false, err
	}
	if len(items) > limit {
		return items[:limit], true, nil
	}
	return items, false, nil
}

// UpdateClient changes a client. Its tokens keep what they were granted.
func (c *Core) UpdateClient(ctx context.Context, p *Principal, sid int64, ref string, in ClientInput) (*Client, error) {
	svc, err := c.service(ctx, p, sid, PermClientsWrite)
	if err != nil {
		return nil, err
	}
	if in.ClientID != nil {
		return nil, Invalid("client_id", "cannot be changed")
	}
	cl, err := c.resolveClient(ctx, sid, ref)
	if err != nil {
		return nil, err
	}
	defer c.cache.forgetClient(cl)
	ctx = c.audited(ctx, actorOf(p), sid, AuditClientUpdate, TargetClient, idString(cl.ID))
	return c.store.UpdateClient(ctx, cl.ID, func(cl *Client) error {
		wasPublic := cl.Type == ClientPublic
		if err := in.apply(cl, svc); err != nil {
			return err
		}
		if wasPublic && cl.Type == ClientConfidential {
			return Invalid("type", "a PUBLIC client cannot become CONFIDENTIAL: create a new client")
		}
		if cl.Type == ClientPublic {
			cl.SecretHash = Hash{}
		}
		cl.UpdatedAt = c.Now()
		return nil
	})
}

// DeleteClient removes a client and revokes every token it holds.
func (c *Core) DeleteClient(ctx context.Context, p *Principal, sid int64, ref string) error {
	if _, err := c.service(ctx, p, sid, PermClientsWrite); err != nil {
		return err
	}
	cl, err := c.resolveClient(ctx, sid, ref)
	if err != nil {
		return err
	}
	defer c.cache.forgetClient(cl)
	defer c.tokens.changedService(sid)
	ctx = auditDetail(c.audited(ctx, actorOf(p), sid, AuditClientDelete, TargetClient, idString(cl.ID)), "", ClientReason)
	return c.store.DeleteClient(ctx, cl.ID, c.Now(), ClientReason)
}

// RotateClientSecret gives a confidential client a new secret; the old one
// stops working at once.
func (c *Core) RotateClientSecret(ctx context.Context, p *Principal, sid int64, ref string) (*Client, string, error) {
	if _, err := c.service(ctx, p, sid, PermClientsWrite); err != nil {
		return nil, "", err
	}
	cl, err := c.resolveClient(ctx, sid, ref)
	if err != nil {
		return nil, "", err
	}
	secret := NewSecret(KindClientSecret)
	defer c.cache.forgetClient(cl)
	ctx = c.audited(ctx, actorOf(p), sid, AuditClientRotateSecret, TargetClient, idString(cl.ID))
	cl, err = c.store.UpdateClient(ctx, cl.ID, func(cl *Client) error {
		if cl.Type != ClientConfidential {
			return Invalid("client", "a PUBLIC client has no secret")
		}
		cl.SecretHash = HashSecret(secret)
		cl.UpdatedAt = c.Now()
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return cl, secret, nil
}
