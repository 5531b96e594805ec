package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tokend/tokend/openapi"
	"github.com/tokend/tokend/wire"
)

// The OpenAPI documents cannot drift from the server: every route the real
// server registers is documented, every documented operation is served
// (the mux routes it to that very pattern and it answers neither 404 from
// the mux nor 405), and the native document's schemas have exactly the
// fields of the wire types the API sends and takes.

// undocumented are the routes no OpenAPI document describes, and why.
var undocumented = []struct {
	prefix, why string
}{
	{"GET /{$}", "redirects a browser to the console"},
	{"GET /console/", "the web console's HTML pages"},
	{"POST /console/", "the web console's forms"},
}

func isUndocumented(pattern string) bool {
	return slices.ContainsFunc(undocumented, func(u struct{ prefix, why string }) bool { return strings.HasPrefix(pattern, u.prefix) })
}

type operation struct {
	doc, method, path string
}

// pattern is the ServeMux pattern an OpenAPI path stands for: a trailing
// {name} of the document is the mux's multi-segment {name...} when the
// mux has it so (OpenAPI has no such parameter).
func (o operation) pattern() string { return strings.ToUpper(o.method) + " " + o.path }

var wildcard = regexp.MustCompile(`\{([^}]+?)(\.\.\.)?\}`)

// normalize writes a mux pattern as OpenAPI writes its path.
func normalize(pattern string) string { return wildcard.ReplaceAllString(pattern, "{$1}") }

func loadDocument(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, ok := openapi.Document(name)
	if !ok {
		t.Fatalf("no embedded document %s", name)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

// checkStructure checks what makes a document usable by OpenAPI tools: the
// version, unique operation ids, a response for every operation, path
// parameters declared as the path names them, and every $ref resolving.
func checkStructure(t *testing.T, name string, doc map[string]any) []operation {
	t.Helper()
	if doc["openapi"] != "3.1.0" {
		t.Errorf("%s: openapi = %v, want 3.1.0", name, doc["openapi"])
	}
	if info, _ := doc["info"].(map[string]any); info["title"] == nil || info["version"] == nil {
		t.Errorf("%s: info needs a title and a version", name)
	}
	var refs []string
	var collect func(v any)
	collect = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				refs = append(refs, r)
			}
			for _, x := range v {
				collect(x)
			}
		case []any:
			for _, x := range v {
				collect(x)
			}
		}
	}
	collect(doc)
	schemas, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, r := range refs {
		if _, ok := schemas[strings.TrimPrefix(r, "#/components/schemas/")]; !strings.HasPrefix(r, "#/components/schemas/") || !ok {
			t.Errorf("%s: $ref %s resolves to nothing", name, r)
		}
	}
	ids := map[string]bool{}
	var ops []operation
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s: %s %s: operationId %q missing or used twice", name, method, path, id)
			}
			ids[id] = true
			if resp, _ := op["responses"].(map[string]any); len(resp) == 0 {
				t.Errorf("%s: %s %s has no responses", name, method, path)
			}
			var declared []string
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				if p := p.(map[string]any); p["in"] == "path" {
					declared = append(declared, p["name"].(string))
				}
			}
			var inPath []string
			for _, m := range wildcard.FindAllStringSubmatch(path, -1) {
				inPath = append(inPath, m[1])
			}
			sort.Strings(declared)
			sort.Strings(inPath)
			if !slices.Equal(declared, inPath) {
				t.Errorf("%s: %s %s declares path parameters %v, the path has %v", name, method, path, declared, inPath)
			}
			ops = append(ops, operation{doc: name, method: method, path: path})
		}
	}
	return ops
}

