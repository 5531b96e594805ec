package oauth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
)

// form is a parsed request body: each parameter at most once, empty ones
// left out (RFC 6749 §3.2: "sent without a value MUST be treated as if
// they were omitted"). Unknown parameters are kept and ignored.
type form map[string]string

// readForm parses an OAuth request body; see httpx.ReadForm.
func readForm(w http.ResponseWriter, r *http.Request) (form, error) {
	values, err := httpx.ReadForm(w, r)
	return form(values), err
}

// Client authentication methods, as RFC 8414 names them.
const (
	methodBasic  = "client_secret_basic"
	methodPost   = "client_secret_post"
	methodNone   = "none"
	methodBearer = "bearer" // a management key, at the introspection endpoint only
)

// caller is who a request says it is.
type caller struct {
	method string // one of the methods above; "" when the request names no one
	cred   tokend.ClientCredentials
	key    string // the management key, for methodBearer
}

// errTwoMethods is RFC 6749 §2.3: "The client MUST NOT use more than one
// authentication method in each request."
func errTwoMethods(field string) error {
	return tokend.Invalid(field, "must not be sent together with an Authorization header: use one client authentication method")
}

// parseCaller finds the client credentials of a request: HTTP Basic
// (client_secret_basic), client_id and client_secret in the body
// (client_secret_post), or client_id alone (none, a public client). With
// allowBearer, "Authorization: Bearer <management key>" is accepted too.
//
// A Basic request may repeat its client_id in the body (several client
// libraries do); the two must then agree.
func parseCaller(r *http.Request, f form, allowBearer bool) (caller, error) {
	headers := r.Header.Values("Authorization")
	if len(headers) > 1 {
		return caller{}, tokend.Invalid("Authorization", "header appears more than once")
	}
	if len(headers) == 0 {
		switch id, secret := f["client_id"], f["client_secret"]; {
		case secret != "":
			return caller{method: methodPost, cred: tokend.ClientCredentials{ClientID: id, Secret: secret}}, nil
		case id != "":
			return caller{method: methodNone, cred: tokend.ClientCredentials{ClientID: id}}, nil
		default:
			return caller{}, nil
		}
	}
	scheme, rest, _ := strings.Cut(headers[0], " ")
	rest = strings.TrimSpace(rest)
	switch {
	case strings.EqualFold(scheme, "Basic"):
		if _, ok := f["client_secret"]; ok {
			return caller{}, errTwoMethods("client_secret")
		}
		cred, ok := decodeBasic(rest)
		if !ok {
			return caller{method: methodBasic}, tokend.Errorf(tokend.EUNAUTHORIZED, "malformed HTTP Basic credentials (RFC 6749 §2.3.1: base64 of form-url-encoded client_id:client_secret)")
		}
		if id, ok := f["client_id"]; ok && id != cred.ClientID {
			return caller{}, tokend.Invalid("client_id", "differs from the client_id of the HTTP Basic credentials")
		}
		return caller{method: methodBasic, cred: cred}, nil
	case strings.EqualFold(scheme, "Bearer") && allowBearer:
		if _, ok := f["client_secret"]; ok {
			return caller{}, errTwoMethods("client_secret")
		}
		if _, ok := f["client_id"]; ok {
			return caller{}, errTwoMethods("client_id")
		}
		return caller{method: methodBearer, key: rest}, nil
	default:
		return caller{}, tokend.Errorf(tokend.EUNAUTHORIZED, "unsupported Authorization scheme: use Basic with the client's credentials")
	}
}

// decodeBasic reads RFC 6749 §2.3.1 credentials: base64 of
// client_id ":" client_secret, where each part was form-url-encoded first
// (so a client_id may itself contain ':').
func decodeBasic(b64 string) (tokend.ClientCredentials, bool) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return tokend.ClientCredentials{}, false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return tokend.ClientCredentials{}, false
	}
	id, err1 := url.QueryUnescape(user)
	secret, err2 := url.QueryUnescape(pass)
	if err1 != nil || err2 != nil || id == "" {
		return tokend.ClientCredentials{}, false
	}
	return tokend.ClientCredentials{ClientID: id, Secret: secret}, true
}

// writeJSON writes v with the given status. Callers set caching headers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here, and they all marshal.
		body, status = []byte(`{"error":"server_error"}`), http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n')) // a failed write: the client left
}
