package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tokend/tokend/wire"
)

// TokenQuery filters, orders and pages a token list. Zero fields are not
// sent, which leaves the server's defaults: only active tokens, ordered by
// created_at, a server-chosen page size.
//
// There is deliberately no field for a token value or hash: those would
// land in URLs and access logs. Use LookupToken or RevokeTokens instead.
type TokenQuery struct {
	Subject   string
	Client    string // numeric id or client_id
	GrantType string // e.g. AUTHORIZATION_CODE
	Scope     string // tokens carrying this scope
	AccountID string
	Role      string
	Status    string // active, expired, revoked or all

	CreatedAfter  time.Time // exclusive
	CreatedBefore time.Time // exclusive

	OrderBy string // created_at, expires_at or last_refreshed_at
	Order   string // asc or desc

	PageSize  int
	PageToken string // from a previous page's NextPageToken
	Offset    int    // offset paging, instead of PageToken
}

// timeParam is the wire spelling of a time: RFC 3339, UTC, milliseconds.
const timeParam = "2006-01-02T15:04:05.000Z07:00"

// Values returns the query string parameters q stands for.
func (q TokenQuery) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("subject", q.Subject)
	set("client", q.Client)
	set("grant_type", q.GrantType)
	set("scope", q.Scope)
	set("account_id", q.AccountID)
	set("role", q.Role)
	set("status", q.Status)
	if !q.CreatedAfter.IsZero() {
		v.Set("created_after", q.CreatedAfter.UTC().Format(timeParam))
	}
	if !q.CreatedBefore.IsZero() {
		v.Set("created_before", q.CreatedBefore.UTC().Format(timeParam))
	}
	set("order_by", q.OrderBy)
	set("order", q.Order)
	if q.PageSize > 0 {
		v.Set("page_size", strconv.Itoa(q.PageSize))
	}
	set("page_token", q.PageToken)
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	return v
}

func tokenPath(sid, id int64) string {
	return servicePath(sid) + "/tokens/" + strconv.FormatInt(id, 10)
}

// ListTokens returns one page of service sid's tokens matching q, with the
// total count of matches. Pass NextPageToken back in q.PageToken for the
// next page, or use AllTokens.
func (c *Client) ListTokens(ctx context.Context, sid int64, q TokenQuery) (*wire.TokenList, error) {
	var out wire.TokenList
	if err := c.do(ctx, http.MethodGet, servicePath(sid)+"/tokens", q.Values(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllTokens iterates over every token of service sid matching q, fetching
// pages as the loop goes. q.Offset, if set, applies to the first page only;
// later pages follow the server's cursor. An error is yielded once, with a
// zero Token, and ends the iteration.
func (c *Client) AllTokens(ctx context.Context, sid int64, q TokenQuery) iter.Seq2[wire.Token, error] {
	return func(yield func(wire.Token, error) bool) {
		for {
			page, err := c.ListTokens(ctx, sid, q)
			if err != nil {
				yield(wire.Token{}, err)
				return
			}
			for _, t := range page.Tokens {
				if !yield(t, nil) {
					return
				}
			}
			if page.NextPageToken == "" {
				return
			}
			if page.NextPageToken == q.PageToken {
				yield(wire.Token{}, errStuckPaging)
				return
			}
			// The server refuses offset together with a cursor.
			q.PageToken, q.Offset = page.NextPageToken, 0
		}
	}
}

// CreateToken issues a token in service sid without an OAuth flow (for
// migrations, tests and trusted back ends). The result carries the raw
// AccessToken and RefreshToken: the only time they are shown.
func (c *Client) CreateToken(ctx context.Context, sid int64, in wire.TokenInput) (*wire.Token, error) {
	var out wire.Token
	if err := c.do(ctx, http.MethodPost, servicePath(sid)+"/tokens", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetToken returns token id of service sid (hashes, not values).
func (c *Client) GetToken(ctx context.Context, sid, id int64) (*wire.Token, error) {
	var out wire.Token
	if err := c.do(ctx, http.MethodGet, tokenPath(sid, id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateToken changes the fields of token id that in sets. With
// in.NewAccessToken the result carries the new raw AccessToken, once.
func (c *Client) UpdateToken(ctx context.Context, sid, id int64, in wire.TokenUpdate) (*wire.Token, error) {
	var out wire.Token
	if err := c.do(ctx, http.MethodPatch, tokenPath(sid, id), nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteToken removes token id of service sid outright; RevokeToken keeps
// the record for audit.
func (c *Client) DeleteToken(ctx context.Context, sid, id int64) error {
	return c.do(ctx, http.MethodDelete, tokenPath(sid, id), nil, nil, nil)
}

// LookupToken finds a token of service sid by its raw value or its hash,
// sent in the request body.
func (c *Client) LookupToken(ctx context.Context, sid int64, in wire.TokenLookup) (*wire.Token, error) {
	var out wire.Token
	if err := c.do(ctx, http.MethodPost, servicePath(sid)+"/tokens/lookup", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeToken revokes token id of service sid; in.Reason, when set, is
// kept with the token for audit.
func (c *Client) RevokeToken(ctx context.Context, sid, id int64, in wire.RevokeReason) (*wire.RevokeResult, error) {
	var out wire.RevokeResult
	if err := c.do(ctx, http.MethodPost, tokenPath(sid, id)+"/revoke", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeTokens revokes the tokens of service sid that in names: one token
// (by id, value or hash), or all of a client's and/or a subject's.
func (c *Client) RevokeTokens(ctx context.Context, sid int64, in wire.RevokeRequest) (*wire.RevokeResult, error) {
	var out wire.RevokeResult
	if err := c.do(ctx, http.MethodPost, servicePath(sid)+"/tokens/revoke", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
