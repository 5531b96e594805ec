package tokend

import "context"

// Authorize checks that p may act with perm on service sid. Surfaces use it
// before core calls that take no principal: a dialect's protocol helpers run
// the token or revocation endpoint for an authorization server that
// authenticated with a management key.
func (p *Principal) Authorize(sid int64, perm Permission) error { return p.authorize(sid, perm) }

// IdentifierMatch says how a TokenIdentifier's Value is read.
type IdentifierMatch int

const (
	// MatchValueOrHash reads Value as a token value and, when no token has
	// that value, as the hash of one. An Authlete token value and a hash
	// have the same shape (43 base64url characters), so a caller that
	// migrated Authlete tokens cannot tell them apart either; a hash that
	// is read as a value hashes to nothing stored.
	MatchValueOrHash IdentifierMatch = iota
	MatchValue                       // Value is a token value
	MatchHash                        // Value is the unpadded base64url SHA-256 of one
)

// TokenIdentifier names one token by its access token (or, with Refresh,
// its refresh token): the value or its hash, as Authlete's
// accessTokenIdentifier and refreshTokenIdentifier do.
type TokenIdentifier struct {
	Value   string
	Match   IdentifierMatch
	Refresh bool
	// SkipRevoked treats a revoked token as not found, for dialects where
	// revocation removes a token (Authlete).
	SkipRevoked bool
}

// ResolveToken finds the token of service sid that id names, for a caller
// that will act on it with perm (so a key that may only write tokens can
// still name one). A token of another service is not found.
func (c *Core) ResolveToken(ctx context.Context, p *Principal, sid int64, id TokenIdentifier, perm Permission) (*Token, error) {
	if _, err := c.service(ctx, p, sid, perm); err != nil {
		return nil, err
	}
	field, want, get := "access_token", KindAccessToken, c.store.GetTokenByAccessHash
	if id.Refresh {
		field, want, get = "refresh_token", KindRefreshToken, c.store.GetTokenByRefreshHash
	}
	if id.Value == "" {
		return nil, Invalid(field, "is required")
	}
	if len(id.Value) > maxSuppliedValue {
		return nil, Invalid(field, "must be at most %d characters", maxSuppliedValue)
	}
	var hashes []Hash
	if id.Match != MatchHash {
		// A tokend value of another kind, or a mistyped one, names nothing:
		// no store query for it.
		if kind, ok := SecretKindOf(id.Value); kind == "" || (ok && kind == want) {
			hashes = append(hashes, HashSecret(id.Value))
		}
	}
	if id.Match != MatchValue {
		h, ok := ParseHash(id.Value)
		switch {
		case ok:
			hashes = append(hashes, h)
		case id.Match == MatchHash:
			return nil, Invalid(field+"_hash", "must be the unpadded base64url SHA-256 of a token (43 characters)")
		}
	}
	for _, h := range hashes {
		t, err := get(ctx, h)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			continue
		case err != nil:
			return nil, err
		case t.ServiceID != sid || (id.SkipRevoked && !t.RevokedAt.IsZero()):
			continue
		}
		return t, nil
	}
	return nil, NotFound("token")
}
