package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tokend/tokend/wire"
)

// The error codes the server uses in wire.Error.Error.
const (
	CodeInvalid      = "invalid"
	CodeInvalidGrant = "invalid_grant" // 400: a grant (code, refresh token, password) was refused
	CodeUnsupported  = "unsupported"   // 400: asks for something tokend or the service does not offer
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not_found"
	CodeConflict     = "conflict"
	CodeUnavailable  = "unavailable"
	CodeInternal     = "internal"
	CodeRateLimited  = "rate_limited" // 429: too many failed authentications; see RetryAfter
)

// Error is a failure the server (or something in front of it) answered
// with. Code is one of the Code… constants when the body was tokend's JSON
// error; for other bodies it is derived from the status, and Message holds
// the start of the body so a proxy's error page is still readable.
type Error struct {
	Status  int    // the HTTP status
	Code    string // a Code… constant, or "" when the status maps to none
	Message string // for people
	Field   string // the request field at fault, when there is one
	// RetryAfter is how long the server asked the caller to wait before
	// retrying (its Retry-After header, on 429 and 503); zero when it
	// said nothing.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("tokend: ")
	b.WriteString(e.Message)
	if e.Field != "" {
		fmt.Fprintf(&b, " (field: %s)", e.Field)
	}
	fmt.Fprintf(&b, " [%d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	b.WriteString("]")
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and friends match any *Error with
// the same Code, whatever its status, message or field.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// Sentinels for errors.Is; only their Code is compared.
var (
	ErrInvalid      = &Error{Code: CodeInvalid, Message: "invalid request"}
	ErrUnauthorized = &Error{Code: CodeUnauthorized, Message: "unauthorized"}
	ErrForbidden    = &Error{Code: CodeForbidden, Message: "forbidden"}
	ErrNotFound     = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict     = &Error{Code: CodeConflict, Message: "conflict"}
	ErrUnavailable  = &Error{Code: CodeUnavailable, Message: "unavailable"}
	ErrInternal     = &Error{Code: CodeInternal, Message: "internal error"}
	ErrInvalidGrant = &Error{Code: CodeInvalidGrant, Message: "invalid grant"}
	ErrUnsupported  = &Error{Code: CodeUnsupported, Message: "unsupported"}
	ErrRateLimited  = &Error{Code: CodeRateLimited, Message: "rate limited"}
)

// IsNotFound reports whether err is a not_found error from the server.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is a conflict error from the server.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsInvalid reports whether err says the request was invalid; the
// *Error's Field names the culprit.
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// IsUnauthorized reports whether the key was missing, unknown or expired.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsForbidden reports whether the key lacks the needed permission.
func IsForbidden(err error) bool { return errors.Is(err, ErrForbidden) }

// IsUnavailable reports whether the server (or a gateway) said it cannot
// serve right now; such calls may be retried.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// IsRateLimited reports whether the server refused the call for too many
// failed authentications from this address or with this credential; the
// *Error's RetryAfter says when to try again.
func IsRateLimited(err error) bool { return errors.Is(err, ErrRateLimited) }

// codeForStatus guesses a code for error bodies that are not tokend's
// JSON, such as a reverse proxy's HTML page, so the Is… helpers still work.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return CodeInvalid
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusConflict:
		return CodeConflict
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return CodeUnavailable
	case http.StatusTooManyRequests:
		return CodeRateLimited
	case http.StatusInternalServerError:
		return CodeInternal
	}
	return ""
}

// decodeError builds an *Error from a non-2xx response.
func decodeError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{Status: resp.StatusCode}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	var w wire.Error
	if json.Unmarshal(raw, &w) == nil && w.Error != "" {
		e.Code, e.Message, e.Field = w.Error, w.Message, w.Field
		if e.Message == "" {
			e.Message = w.Error
		}
		return e
	}
	e.Code = codeForStatus(resp.StatusCode)
	e.Message = resp.Status
	if e.Message == "" {
		e.Message = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	if snippet := bodySnippet(raw); snippet != "" {
		e.Message += ": " + snippet
	}
	return e
}

// bodySnippet returns the start of a foreign error body on one line, so a
// multi-line HTML page cannot garble a terminal or a log line.
func bodySnippet(raw []byte) string {
	const max = 200
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, string(raw))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		// Cut on a rune boundary.
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
