package tokend

import "context"

// Bulk revocation with a preview: before an operator revokes every token of
// a client or a subject, the console shows how many that would be and the
// newest of them, from the same paged query the token list uses.

// RevokePreview is what a bulk revocation would revoke now.
type RevokePreview struct {
	Count  int      // tokens not yet revoked that the request selects
	Sample []*Token // the newest of them, at most the sample size asked for
}

// PreviewRevoke tells what RevokeTokens(ctx, p, sid, r) would revoke if
// called now, without revoking anything: the tokens of r's client and/or
// subject that are not revoked yet (expired ones too, as RevokeTokens
// revokes them). Only those bulk requests can be previewed; naming one
// token is Invalid. p needs tokens.write, as for the revocation itself.
// The count can differ from the revocation's if tokens are issued or
// revoked in between; RevokeTokens returns the real one.
func (c *Core) PreviewRevoke(ctx context.Context, p *Principal, sid int64, r RevokeRequest, sample int) (*RevokePreview, error) {
	if _, err := c.service(ctx, p, sid, PermTokensWrite); err != nil {
		return nil, err
	}
	if r.TokenID != 0 || r.Token.Value != "" || r.Token.Hash != "" {
		return nil, Invalid("token", "only a client's or a subject's tokens can be previewed")
	}
	if r.Client == "" && r.Subject == nil {
		return nil, Invalid("client", "name a client and/or a subject")
	}
	if sample < 1 || sample > MaxPageSize {
		return nil, Invalid("sample", "must be between 1 and %d", MaxPageSize)
	}
	q := TokenQuery{Subject: r.Subject, Status: StatusNotRevoked, Desc: true, PageSize: sample}
	if r.Client != "" {
		q.Client = &r.Client
	}
	f, err := c.tokenFilter(ctx, sid, q)
	if err != nil {
		return nil, err
	}
	page, err := c.store.ListTokens(ctx, f)
	if err != nil {
		return nil, err
	}
	return &RevokePreview{Count: page.Total, Sample: page.Tokens}, nil
}
