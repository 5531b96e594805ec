package tokend

import (
	"strings"
	"testing"
)

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for _, kind := range secretKinds {
		for range 50 {
			s := NewSecret(kind)
			if len(s) != secretLen || !strings.HasPrefix(s, string(kind)) {
				t.Fatalf("NewSecret(%s) = %q: want %d characters with the prefix", kind, s, secretLen)
			}
			if seen[s] {
				t.Fatalf("NewSecret returned %q twice", s)
			}
			seen[s] = true
			if got, ok := SecretKindOf(s); got != kind || !ok {
				t.Fatalf("SecretKindOf(%q) = %q, %v; want %q, true", s, got, ok, kind)
			}
		}
	}
}

func TestSecretKindOfRejectsEveryMistype(t *testing.T) {
	s := NewSecret(KindAccessToken)
	for i := secretPrefixLen; i < len(s); i++ {
		for _, c := range []byte{'0', 'a', 'Z'} {
			if s[i] == c {
				continue
			}
			typo := s[:i] + string(c) + s[i+1:]
			if kind, ok := SecretKindOf(typo); ok || kind != KindAccessToken {
				t.Fatalf("SecretKindOf(%q) = %q, %v: the typo at %d went unnoticed", typo, kind, ok, i)
			}
		}
	}
	for name, bad := range map[string]string{
		"Truncated":    s[:len(s)-1],
		"Extended":     s + "0",
		"NotBase62":    s[:10] + "-" + s[11:],
		"SwappedChars": s[:10] + string(s[11]) + string(s[10]) + s[12:],
	} {
		t.Run(name, func(t *testing.T) {
			if s[10] == s[11] && name == "SwappedChars" {
				t.Skip("the swapped characters are equal")
			}
			if _, ok := SecretKindOf(bad); ok {
				t.Fatalf("SecretKindOf(%q) accepted a damaged value", bad)
			}
		})
	}
}

func TestSecretKindOfForeignValues(t *testing.T) {
	for _, s := range []string{"", "abc", "E1zpVmVl9Vbq3zBHo3EkMA", "tkx_notours", "TKA_uppercase"} {
		if kind, ok := SecretKindOf(s); kind != "" || !ok {
			t.Errorf("SecretKindOf(%q) = %q, %v; want a foreign value", s, kind, ok)
		}
	}
}

func TestWellFormed(t *testing.T) {
	access, refresh := NewSecret(KindAccessToken), NewSecret(KindRefreshToken)
	// A typo: another character than the one there (1 in 62 would be 'x').
	typo := byte('x')
	if access[20] == typo {
		typo = 'y'
	}
	tests := []struct {
		name    string
		value   string
		want    SecretKind
		foreign bool
		ok      bool
	}{
		{"OK", access, KindAccessToken, false, true},
		{"OtherKind", refresh, KindAccessToken, true, false},
		{"ForeignAllowed", "E1zpVmVl9Vbq3zBHo3EkMA", KindAccessToken, true, true},
		{"ForeignRefused", "E1zpVmVl9Vbq3zBHo3EkMA", KindAccessToken, false, false},
		{"Empty", "", KindAccessToken, true, false},
		{"Damaged", access[:20] + string(typo) + access[21:], KindAccessToken, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WellFormed(tt.value, tt.want, tt.foreign); got != tt.ok {
				t.Fatalf("WellFormed = %v, want %v", got, tt.ok)
			}
		})
	}
}

func TestHashRoundTrip(t *testing.T) {
	h := HashSecret("E1zpVmVl9Vbq3zBHo3EkMA")
	s := h.String()
	if len(s) != 43 || strings.ContainsAny(s, "+/=") {
		t.Fatalf("Hash.String() = %q: want 43 unpadded base64url characters", s)
	}
	back, ok := ParseHash(s)
	if !ok || back != h {
		t.Fatalf("ParseHash(%q) = %v, %v", s, back, ok)
	}
	for _, bad := range []string{"", s[:42], s + "A", s[:42] + "=", strings.Repeat("*", 43)} {
		if _, ok := ParseHash(bad); ok {
			t.Errorf("ParseHash(%q) accepted a malformed hash", bad)
		}
	}
	// The example hash from Authlete's documentation is of this form.
	if _, ok := ParseHash("tC5hpjGylLiiw-vsd5_tqVHtYSUHblAGimEJ-5xqAco"); !ok {
		t.Error("ParseHash rejected Authlete's documented hash")
	}
}

func TestValidSuppliedToken(t *testing.T) {
	tests := []struct {
		name  string
		value string
		ok    bool
	}{
		{"OK", "E1zpVmVl9Vbq3zBHo3EkMA", true},
		{"OKPadded", "YWJjZGVmZ2hpamtsbW5vcA==", true},
		{"OKOwnFormat", NewSecret(KindAccessToken), true},
		{"ErrTooShort", "short", false},
		{"ErrTooLong", strings.Repeat("a", maxSuppliedValue+1), false},
		{"ErrSpace", "abcdefgh ijklmnopq", false},
		{"ErrOnlyPadding", strings.Repeat("=", 20), false},
		{"ErrPaddingInside", "abcdefgh=ijklmnopq", false},
		{"ErrWrongKind", NewSecret(KindRefreshToken), false},
		{"ErrBadChecksum", NewSecret(KindAccessToken)[:50] + "000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validSuppliedToken("access_token", tt.value, KindAccessToken)
			if (err == nil) != tt.ok {
				t.Fatalf("validSuppliedToken = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && ErrorField(err) != "access_token" {
				t.Fatalf("error names field %q, want access_token", ErrorField(err))
			}
		})
	}
}

func TestPageToken(t *testing.T) {
	cur := Cursor{Value: 1700000000123, ID: 42}
	s := encodePageToken(OrderExpiresAt, true, cur)
	got, err := decodePageToken(s, OrderExpiresAt, true)
	if err != nil || *got != cur {
		t.Fatalf("decodePageToken = %+v, %v; want %+v", got, err, cur)
	}
	never := encodePageToken(OrderExpiresAt, false, Cursor{Value: NeverExpires, ID: 7})
	if got, err := decodePageToken(never, OrderExpiresAt, false); err != nil || got.Value != NeverExpires {
		t.Fatalf("persistent cursor: %+v, %v", got, err)
	}
	for name, tc := range map[string]struct {
		token string
		key   OrderKey
		desc  bool
	}{
		"ErrOtherKey":       {s, OrderCreatedAt, true},
		"ErrOtherDirection": {s, OrderExpiresAt, false},
		"ErrNotBase64":      {"!!!", OrderExpiresAt, true},
		"ErrEdited":         {s[:len(s)-2] + "AA", OrderExpiresAt, true},
		"ErrTruncated":      {s[:5], OrderExpiresAt, true},
		"ErrEmptyPayload":   {"AAAA", OrderExpiresAt, true},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := decodePageToken(tc.token, tc.key, tc.desc); ErrorCode(err) != EINVALID || ErrorField(err) != "page_token" {
				t.Fatalf("decodePageToken(%q) = %v; want an invalid page_token error", tc.token, err)
			}
		})
	}
}

func BenchmarkNewSecret(b *testing.B) {
	for b.Loop() {
		NewSecret(KindAccessToken)
	}
}

func BenchmarkSecretKindOf(b *testing.B) {
	s := NewSecret(KindAccessToken)
	for b.Loop() {
		if _, ok := SecretKindOf(s); !ok {
			b.Fatal("rejected a valid secret")
		}
	}
}

func BenchmarkHashSecret(b *testing.B) {
	s := NewSecret(KindAccessToken)
	for b.Loop() {
		HashSecret(s)
	}
}
