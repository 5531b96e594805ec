package wire

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// sameAsEncodingJSON fails unless AppendJSON writes exactly what
// encoding/json writes for v.
func sameAsEncodingJSON(t *testing.T, v interface{ AppendJSON([]byte) []byte }) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON differs from encoding/json:\n got %s\nwant %s", got, want)
	}
}

var awkwardStrings = []string{
	"", "alice", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "é ü 漢字 🎉", "\u2028\u2029", "bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate", "a\u00a0b",
}

func TestTokenAppendJSONMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2026, 11, 22, 17, 4, 5, 123_000_000, time.UTC)
	whole := ts.Truncate(time.Second)
	in := int64(3599)
	full := Token{
		ID: 1 << 52, ServiceID: 7, Client: 9007199254740991, Subject: "john", GrantType: "authorization_code",
		Status: "active", AccessTokenHash: "x3o-_Abc", RefreshTokenHash: "r-_", AccessToken: "tka_1", RefreshToken: "tkr_2",
		TokenType: "DPoP", Scopes: []string{"openid", "profile"}, RefreshScopes: []string{"openid"},
		CreatedAt: ts, ExpiresAt: &whole, ExpiresIn: &in, RefreshTokenExpiresAt: &ts, LastRefreshedAt: &ts,
		RevokedAt: &ts, RevokedReason: "user", Persistent: true,
		Properties: []Property{{Key: "k", Value: "v"}, {Key: "h<", Value: "&", Hidden: true}},
		AccountID:  "acct", Roles: []string{"admin"}, AuthTime: &ts, ACR: "urn:acr", SessionID: "s1",
		Resources: []string{"https://api.example/"}, CertThumbprint: "x5t", DPoPKeyThumbprint: "jkt",
		AuthorizationDetails: json.RawMessage(` [ {"type" : "payment", "note":"<b>"} ] `), GrantID: -3,
	}
	// A field added to Token must be set in full, so that the comparison
	// below covers it (and fails until AppendJSON writes it).
	fv := reflect.ValueOf(full)
	for i := range fv.NumField() {
		if fv.Field(i).IsZero() {
			t.Fatalf("the test's full token leaves %s unset", fv.Type().Field(i).Name)
		}
	}
	for name, tok := range map[string]Token{
		"Full":        full,
		"Zero":        {},
		"EmptySlices": {Scopes: []string{}, RefreshScopes: []string{}, Roles: []string{}, Resources: []string{}, Properties: []Property{}},
		"NilExpiry":   {ID: 2, Scopes: []string{"a"}, CreatedAt: time.Unix(0, 0).UTC()},
		"OtherZone":   {CreatedAt: time.Date(2020, 1, 2, 3, 4, 5, 6, time.FixedZone("x", -5*3600))},
	} {
		t.Run(name, func(t *testing.T) { sameAsEncodingJSON(t, tok) })
	}
	t.Run("AwkwardStrings", func(t *testing.T) {
		for _, s := range awkwardStrings {
			sameAsEncodingJSON(t, Token{Subject: s, GrantType: s, Scopes: []string{s}, Properties: []Property{{Key: s, Value: s}}, RevokedReason: s})
		}
	})
	t.Run("Lists", func(t *testing.T) {
		sameAsEncodingJSON(t, TokenList{})
		sameAsEncodingJSON(t, TokenList{Tokens: []Token{}, TotalCount: 0})
		sameAsEncodingJSON(t, TokenList{Tokens: []Token{full, {}}, TotalCount: 12, NextPageToken: "c<&>"})
	})
	t.Run("RandomStrings", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for range 2000 {
			b := make([]byte, rng.IntN(12))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			sameAsEncodingJSON(t, Token{Subject: string(b), AccountID: string(b) + "x"})
		}
	})
}

// FuzzAppendString holds appendString to encoding/json for any string.
func FuzzAppendString(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func BenchmarkTokenListJSON(b *testing.B) {
	ts := time.Date(2026, 11, 22, 17, 4, 5, 123_000_000, time.UTC)
	l := TokenList{TotalCount: 50}
	for i := range 50 {
		exp := ts.Add(time.Hour)
		l.Tokens = append(l.Tokens, Token{ID: int64(i), ServiceID: 1, Client: 77, Subject: "subject-42", GrantType: "authorization_code",
			Status: "active", AccessTokenHash: "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8", TokenType: "Bearer",
			Scopes: []string{"openid", "profile", "email"}, CreatedAt: ts, ExpiresAt: &exp, GrantID: int64(i)})
	}
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(l); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = l.AppendJSON(buf[:0])
		}
	})
}
