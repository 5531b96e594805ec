package httpx

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/tokend/tokend"
)

// MaxFormBytes bounds a form body. OAuth-style requests are a few hundred
// bytes; the bound keeps a hostile client from making us buffer much.
const MaxFormBytes = 64 << 10

// ReadForm parses an application/x-www-form-urlencoded body as OAuth
// parameters (tokend.OAuthParameters: each at most once, an empty one
// treated as omitted, unknown ones kept for the caller to ignore).
// Parameters in the URL are refused: RFC 6749 puts them in the body, and a
// secret in a query string ends up in access logs.
func ReadForm(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	if r.URL.RawQuery != "" {
		return nil, tokend.Invalid("query", "must be empty: send parameters in an application/x-www-form-urlencoded body")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, tokend.Invalid("Content-Type", "must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxFormBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, tokend.Invalid("body", "is larger than %d bytes", MaxFormBytes)
	case err != nil:
		return nil, tokend.Invalid("body", "could not be read")
	}
	return tokend.OAuthParameters(string(body))
}
