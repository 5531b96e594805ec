// Package openapi serves tokend's OpenAPI 3.1 documents: one for the
// native API (/v1, the OAuth endpoints, health and metrics) at
// /openapi.json, and one per dialect at /openapi/{name}.json. They are JSON
// files embedded in the binary; a test in cmd/tokend checks them against
// the server's real routes, so that a route cannot be added, removed or
// renamed without its document following.
package openapi

import (
	"embed"
	"net/http"
	"slices"
)

//go:embed *.json
var files embed.FS

// Native is the native API's document; Dialects are the others, by the
// name they are served under.
const Native = "tokend.json"

var Dialects = []string{"authlete.json", "passport.json", "kustvakt.json"}

// Document returns the embedded document of that name (Native or one of
// Dialects).
func Document(name string) ([]byte, bool) {
	if name != Native && !slices.Contains(Dialects, name) {
		return nil, false
	}
	b, err := files.ReadFile(name)
	return b, err == nil
}

// Register serves the documents on mux.
func Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) { serve(w, Native) })
	mux.HandleFunc("GET /openapi/{document}", func(w http.ResponseWriter, r *http.Request) { serve(w, r.PathValue("document")) })
}

func serve(w http.ResponseWriter, name string) {
	b, ok := Document(name)
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"not_found","message":"no such document: /openapi.json, /openapi/authlete.json, /openapi/passport.json and /openapi/kustvakt.json exist"}` + "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}
