package tokend

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func codecFullToken() *Token {
	ts := time.UnixMilli(1_790_000_000_123).UTC()
	return &Token{
		ID: 42, ServiceID: -7, ClientID: 9007199254740991, Subject: "john é", GrantType: GrantAuthorizationCode,
		AccessHash: Hash{1, 2, 3}, RefreshHash: Hash{31: 9}, Scopes: []string{"openid", ""}, RefreshScopes: []string{},
		CreatedAt: ts, AccessExpiresAt: ts.Add(time.Hour), RefreshExpiresAt: ts.Add(48 * time.Hour),
		LastRefreshedAt: time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC), RevokedAt: time.UnixMilli(-5).UTC(), RevokedReason: "reuse",
		Properties: []Property{{Key: "k", Value: "v", Hidden: true}, {Key: "", Value: ""}}, AccountID: "acct",
		Roles: []string{"admin"}, AuthTime: ts.Add(-time.Minute), ACR: "urn:acr", SessionID: "sid",
		Resources: []string{"https://api.example/"}, CertThumbprint: "x5t", DPoPThumbprint: "jkt",
		AuthorizationDetails: json.RawMessage(`[{"type":"x"}]`), Persistent: true, GrantID: 41, Minted: true,
	}
}

// TestTokenCodecRoundTrips: what the cache decodes is the token it was
// given, field for field, nil slices apart from empty ones; only Minted,
// which no store keeps either, is dropped.
func TestTokenCodecRoundTrips(t *testing.T) {
	full := codecFullToken()
	fv := reflect.ValueOf(*full)
	for i := range fv.NumField() {
		if fv.Field(i).IsZero() {
			t.Fatalf("the test's full token leaves %s unset: set it, so the round trip covers it", fv.Type().Field(i).Name)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []*Token{full, {}, {Scopes: []string{}, Properties: []Property{}, AuthorizationDetails: json.RawMessage{}}}
	for range 500 {
		tok := *full
		// Blank a random half of the fields: every mix of set and unset.
		v := reflect.ValueOf(&tok).Elem()
		for i := range v.NumField() {
			if rng.IntN(2) == 0 {
				v.Field(i).Set(reflect.Zero(v.Field(i).Type()))
			}
		}
		cases = append(cases, &tok)
	}
	for _, tok := range cases {
		got, err := decodeToken(appendToken(nil, tok))
		if err != nil {
			t.Fatal(err)
		}
		want := *tok
		want.Minted = false
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, &want)
		}
	}
}

// FuzzDecodeToken: damaged bytes give an error, never a panic or a huge
// allocation.
func FuzzDecodeToken(f *testing.F) {
	f.Add(appendToken(nil, codecFullToken()))
	f.Add(appendToken(nil, &Token{}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := decodeToken(b)
		if err != nil {
			return
		}
		// What decodes must survive another round trip unchanged.
		again, err := decodeToken(appendToken(nil, tok))
		if err != nil || !reflect.DeepEqual(again, tok) {
			t.Fatalf("a second round trip changed the token (%v):\n%+v\n%+v", err, again, tok)
		}
	})
}

func BenchmarkTokenCodec(b *testing.B) {
	tok := codecFullToken()
	tok.Properties, tok.AuthorizationDetails, tok.Resources = nil, nil, nil
	data := appendToken(nil, tok)
	b.ReportMetric(float64(len(data)), "bytes")
	for b.Loop() {
		if _, err := decodeToken(data); err != nil {
			b.Fatal(err)
		}
	}
}
