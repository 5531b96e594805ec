package tokend

import (
	"strings"
	"testing"
	"time"
)

// Fuzz targets for what the core parses from callers: token values and
// their checksums, the OAuth form encoding, page tokens. scripts/test.sh
// runs each for a few seconds; testdata/fuzz holds their seed corpora and
// any input that once failed.

// FuzzSecretFormat: any string is classified without panicking; a value
// judged a well-formed tokend secret has the right length and alphabet,
// and changing any one of its characters makes it ill-formed (the
// checksum catches a typo, so no store query is made for it).
func FuzzSecretFormat(f *testing.F) {
	for _, k := range secretKinds {
		f.Add(NewSecret(k))
	}
	f.Add("")
	f.Add("tka_")
	f.Add("tka_short")
	f.Add("a-migrated-token-from-elsewhere")
	f.Add(strings.Repeat("tkr_", 20))
	f.Fuzz(func(t *testing.T, s string) {
		kind, ok := SecretKindOf(s)
		for _, want := range secretKinds {
			if WellFormed(s, want, false) && (kind != want || !ok) {
				t.Fatalf("WellFormed(%q, %s) but SecretKindOf = %q, %v", s, want, kind, ok)
			}
		}
		if kind == "" {
			if !ok {
				t.Fatalf("a foreign value %q judged malformed", s)
			}
			return
		}
		if !ok {
			return
		}
		if len(s) != secretLen || !strings.HasPrefix(s, string(kind)) {
			t.Fatalf("%q judged a well-formed %s", s, kind)
		}
		for i := secretPrefixLen; i < len(s); i++ {
			for _, c := range []byte{'0', 'a', 'Z', '_'} {
				if s[i] == c {
					continue
				}
				typo := s[:i] + string(c) + s[i+1:]
				if k, ok := SecretKindOf(typo); k == kind && ok {
					t.Fatalf("a one-character typo of %q at %d (%q) passes the checksum", s, i, typo)
				}
			}
		}
		if h, ok := ParseHash(HashSecret(s).String()); !ok || h != HashSecret(s) {
			t.Fatal("a hash does not round-trip through its wire form")
		}
	})
}

// FuzzOAuthParameters: a form body either parses, with each parameter
// once and no empty values, or is refused as invalid naming the body.
func FuzzOAuthParameters(f *testing.F) {
	f.Add("grant_type=refresh_token&refresh_token=tkr_x&scope=a+b")
	f.Add("grant_type=password&username=alice&password=p%40ss%3Bword")
	f.Add("a=1&a=2")
	f.Add("a=%zz")
	f.Add("a;b=c")
	f.Add("=&&=x")
	f.Fuzz(func(t *testing.T, body string) {
		params, err := OAuthParameters(body)
		if err != nil {
			if ErrorCode(err) != EINVALID || ErrorField(err) != "body" || ErrorMessage(err) == "" {
				t.Fatalf("OAuthParameters(%q) = %v; want EINVALID naming the body", body, err)
			}
			return
		}
		for k, v := range params {
			if v == "" {
				t.Fatalf("parameter %q kept with an empty value", k)
			}
		}
	})
}

// FuzzPageToken: any string given as a page token is either refused as
// EINVALID naming page_token, or names a valid position whose token is
// the string itself (tokens are canonical: no two spell one position).
func FuzzPageToken(f *testing.F) {
	f.Add(encodePageToken(OrderCreatedAt, true, Cursor{Value: time.Now().UnixMilli(), ID: 42}), "created_at", true)
	f.Add(encodePageToken(OrderExpiresAt, false, Cursor{Value: NeverExpires, ID: 1}), "expires_at", false)
	f.Add("AQEB", "created_at", true)
	f.Add("", "last_refreshed_at", false)
	f.Fuzz(func(t *testing.T, s, order string, desc bool) {
		k := OrderKey(order)
		if !k.Valid() {
			return
		}
		cur, err := decodePageToken(s, k, desc)
		if err != nil {
			if ErrorCode(err) != EINVALID || ErrorField(err) != "page_token" {
				t.Fatalf("decodePageToken(%q) = %v; want EINVALID naming page_token", s, err)
			}
			return
		}
		if cur.ID <= 0 {
			t.Fatalf("decoded a cursor with id %d", cur.ID)
		}
		if again := encodePageToken(k, desc, *cur); again != s {
			t.Fatalf("page token %q decodes to %+v, which encodes to %q", s, *cur, again)
		}
	})
}

// FuzzAuditPageToken is FuzzPageToken for the audit log's page tokens.
func FuzzAuditPageToken(f *testing.F) {
	f.Add(encodeAuditPageToken(false, 7), false)
	f.Add(encodeAuditPageToken(true, 1<<40), true)
	f.Add("pwA", false)
	f.Fuzz(func(t *testing.T, s string, asc bool) {
		id, err := decodeAuditPageToken(s, asc)
		if err != nil {
			if ErrorCode(err) != EINVALID || ErrorField(err) != "page_token" {
				t.Fatalf("decodeAuditPageToken(%q) = %v", s, err)
			}
			return
		}
		if id <= 0 || encodeAuditPageToken(asc, id) != s {
			t.Fatalf("page token %q decodes to %d, which encodes to %q", s, id, encodeAuditPageToken(asc, id))
		}
	})
}