// sample fills a path's parameters with values that reach the handler.
func sample(path string) string {
	return wildcard.ReplaceAllStringFunc(path, func(m string) string {
		switch m {
		case "{path}":
			return "oauth/1"
		case "{document}":
			return "passport.json"
		case "{sid}", "{id}", "{kid}", "{serviceId}", "{token_id}", "{clientId}":
			return "1"
		}
		return "x"
	})
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, _ := MustServe(t, filepath.Join(t.TempDir(), "o.db"), nil)
	var ops []operation
	for _, name := range append([]string{openapi.Native}, openapi.Dialects...) {
		ops = append(ops, checkStructure(t, name, loadDocument(t, name))...)
	}
	documented := map[string]operation{}
	for _, o := range ops {
		if prev, ok := documented[o.pattern()]; ok {
			t.Errorf("%s is documented in %s and in %s", o.pattern(), prev.doc, o.doc)
		}
		documented[o.pattern()] = o
	}

	routes := muxPatterns(s.mux)
	if len(routes) < 50 {
		t.Fatalf("found %d routes in the server's mux; the walk of its routing tree must have failed", len(routes))
	}
	t.Run("OKEveryRouteDocumented", func(t *testing.T) {
		for _, p := range routes {
			if isUndocumented(p) {
				continue
			}
			if _, ok := documented[normalize(p)]; !ok {
				t.Errorf("route %q is in no OpenAPI document (openapi/*.json)", p)
			}
		}
	})
	t.Run("OKEveryDocumentedRouteAnswers", func(t *testing.T) {
		real := map[string]string{}
		for _, p := range routes {
			real[normalize(p)] = p
		}
		for _, o := range ops {
			want, ok := real[o.pattern()]
			if !ok {
				t.Errorf("%s documents %s, which the server does not register", o.doc, o.pattern())
				continue
			}
			req, _ := http.NewRequest(strings.ToUpper(o.method), s.url+sample(o.path), nil)
			if _, got := s.mux.Handler(req); got != want {
				t.Errorf("%s %s goes to route %q, want %q", req.Method, req.URL.Path, got, want)
				continue
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusMethodNotAllowed || (resp.StatusCode == http.StatusNotFound && string(body) == "404 page not found\n") {
				t.Errorf("%s %s (documented in %s) answered %d %s", req.Method, req.URL.Path, o.doc, resp.StatusCode, body)
			}
		}
	})
	t.Run("OKServed", func(t *testing.T) {
		for path, want := range map[string]string{"/openapi.json": openapi.Native, "/openapi/authlete.json": "authlete.json",
			"/openapi/passport.json": "passport.json", "/openapi/kustvakt.json": "kustvakt.json"} {
			code, body := httpGet(t, s.url+path)
			raw, _ := openapi.Document(want)
			if code != 200 || body != string(raw) {
				t.Errorf("GET %s: %d, want the embedded %s", path, code, want)
			}
		}
		if code, _ := httpGet(t, s.url+"/openapi/nope.json"); code != 404 {
			t.Errorf("unknown document: %d", code)
		}
	})
}

// TestOpenAPISchemasMatchWire: each schema of the native document that
// names a wire type has exactly that type's JSON fields, so a field added
// to the API cannot be left out of the document.
func TestOpenAPISchemasMatchWire(t *testing.T) {
	schemas := loadDocument(t, openapi.Native)["components"].(map[string]any)["schemas"].(map[string]any)
	types := []any{wire.Error{}, wire.RefreshPolicy{}, wire.Service{}, wire.ServiceInput{}, wire.ServiceList{}, wire.Client{},
		wire.ClientInput{}, wire.ClientList{}, wire.Key{}, wire.KeyInput{}, wire.KeyList{}, wire.Property{}, wire.Token{},
		wire.TokenInput{}, wire.TokenUpdate{}, wire.TokenList{}, wire.TokenLookup{}, wire.RevokeRequest{}, wire.RevokeReason{},
		wire.RevokeResult{}, wire.Grant{}, wire.GrantList{}, wire.CodeInput{}, wire.Code{}, wire.User{}, wire.UserInput{},
		wire.UserList{}, wire.Health{}, wire.AuditEntry{}, wire.AuditList{}}
	for _, v := range types {
		typ := reflect.TypeOf(v)
		t.Run(typ.Name(), func(t *testing.T) {
			s, ok := schemas[typ.Name()].(map[string]any)
			if !ok {
				t.Fatalf("no schema %s in %s", typ.Name(), openapi.Native)
			}
			var want, got []string
			for i := range typ.NumField() {
				name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
				if name != "" && name != "-" {
					want = append(want, name)
				}
			}
			for name := range s["properties"].(map[string]any) {
				got = append(got, name)
			}
			sort.Strings(want)
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Fatalf("schema %s has %v; wire.%s has %v", typ.Name(), got, typ.Name(), want)
			}
		})
	}

}
