package tokend

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a request may carry; they keep rows small and bound work.
const (
	MaxSubjectLen     = 100
	MaxNameLen        = 200
	MaxTextLen        = 2000
	MaxScopes         = 100
	MaxScopeLen       = 200
	MaxRoles          = 50
	MaxRoleLen        = 100
	MaxProperties     = 100
	MaxPropertyKeyLen = 100
	MaxPropertyValLen = 4096
	MaxListLen        = 100 // redirect URIs, resources, grant types
	MaxURLLen         = 2000
	MaxAuthzDetails   = 16 * 1024
	MaxThumbprintLen  = 128
	MaxPageSize       = 1000
	DefaultPageSize   = 50
)

// validSubject checks an end-user identifier: printable ASCII, bounded.
func validSubject(field, s string) error {
	if s == "" {
		return Invalid(field, "must not be empty")
	}
	if len(s) > MaxSubjectLen {
		return Invalid(field, "must be at most %d characters", MaxSubjectLen)
	}
	if s == "." || s == ".." {
		return Invalid(field, "must not be %q: it cannot be named in a URL path", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return Invalid(field, "must be printable ASCII")
		}
	}
	return nil
}

// validIdent checks an opaque identifier such as an account id or a role:
// printable ASCII without spaces, bounded.
func validIdent(field, s string, max int) error {
	if s == "" {
		return Invalid(field, "must not be empty")
	}
	if len(s) > max {
		return Invalid(field, "must be at most %d characters", max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] > 0x7e {
			return Invalid(field, "must be printable ASCII without spaces")
		}
	}
	return nil
}

// validScopeToken checks RFC 6749 §3.3's scope-token syntax.
func validScopeToken(field, s string) error {
	if s == "" {
		return Invalid(field, "must not contain an empty scope")
	}
	if len(s) > MaxScopeLen {
		return Invalid(field, "scope %.40q is longer than %d characters", s, MaxScopeLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return Invalid(field, "scope %.40q has a character RFC 6749 forbids", s)
		}
	}
	return nil
}

// normScopes validates a scope list, removes duplicates and keeps the order.
func normScopes(field string, scopes []string) ([]string, error) {
	if len(scopes) > MaxScopes {
		return nil, Invalid(field, "must hold at most %d scopes", MaxScopes)
	}
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if err := validScopeToken(field, s); err != nil {
			return nil, err
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// scopesWithin checks that every scope is in allowed, naming the first that is not.
func scopesWithin(field string, scopes, allowed []string, whose string) error {
	for _, s := range scopes {
		if !slices.Contains(allowed, s) {
			return Invalid(field, "scope %q is not in the %s", s, whose)
		}
	}
	return nil
}

func validText(field, s string, max int) error {
	if len(s) > max {
		return Invalid(field, "must be at most %d characters", max)
	}
	if !utf8.ValidString(s) {
		return Invalid(field, "must be valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' {
			return Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

func validName(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return Invalid(field, "is required")
	}
	return validText(field, s, MaxNameLen)
}

// validURL checks an absolute http(s) URL; redirect URIs may not carry a
// fragment (RFC 6749 §3.1.2) and custom schemes are allowed for native apps.
func validURL(field, s string, redirect bool) error {
	if len(s) > MaxURLLen {
		return Invalid(field, "must be at most %d characters", MaxURLLen)
	}
	if strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return Invalid(field, "%.80q must not contain spaces or control characters", s)
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return Invalid(field, "%.80q is not an absolute URL", s)
	}
	if redirect {
		if u.Fragment != "" || strings.Contains(s, "#") {
			return Invalid(field, "%.80q must not have a fragment", s)
		}
		return nil
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return Invalid(field, "%.80q must be an http or https URL", s)
	}
	return nil
}

func validURLs(field string, urls []string, redirect bool) ([]string, error) {
	if len(urls) > MaxListLen {
		return nil, Invalid(field, "must hold at most %d entries", MaxListLen)
	}
	out := make([]string, 0, len(urls))
	for _, u := range urls {
		if err := validURL(field, u, redirect); err != nil {
			return nil, err
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

func validGrantTypes(field string, gs []GrantType) ([]GrantType, error) {
	out := make([]GrantType, 0, len(gs))
	for _, g := range gs {
		if !g.Valid() {
			return nil, Invalid(field, "unknown grant type %.40q (known: %s)", g, joinGrants(GrantTypes))
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

func joinGrants(gs []GrantType) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = string(g)
	}
	return strings.Join(s, ", ")
}

func validRoles(field string, roles []string) ([]string, error) {
	if len(roles) > MaxRoles {
		return nil, Invalid(field, "must hold at most %d roles", MaxRoles)
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if err := validIdent(field, r, MaxRoleLen); err != nil {
			return nil, err
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func validProperties(field string, props []Property) ([]Property, error) {
	if len(props) > MaxProperties {
		return nil, Invalid(field, "must hold at most %d properties", MaxProperties)
	}
	seen := make(map[string]bool, len(props))
	for _, p := range props {
		if p.Key == "" {
			return nil, Invalid(field, "a property has an empty key")
		}
		if err := validText(field, p.Key, MaxPropertyKeyLen); err != nil {
			return nil, Invalid(field, "property key %.40q must be at most %d characters of text", p.Key, MaxPropertyKeyLen)
		}
		if err := validText(field, p.Value, MaxPropertyValLen); err != nil {
			return nil, Invalid(field, "property %.40q: value must be at most %d characters of text", p.Key, MaxPropertyValLen)
		}
		if seen[p.Key] {
			return nil, Invalid(field, "property key %.40q appears twice", p.Key)
		}
		seen[p.Key] = true
	}
	if len(props) == 0 {
		return nil, nil
	}
	return slices.Clone(props), nil
}

func validDuration(field string, d time.Duration) error {
	if d < 0 {
		return Invalid(field, "must not be negative")
	}
	if d > MaxTokenTTL {
		return Invalid(field, "must be at most 100 years")
	}
	return nil
}

func validThumbprint(field, s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxThumbprintLen {
		return Invalid(field, "must be at most %d characters", MaxThumbprintLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
			return Invalid(field, "must be a base64url thumbprint")
		}
	}
	return nil
}

func validAuthorizationDetails(field string, raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if len(raw) > MaxAuthzDetails {
		return nil, Invalid(field, "must be at most %d bytes", MaxAuthzDetails)
	}
	// RFC 9396: an array of objects, each with a "type" string.
	var details []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &details); err != nil {
		return nil, Invalid(field, "must be a JSON array of objects (RFC 9396)")
	}
	for i, d := range details {
		var typ string
		if err := json.Unmarshal(d["type"], &typ); err != nil || typ == "" {
			return nil, Invalid(field, "entry %d needs a \"type\" string (RFC 9396)", i)
		}
	}
	compact, err := json.Marshal(details)
	if err != nil {
		return nil, Invalid(field, "must be valid JSON")
	}
	return compact, nil
}
