package tokend

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash/crc32"
	"math/big"
	"strings"
)

// SecretKind is the type of a generated secret, visible in its prefix so that
// people and secret scanners can tell what leaked, as with GitHub's ghp_.
type SecretKind string

const (
	KindAccessToken       SecretKind = "tka_"
	KindRefreshToken      SecretKind = "tkr_"
	KindManagementKey     SecretKind = "tkk_"
	KindClientSecret      SecretKind = "tks_"
	KindAuthorizationCode SecretKind = "tkc_"
)

var secretKinds = []SecretKind{
	KindAccessToken, KindRefreshToken, KindManagementKey, KindClientSecret, KindAuthorizationCode,
}

const (
	base62Alphabet   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	secretEntropy    = 32 // bytes from crypto/rand: 256 bits
	secretBodyLen    = 43 // base62 digits needed for 256 bits
	secretCheckLen   = 6  // base62 digits needed for a CRC-32
	secretPrefixLen  = 4
	secretLen        = secretPrefixLen + secretBodyLen + secretCheckLen
	maxSuppliedValue = 4096
	minSuppliedValue = 16
)

// NewSecret returns a fresh secret of the given kind: prefix, 256 random bits
// in base62, and a base62 CRC-32 of the two, so that a mistyped value is
// rejected without a store lookup.
func NewSecret(kind SecretKind) string {
	var raw [secretEntropy]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("tokend: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	var b strings.Builder
	b.Grow(secretLen)
	b.WriteString(string(kind))
	b.WriteString(base62(new(big.Int).SetBytes(raw[:]), secretBodyLen))
	b.WriteString(checksum(b.String()))
	return b.String()
}

func base62(n *big.Int, width int) string {
	buf := make([]byte, width)
	var mod big.Int
	base := big.NewInt(62)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, &mod)
		buf[i] = base62Alphabet[mod.Int64()]
	}
	return string(buf)
}

// checksum is on the path of every presented token, so it avoids math/big.
func checksum(s string) string {
	var buf [secretCheckLen]byte
	n := crc32.ChecksumIEEE([]byte(s))
	for i := secretCheckLen - 1; i >= 0; i-- {
		buf[i] = base62Alphabet[n%62]
		n /= 62
	}
	return string(buf[:])
}

// SecretKindOf tells whether s carries a tokend prefix and, if so, whether it
// is well formed. It returns ("", true) for a value without a tokend prefix
// (a token migrated from another server), (kind, true) for a well-formed
// tokend secret, and (kind, false) for one that is mistyped or truncated.
func SecretKindOf(s string) (SecretKind, bool) {
	if len(s) < secretPrefixLen {
		return "", true
	}
	var kind SecretKind
	for _, k := range secretKinds {
		if strings.HasPrefix(s, string(k)) {
			kind = k
			break
		}
	}
	if kind == "" {
		return "", true
	}
	if len(s) != secretLen {
		return kind, false
	}
	for i := secretPrefixLen; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return kind, false
		}
	}
	return kind, checksum(s[:secretLen-secretCheckLen]) == s[secretLen-secretCheckLen:]
}

// WellFormed reports whether s could be a secret of kind want: either a
// tokend secret of that kind with a valid checksum, or (when foreign is true)
// a value without any tokend prefix.
func WellFormed(s string, want SecretKind, foreign bool) bool {
	kind, ok := SecretKindOf(s)
	if !ok {
		return false
	}
	if kind == "" {
		return foreign && s != ""
	}
	return kind == want
}

// HashSecret returns the digest under which s is stored.
func HashSecret(s string) Hash { return sha256.Sum256([]byte(s)) }

// String renders h as unpadded base64url, the form used on the wire.
func (h Hash) String() string { return base64.RawURLEncoding.EncodeToString(h[:]) }

// ParseHash reads the unpadded base64url form of a hash.
func ParseHash(s string) (Hash, bool) {
	var h Hash
	if base64.RawURLEncoding.DecodedLen(len(s)) != len(h) {
		return h, false
	}
	n, err := base64.RawURLEncoding.Decode(h[:], []byte(s))
	return h, err == nil && n == len(h)
}

// validSuppliedToken checks a token value a caller brings from another server:
// RFC 6750 b64token syntax, sensible length, and a valid checksum if it
// claims to be a tokend value.
func validSuppliedToken(field, s string, kind SecretKind) error {
	if len(s) < minSuppliedValue || len(s) > maxSuppliedValue {
		return Invalid(field, "must be between %d and %d characters", minSuppliedValue, maxSuppliedValue)
	}
	trimmed := strings.TrimRight(s, "=")
	if trimmed == "" {
		return Invalid(field, "must use the token characters of RFC 6750 (letters, digits, -._~+/ and trailing =)")
	}
	for i := 0; i < len(trimmed); i++ {
		c := trimmed[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return Invalid(field, "must use the token characters of RFC 6750 (letters, digits, -._~+/ and trailing =)")
		}
	}
	if k, ok := SecretKindOf(s); k != "" && (!ok || k != kind) {
		return Invalid(field, "carries a tokend prefix but is not a valid %s value", kindName(kind))
	}
	return nil
}

func kindName(k SecretKind) string {
	switch k {
	case KindAccessToken:
		return "access token"
	case KindRefreshToken:
		return "refresh token"
	case KindManagementKey:
		return "management key"
	case KindClientSecret:
		return "client secret"
	case KindAuthorizationCode:
		return "authorization code"
	}
	return string(k)
}
