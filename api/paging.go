package api

import (
	"encoding/base64"
	"strconv"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
	"net/http"
)

// Client and user pages are ordered by id, so the last id is the whole
// cursor; it is encoded only so callers treat it as opaque.
func encodeIDCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

func decodeIDCursor(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if id, err := strconv.ParseInt(string(raw), 10, 64); err == nil && id > 0 && encodeIDCursor(id) == s {
			return id, nil
		}
	}
	return 0, tokend.Invalid("page_token", "is malformed: pass back next_page_token unchanged")
}

// idPage is the position and size an id-ordered list asks for.
type idPage struct {
	after int64
	size  int
}

// idPageQuery reads page_size and page_token. The size is checked here and
// not only by the core, because the core is asked for one more than it
// (see fetchIDPage): page_size=0 would otherwise pass as a request for 1.
func idPageQuery(r *http.Request) (idPage, error) {
	q, err := httpx.Query(r, "page_size", "page_token")
	if err != nil {
		return idPage{}, err
	}
	p := idPage{size: tokend.DefaultPageSize}
	if s, ok := q["page_size"]; ok {
		if p.size, err = strconv.Atoi(s); err != nil {
			return p, tokend.Invalid("page_size", "must be an integer")
		}
		if p.size < 1 || p.size > tokend.MaxPageSize {
			return p, tokend.Invalid("page_size", "must be between 1 and %d", tokend.MaxPageSize)
		}
	}
	if s, ok := q["page_token"]; ok {
		if p.after, err = decodeIDCursor(s); err != nil {
			return p, err
		}
	}
	return p, nil
}

// fetchIDPage returns up to p.size items after p.after and the token of
// the next page, "" when no item follows.
func fetchIDPage[T any](p idPage, list func(after int64, limit int) ([]T, bool, error), id func(T) int64) ([]T, string, error) {
	items, more, err := list(p.after, p.size)
	if err != nil || !more || len(items) == 0 {
		return items, "", err
	}
	return items, encodeIDCursor(id(items[len(items)-1])), nil
}
