package client

import (
	"context"
	"iter"
	"net/http"

	"github.com/tokend/tokend/wire"
)

// CreateAuthorizationCode mints a one-time authorization code in service
// sid, for a host application that has authenticated the user and got
// consent; it then redirects the user agent to in.RedirectURI with the
// result's Code, which is shown only this once.
func (c *Client) CreateAuthorizationCode(ctx context.Context, sid int64, in wire.CodeInput) (*wire.Code, error) {
	var out wire.Code
	if err := c.do(ctx, http.MethodPost, servicePath(sid)+"/authorization-codes", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UserQuery pages a user list. Zero fields are left to the server.
type UserQuery struct {
	PageSize  int
	PageToken string
}

func userPath(sid int64, username string) (string, error) {
	seg, err := segment("username", username)
	if err != nil {
		return "", err
	}
	return servicePath(sid) + "/users/" + seg, nil
}

// CreateUser adds a user to service sid's built-in users table, which the
// password grant checks; in.Username and in.Password are required. The
// password is never shown again, not even hashed.
func (c *Client) CreateUser(ctx context.Context, sid int64, in wire.UserInput) (*wire.User, error) {
	var out wire.User
	if err := c.do(ctx, http.MethodPost, servicePath(sid)+"/users", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListUsers returns one page of service sid's users; pass the result's
// NextPageToken in q.PageToken for the next, or use AllUsers.
func (c *Client) ListUsers(ctx context.Context, sid int64, q UserQuery) (*wire.UserList, error) {
	var out wire.UserList
	vals := ClientQuery(q).values()
	if err := c.do(ctx, http.MethodGet, servicePath(sid)+"/users", vals, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllUsers iterates over every user of service sid from q.PageToken on,
// fetching pages of q.PageSize as the loop goes. An error is yielded once,
// with a zero User, and ends the iteration.
func (c *Client) AllUsers(ctx context.Context, sid int64, q UserQuery) iter.Seq2[wire.User, error] {
	return func(yield func(wire.User, error) bool) {
		for {
			page, err := c.ListUsers(ctx, sid, q)
			if err != nil {
				yield(wire.User{}, err)
				return
			}
			for _, u := range page.Users {
				if !yield(u, nil) {
					return
				}
			}
			if page.NextPageToken == "" {
				return
			}
			if page.NextPageToken == q.PageToken {
				yield(wire.User{}, errStuckPaging)
				return
			}
			q.PageToken = page.NextPageToken
		}
	}
}

// GetUser returns the user of service sid named username.
func (c *Client) GetUser(ctx context.Context, sid int64, username string) (*wire.User, error) {
	p, err := userPath(sid, username)
	if err != nil {
		return nil, err
	}
	var out wire.User
	if err := c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateUser changes the fields that in sets (non-nil) on the user named
// username: password, account or roles. The username cannot be changed.
func (c *Client) UpdateUser(ctx context.Context, sid int64, username string, in wire.UserInput) (*wire.User, error) {
	p, err := userPath(sid, username)
	if err != nil {
		return nil, err
	}
	var out wire.User
	if err := c.do(ctx, http.MethodPatch, p, nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteUser removes the user named username and revokes the tokens
// issued for them.
func (c *Client) DeleteUser(ctx context.Context, sid int64, username string) error {
	p, err := userPath(sid, username)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, p, nil, nil, nil)
}
