package tokend

import "context"

// retiredRecord finds the token record a retired refresh token was rotated
// out of (ENOTFOUND when raw is no retired refresh token). Revocation asks
// it when a presented value is no live token: a client that revokes the
// refresh token it holds while one of its refreshes is in flight (signing
// out during a background refresh) has its revocation acknowledged, and
// must not be left with a live successor it never saw revoked.
func (c *Core) retiredRecord(ctx context.Context, raw string) (*Token, error) {
	kind, ok := SecretKindOf(raw)
	if !ok || (kind != KindRefreshToken && kind != "") || len(raw) > maxSuppliedValue {
		return nil, NotFound("token")
	}
	r, err := c.store.GetRetiredRefresh(ctx, HashSecret(raw))
	if err != nil {
		return nil, err
	}
	return c.store.GetToken(ctx, r.TokenID)
}
