package tokend

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Error codes form a small closed set. Every surface (native API, OAuth
// endpoints, each dialect) maps them to its own status codes in one table.
const (
	EINVALID      = "invalid"       // the request is malformed or breaks a rule; Field names the culprit
	ENOTFOUND     = "not_found"     // the thing does not exist, or the caller may not know it exists
	ECONFLICT     = "conflict"      // a unique value (hash, client_id) is taken, or the state forbids the change
	EUNAUTHORIZED = "unauthorized"  // no, unknown or expired credentials
	EFORBIDDEN    = "forbidden"     // valid credentials without the needed permission
	EGRANT        = "invalid_grant" // a presented grant (code, refresh token, password) is invalid, expired, revoked or another client's
	EUNSUPPORTED  = "unsupported"   // the request asks for something tokend or the service does not offer (a grant type)
	EUNAVAILABLE  = "unavailable"   // the store cannot be reached; the caller may retry
	EINTERNAL     = "internal"      // anything else; its text is never shown to clients
)

// Error is the domain error. Message is written for the API caller and must
// never contain a secret.
type Error struct {
	Code    string
	Field   string // the request field at fault, when there is one
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("tokend: %s: %s: %s", e.Code, e.Field, redactSecrets(e.Message))
	}
	return fmt.Sprintf("tokend: %s: %s", e.Code, redactSecrets(e.Message))
}

// Errorf returns a domain error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports that field holds a bad value.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that the named thing does not exist (for this caller).
func NotFound(what string) *Error {
	return &Error{Code: ENOTFOUND, Message: what + " not found"}
}

// ErrorCode unwraps err and returns its domain code, EINTERNAL for foreign
// errors and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the caller-facing message of err; foreign errors are
// hidden behind a generic text so internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return redactSecrets(e.Message)
	}
	return "internal error"
}

// secretInText matches a tokend secret, or the start of one, inside text.
var secretInText = regexp.MustCompile(`tk[akrsc]_[0-9A-Za-z]{6,}`)

// redactSecrets hides the tokend secrets a message may quote from the
// caller's input (a client secret pasted into the scope parameter, a
// token given as a grant type): an error answer ends up in clients' and
// proxies' logs, and must not carry the secret there. Only the prefix,
// which tells what kind of value it was, is kept.
func redactSecrets(s string) string {
	if !strings.Contains(s, "tk") {
		return s
	}
	return secretInText.ReplaceAllStringFunc(s, func(m string) string { return m[:4] + "…" })
}

// ErrorField returns the field at fault in err, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
