package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend"
)

// MaxBodyBytes bounds a request body. Nothing tokend accepts comes near it;
// the bound keeps a hostile client from making us buffer without limit.
const MaxBodyBytes = 1 << 20

// DecodeJSON reads the request body, which must be exactly one JSON value,
// into v. Fields v does not know, or knows under another spelling, are
// rejected rather than ignored: a misspelt field silently dropped would
// change what a request means. Every failure is a *tokend.Error with code
// EINVALID naming the field at fault ("body" when no field is).
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	present, err := DecodeOptionalJSON(w, r, v)
	if err == nil && !present {
		return tokend.Invalid("body", "is empty: send a JSON object")
	}
	return err
}

// DecodeOptionalJSON is DecodeJSON for a request whose body may be left
// out; it reports whether there was one.
func DecodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) (bool, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return true, tokend.Invalid("body", "is larger than %d bytes", MaxBodyBytes)
	case err != nil:
		return true, tokend.Invalid("body", "could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return false, nil
	}
	return true, decode(body, v)
}

// DecodeBytes decodes one JSON value already read (an element of a JSON
// array, say) under DecodeJSON's rules.
func DecodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return tokend.Invalid("body", "is empty: send a JSON object")
	}
	return decode(body, v)
}

func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, body, v)
	}
	if _, err := dec.Token(); err != io.EOF {
		return tokend.Invalid("body", "must hold a single JSON value: more follows at offset %d", dec.InputOffset())
	}
	return checkKeys(body, v)
}

func decodeError(err error, body []byte, v any) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		// Offset counts the bytes read up to and including the bad one;
		// report the bad byte's own zero-based position.
		return tokend.Invalid("body", "malformed JSON at offset %d: %s", max(syntax.Offset-1, 0), syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return tokend.Invalid("body", "malformed JSON at offset %d: unexpected end of input", len(body))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return tokend.Invalid("body", "must be %s, not %s", describe(typ.Type), typ.Value)
		}
		return tokend.Invalid(typ.Field, "must be %s, not %s", describe(typ.Type), typ.Value)
	}
	// encoding/json has no type for this error, only this text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, uerr := strconv.Unquote(name); uerr == nil {
			name = unq
		}
		return tokend.Invalid(name, "unknown field %q", name)
	}
	// A value's own UnmarshalJSON failed (a time, say); the error does not
	// say where, so find the field by decoding fields one at a time.
	field := failingField(body, v)
	var perr *time.ParseError
	if errors.As(err, &perr) {
		return tokend.Invalid(field, "must be an RFC 3339 time")
	}
	return tokend.Invalid(field, "has an invalid value")
}

// describe names a Go type in JSON terms for error messages.
func describe(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

// fields maps the JSON names of the struct v points to onto their types;
// nil when v is not a pointer to a struct.
func fields(v any) map[string]reflect.Type {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	t = t.Elem()
	out := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func failingField(body []byte, v any) string {
	types := fields(v)
	var obj map[string]json.RawMessage
	if types == nil || json.Unmarshal(body, &obj) != nil {
		return "body"
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t, ok := types[k]
		if !ok {
			continue
		}
		if json.Unmarshal(obj[k], reflect.New(t).Interface()) != nil {
			return k
		}
	}
	return "body"
}

// checkKeys closes two gaps encoding/json leaves at the top level of an
// object: it matches names case-insensitively ("Scopes" fills "scopes") and
// lets a repeated name silently overwrite the first.
func checkKeys(body []byte, v any) error {
	types := fields(v)
	if types == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil // null: nothing to check
	}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return tokend.Invalid("body", "malformed JSON at offset %d", dec.InputOffset())
		}
		key, _ := tok.(string)
		if _, ok := types[key]; !ok {
			return tokend.Invalid(key, "unknown field %q (names are case-sensitive)", key)
		}
		if seen[key] {
			return tokend.Invalid(key, "appears more than once")
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return tokend.Invalid("body", "malformed JSON at offset %d", dec.InputOffset())
		}
	}
	return nil
}

// JSONAppender is a value that encodes itself as JSON faster than
// encoding/json, with the same bytes: the large answers of hot routes.
type JSONAppender interface {
	AppendJSON([]byte) []byte
}

// WriteJSON writes v as the JSON response with the given status. Responses
// may carry secrets shown once (tokens, keys, client secrets), so no cache
// may keep them.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	var body []byte
	if a, ok := v.(JSONAppender); ok {
		body = a.AppendJSON(make([]byte, 0, 1024))
	} else {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return fmt.Errorf("httpx: encoding %T: %w", v, err)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// A failed write means the client went away; there is no one to tell.
	_, _ = w.Write(append(body, '\n'))
	return nil
}
