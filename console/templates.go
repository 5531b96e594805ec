package console

import (
	"encoding/json"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/tokend/tokend"
)

// mustParsePages parses each page template together with the layout and
// the blocks pages share (partials.html), so that every page defines its
// own "content" block.
func mustParsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		pages[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", name))
	}
	return pages
}

// timeFormat shows instants in UTC to the second, the way an operator
// compares them with logs.
const timeFormat = "2006-01-02 15:04:05 UTC"

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(timeFormat)
	},
	// inputTime is the value of an <input type="datetime-local">.
	"inputTime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04:05")
	},
	"hash": func(h tokend.Hash) string {
		if h.IsZero() {
			return ""
		}
		return h.String()
	},
	"join": func(s []string) string { return strings.Join(s, " ") },
	"list": func(s ...string) []string { return s },
	"grants": func(gs []tokend.GrantType) string {
		out := make([]string, len(gs))
		for i, g := range gs {
			out[i] = string(g)
		}
		return strings.Join(out, " ")
	},
	// pretty indents authorization details for reading.
	"pretty": func(raw json.RawMessage) string {
		var v any
		if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
			return string(raw)
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return string(raw)
		}
		return string(b)
	},
	"contains": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
}
