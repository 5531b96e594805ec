package httpx

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend"
)

// Query parses the request's query string, allowing only the named
// parameters, each at most once. A misspelt filter that were ignored would
// widen a query (and a bulk operation) without anyone noticing, and a
// repeated one has no single meaning, so both are errors naming the
// parameter. The result maps each parameter given to its value.
func Query(r *http.Request, allowed ...string) (map[string]string, error) {
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, tokend.Invalid("query", "is not a valid URL query string")
	}
	var unknown []string
	out := make(map[string]string, len(values))
	for name, vs := range values {
		if !slices.Contains(allowed, name) {
			unknown = append(unknown, name)
			continue
		}
		if len(vs) > 1 {
			return nil, tokend.Invalid(name, "query parameter %q is given more than once", name)
		}
		out[name] = vs[0]
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		msg := "unknown query parameter %.40q"
		if len(allowed) > 0 {
			msg += " (known: " + strings.Join(allowed, ", ") + ")"
		} else {
			msg += " (this route takes none)"
		}
		if len(unknown) > 1 {
			return nil, tokend.Invalid(unknown[0], "unknown query parameters %.40q", unknown)
		}
		return nil, tokend.Invalid(unknown[0], msg, unknown[0])
	}
	return out, nil
}
