// Package client is a typed Go client for tokend's native management API
// (/v1). Requests and responses are the shapes of package wire, so a
// program using this package sees exactly what the server sends.
//
// Every method takes a context that bounds the whole call, including
// reading the response. Failures the server reports come back as *Error;
// use errors.Is with the sentinels (ErrNotFound, …) or the Is… helpers to
// branch on them.
//
// Token values and hashes travel only in request bodies, never in a URL,
// so they cannot end up in proxy or server access logs.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokend/tokend/wire"
)

// Client talks to one tokend server with one management key. It is safe
// for concurrent use.
type Client struct {
	base string // scheme://host[/prefix], without a trailing slash
	key  string
	hc   *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests through hc, for
// custom transports, TLS settings, proxies or timeouts. A nil hc is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// New returns a Client for the server at baseURL (for example
// "https://tokend.example.com", optionally with a path prefix when the
// server sits behind a reverse proxy) that authenticates with the
// management key key. A malformed baseURL is reported by the first call.
func New(baseURL, key string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), key: key, hc: http.DefaultClient}
	for _, o := range opts {
		o(c)
	}
	return c
}

// maxErrorBody bounds how much of an error response is read: error bodies
// are small JSON documents, and a misbehaving proxy must not make the
// client buffer an arbitrary page.
const maxErrorBody = 64 << 10

// do sends one request and decodes a successful JSON response into out
// (which may be nil). path must already be escaped.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("tokend: encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("tokend: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("tokend: %w", err)
	}
	defer func() {
		// Draining lets the transport reuse the connection.
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("tokend: reading response: %w", ctxErr)
		}
		return fmt.Errorf("tokend: decoding %s %s response (status %d): %w", method, path, resp.StatusCode, err)
	}
	return nil
}

// Ready reports whether the server can serve (GET /readyz): nil when its
// store answers and has every migration, an *Error with CodeUnavailable
// otherwise. It needs no key.
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil, nil)
}

// Health reports whether the server is up (GET /healthz). It needs no key.
func (c *Client) Health(ctx context.Context) (*wire.Health, error) {
	var out wire.Health
	if err := c.do(ctx, http.MethodGet, "/healthz", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
