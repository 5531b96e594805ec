package client

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokend/tokend/wire"
)

// segment escapes a caller-supplied value (client reference, subject) for
// use as one path segment. Empty, "." and ".." are refused: a server's
// router cleans them away, which would silently aim the request at a
// different resource (DELETE …/clients/.. would reach the service).
func segment(field, v string) (string, error) {
	switch v {
	case "":
		return "", &Error{Code: CodeInvalid, Field: field, Message: field + " must not be empty"}
	case ".", "..":
		return "", &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf("%s %q cannot be named in a URL path", field, v)}
	}
	return url.PathEscape(v), nil
}

func servicePath(sid int64) string { return "/v1/services/" + strconv.FormatInt(sid, 10) }

func clientPath(sid int64, ref string) (string, error) {
	seg, err := segment("client", ref)
	if err != nil {
		return "", err
	}
	return servicePath(sid) + "/clients/" + seg, nil
}

// CreateService creates a service (a tenant) from in; in.Name is required.
func (c *Client) CreateService(ctx context.Context, in wire.ServiceInput) (*wire.Service, error) {
	var out wire.Service
	if err := c.do(ctx, http.MethodPost, "/v1/services", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListServices lists the services the key can see.
func (c *Client) ListServices(ctx context.Context) (*wire.ServiceList, error) {
	var out wire.ServiceList
	if err := c.do(ctx, http.MethodGet, "/v1/services", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetService returns service sid.
func (c *Client) GetService(ctx context.Context, sid int64) (*wire.Service, error) {
	var out wire.Service
	if err := c.do(ctx, http.MethodGet, servicePath(sid), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateService changes the fields of service sid that in sets (non-nil)
// and returns the result.
func (c *Client) UpdateService(ctx context.Context, sid int64, in wire.ServiceInput) (*wire.Service, error) {
	var out wire.Service
	if err := c.do(ctx, http.MethodPatch, servicePath(sid), nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteService deletes service sid with its clients, keys and tokens.
func (c *Client) DeleteService(ctx context.Context, sid int64) error {
	return c.do(ctx, http.MethodDelete, servicePath(sid), nil, nil, nil)
}

// ClientQuery pages a client list. Zero fields are left to the server.
type ClientQuery struct {
	PageSize  int
	PageToken string
}

func (q ClientQuery) values() url.Values {
	v := url.Values{}
	if q.PageSize > 0 {
		v.Set("page_size", strconv.Itoa(q.PageSize))
	}
	if q.PageToken != "" {
		v.Set("page_token", q.PageToken)
	}
	return v
}

// CreateClient registers an OAuth client in service sid. For confidential
// clients the result's ClientSecret is the only time the secret is shown.
func (c *Client) CreateClient(ctx context.Context, sid int64, in wire.ClientInput) (*wire.Client, error) {
	var out wire.Client
	if err := c.do(ctx, http.MethodPost, servicePath(sid)+"/clients", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListClients returns one page of service sid's clients; pass the result's
// NextPageToken in q.PageToken for the next, or use AllClients.
func (c *Client) ListClients(ctx context.Context, sid int64, q ClientQuery) (*wire.ClientList, error) {
	var out wire.ClientList
	if err := c.do(ctx, http.MethodGet, servicePath(sid)+"/clients", q.values(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllClients iterates over every client of service sid from q.PageToken on,
// fetching pages of q.PageSize as the loop goes. An error is yielded once,
// with a zero Client, and ends the iteration.
func (c *Client) AllClients(ctx context.Context, sid int64, q ClientQuery) iter.Seq2[wire.Client, error] {
	return func(yield func(wire.Client, error) bool) {
		for {
			page, err := c.ListClients(ctx, sid, q)
			if err != nil {
				yield(wire.Client{}, err)
				return
			}
			for _, cl := range page.Clients {
				if !yield(cl, nil) {
					return
				}
			}
			if page.NextPageToken == "" {
				return
			}
			if page.NextPageToken == q.PageToken {
				yield(wire.Client{}, errStuckPaging)
				return
			}
			q.PageToken = page.NextPageToken
		}
	}
}

// errStuckPaging stops an iterator that would otherwise loop forever on a
// server that hands back the page token it was given.
var errStuckPaging = errors.New("tokend: the server returned the same page token twice")

// GetClient returns the client of service sid that ref names: its numeric
// id or its client_id.
func (c *Client) GetClient(ctx context.Context, sid int64, ref string) (*wire.Client, error) {
	p, err := clientPath(sid, ref)
	if err != nil {
		return nil, err
	}
	var out wire.Client
	if err := c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateClient changes the fields that in sets (non-nil) on the client ref
// names; ClientID cannot be changed.
func (c *Client) UpdateClient(ctx context.Context, sid int64, ref string, in wire.ClientInput) (*wire.Client, error) {
	p, err := clientPath(sid, ref)
	if err != nil {
		return nil, err
	}
	var out wire.Client
	if err := c.do(ctx, http.MethodPatch, p, nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteClient deletes the client ref names.
func (c *Client) DeleteClient(ctx context.Context, sid int64, ref string) error {
	p, err := clientPath(sid, ref)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, p, nil, nil, nil)
}

// RotateClientSecret gives the client ref names a new secret, returned
// once in ClientSecret; the old secret stops working.
func (c *Client) RotateClientSecret(ctx context.Context, sid int64, ref string) (*wire.Client, error) {
	p, err := clientPath(sid, ref)
	if err != nil {
		return nil, err
	}
	var out wire.Client
	if err := c.do(ctx, http.MethodPost, p+"/secret", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateKey creates an organization management key; the result's Key is
// the only time the raw key is shown.
func (c *Client) CreateKey(ctx context.Context, in wire.KeyInput) (*wire.Key, error) {
	var out wire.Key
	if err := c.do(ctx, http.MethodPost, "/v1/keys", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListKeys lists the organization management keys.
func (c *Client) ListKeys(ctx context.Context) (*wire.KeyList, error) {
	var out wire.KeyList
	if err := c.do(ctx, http.MethodGet, "/v1/keys", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteKey deletes organization key kid.
func (c *Client) DeleteKey(ctx context.Context, kid int64) error {
	return c.do(ctx, http.MethodDelete, "/v1/keys/"+strconv.FormatInt(kid, 10), nil, nil, nil)
}

// CreateServiceKey creates a management key limited to service sid; the
// result's Key is the only time the raw key is shown.
func (c *Client) CreateServiceKey(ctx context.Context, sid int64, in wire.KeyInput) (*wire.Key, error) {
	var out wire.Key
	if err := c.do(ctx, http.MethodPost, servicePath(sid)+"/keys", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListServiceKeys lists the management keys of service sid.
func (c *Client) ListServiceKeys(ctx context.Context, sid int64) (*wire.KeyList, error) {
	var out wire.KeyList
	if err := c.do(ctx, http.MethodGet, servicePath(sid)+"/keys", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteServiceKey deletes key kid of service sid.
func (c *Client) DeleteServiceKey(ctx context.Context, sid, kid int64) error {
	return c.do(ctx, http.MethodDelete, servicePath(sid)+"/keys/"+strconv.FormatInt(kid, 10), nil, nil, nil)
}

// SubjectGrants lists the clients (apps) subject has live tokens with in
// service sid.
func (c *Client) SubjectGrants(ctx context.Context, sid int64, subject string) (*wire.GrantList, error) {
	seg, err := segment("subject", subject)
	if err != nil {
		return nil, err
	}
	var out wire.GrantList
	if err := c.do(ctx, http.MethodGet, servicePath(sid)+"/subjects/"+seg+"/grants", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeSubjectGrant revokes every token subject holds through the client
// ref names (numeric id or client_id): it disconnects one app.
func (c *Client) RevokeSubjectGrant(ctx context.Context, sid int64, subject, ref string) (*wire.RevokeResult, error) {
	sseg, err := segment("subject", subject)
	if err != nil {
		return nil, err
	}
	cseg, err := segment("client", ref)
	if err != nil {
		return nil, err
	}
	var out wire.RevokeResult
	if err := c.do(ctx, http.MethodDelete, servicePath(sid)+"/subjects/"+sseg+"/grants/"+cseg, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
