package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tokend/tokend"
)

// DefaultCallbackTimeout bounds one password check by a host application.
// The user is waiting on the token request, and a host that cannot answer
// in this time is better reported as unavailable than waited on.
const DefaultCallbackTimeout = 5 * time.Second

// maxCallbackResponse bounds what tokend reads of a host's answer.
const maxCallbackResponse = 64 << 10

// HTTPPasswordCallback is the tokend.PasswordCallback that asks a host
// application over HTTP: it POSTs {"username","password"} as JSON to the
// service's password_callback_url. The host answers 200 with
// {"subject", "account_id"?, "roles"?} to accept, 401 or 403 to reject;
// anything else, or no answer in time, makes the token endpoint answer
// 503 so the client retries rather than tells the user the password is
// wrong.
//
// The password is never logged, and redirects are not followed: a
// redirected POST would carry the password to wherever the redirect
// points.
type HTTPPasswordCallback struct {
	Client  *http.Client  // nil: http.DefaultTransport
	Timeout time.Duration // zero: DefaultCallbackTimeout
}

type callbackRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type callbackResponse struct {
	Subject   string   `json:"subject"`
	AccountID string   `json:"account_id"`
	Roles     []string `json:"roles"`
}

// VerifyPassword implements tokend.PasswordCallback.
func (h HTTPPasswordCallback) VerifyPassword(ctx context.Context, url, username, password string) (*tokend.VerifiedUser, error) {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultCallbackTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	client := http.Client{}
	if h.Client != nil {
		client = *h.Client // a copy, so the caller's client keeps its own redirect policy
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	body, err := json.Marshal(callbackRequest{Username: username, Password: password})
	if err != nil {
		return nil, unavailable(fmt.Errorf("encoding the request: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, unavailable(fmt.Errorf("building the request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		// net/http strips any password from the URL in this error.
		return nil, unavailable(err)
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, tokend.Errorf(tokend.EGRANT, "invalid username or password")
	default:
		return nil, unavailable(fmt.Errorf("the host answered %s", res.Status))
	}
	var out callbackResponse
	if err := json.NewDecoder(io.LimitReader(res.Body, maxCallbackResponse)).Decode(&out); err != nil {
		return nil, unavailable(fmt.Errorf("decoding the host's answer: %w", err))
	}
	// The core checks the subject, since every callback implementation
	// needs that check.
	return &tokend.VerifiedUser{Subject: out.Subject, AccountID: out.AccountID, Roles: out.Roles}, nil
}

// callbackError is an EUNAVAILABLE domain error that keeps its cause for
// the log (the adapter logs err.Error() under the request id) while the
// caller sees only the domain message.
type callbackError struct {
	domain *tokend.Error
	cause  error
}

func (e *callbackError) Error() string   { return e.domain.Error() + ": " + e.cause.Error() }
func (e *callbackError) Unwrap() []error { return []error{e.domain, e.cause} }

func unavailable(cause error) error {
	return &callbackError{domain: tokend.Errorf(tokend.EUNAVAILABLE, "the password callback could not be asked"), cause: cause}
}
