package tokend

import (
	"context"
	"time"
)

// Snapshot paging: numbered pages over the tokens that existed at one
// instant, so that an auditor walking page after page sees one consistent
// list while tokens keep being issued (Passport's token list).

// Bounds of a snapshot page. Numbered pages cost the store a scan of every
// token before the page, so both the page and the depth are bounded.
const (
	DefaultSnapshotPageSize = 10
	MaxSnapshotPageSize     = 100
	MaxSnapshotPageNumber   = 10000
)

// SnapshotSettle is how far in the past a new snapshot is taken. A token's
// creation time is stamped when it is issued and the token reaches the
// store a little later (a few milliseconds: the write and its fsync), so a
// snapshot of "now" could miss a token stamped just before it on the first
// page and find it on the next. A second back, every token stamped at or
// before the snapshot is stored before the first page is read, and the
// pages stay fixed, as long as storing a token takes less than that.
const SnapshotSettle = time.Second

// SnapshotQuery filters, orders and numbers a snapshot list. Nil filters
// are unset.
type SnapshotQuery struct {
	Subject   *string
	GrantType *GrantType
	AccountID *string
	Role      *string

	OrderBy OrderKey // "": created_at
	Desc    *bool    // nil: newest (or latest) first

	PageSize   int // 0: DefaultSnapshotPageSize
	PageNumber int // 1-based; 0: the first
	// Snapshot is the instant the list is taken at, as the first page
	// returned it; nil takes a new one, SnapshotSettle before the current
	// time (the first page).
	Snapshot *time.Time
}

// SnapshotPage is one numbered page of a snapshot list.
type SnapshotPage struct {
	Tokens     []*Token
	Total      int // tokens of the snapshot matching the filters, on every page
	TotalPages int // 0 when Total is 0
	PageNumber int
	PageSize   int
	Snapshot   time.Time // pass it back for the following pages
}

// ListTokensSnapshot lists a page of the tokens of service sid that were
// issued at or before the snapshot, whatever their status (each token
// carries it), so that neither new tokens nor tokens expiring or being
// revoked meanwhile move the others between pages. Ordered by creation
// the pages are fixed; ordered by expiry or last refresh, a token refreshed
// between two requests moves with its new value.
func (c *Core) ListTokensSnapshot(ctx context.Context, p *Principal, sid int64, q SnapshotQuery) (*SnapshotPage, error) {
	if _, err := c.service(ctx, p, sid, PermTokensRead); err != nil {
		return nil, err
	}
	out := &SnapshotPage{PageSize: q.PageSize, PageNumber: q.PageNumber}
	switch {
	case q.PageSize == 0:
		out.PageSize = DefaultSnapshotPageSize
	case q.PageSize < 1 || q.PageSize > MaxSnapshotPageSize:
		return nil, Invalid("page_size", "must be between 1 and %d", MaxSnapshotPageSize)
	}
	switch {
	case q.PageNumber == 0:
		out.PageNumber = 1
	case q.PageNumber < 1 || q.PageNumber > MaxSnapshotPageNumber:
		return nil, Invalid("page_number", "must be between 1 and %d (pages are numbered from 1; narrow the list with filters to reach further)", MaxSnapshotPageNumber)
	}
	if q.Snapshot != nil {
		out.Snapshot = *q.Snapshot
	} else {
		out.Snapshot = c.Now().Add(-SnapshotSettle)
	}
	desc := true
	if q.Desc != nil {
		desc = *q.Desc
	}
	f, err := c.tokenFilter(ctx, sid, TokenQuery{
		Subject: q.Subject, GrantType: q.GrantType, AccountID: q.AccountID, Role: q.Role,
		Status: StatusAll,
		// Stored times have millisecond precision: a token created in the
		// snapshot's millisecond was created at or before it, so the
		// exclusive bound is the next millisecond.
		CreatedBefore: out.Snapshot.UTC().Truncate(time.Millisecond).Add(time.Millisecond),
		OrderBy:       q.OrderBy, Desc: desc,
		PageSize: out.PageSize, Offset: (out.PageNumber - 1) * out.PageSize,
	})
	if err != nil {
		return nil, err
	}
	page, err := c.store.ListTokens(ctx, f)
	if err != nil {
		return nil, err
	}
	out.Tokens, out.Total = page.Tokens, page.Total
	out.TotalPages = (out.Total + out.PageSize - 1) / out.PageSize
	return out, nil
}

// TokenClients returns the clients of tokens of service sid, by numeric
// id, for a caller that may read those tokens. A deleted client is simply
// missing from the map.
func (c *Core) TokenClients(ctx context.Context, p *Principal, sid int64, tokens []*Token) (map[int64]*Client, error) {
	if err := p.authorize(sid, PermTokensRead); err != nil {
		return nil, err
	}
	return c.clientsOf(ctx, sid, tokens)
}

func (c *Core) clientsOf(ctx context.Context, sid int64, tokens []*Token) (map[int64]*Client, error) {
	out := make(map[int64]*Client)
	for _, t := range tokens {
		if _, seen := out[t.ClientID]; seen || t.ServiceID != sid {
			continue
		}
		cl, err := c.cachedClientByID(ctx, t.ClientID)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			continue
		case err != nil:
			return nil, err
		}
		out[t.ClientID] = cl
	}
	return out, nil
}

// RevokeToken revokes one token of service sid by id. Unlike RevokeTokens,
// which counts, it tells an already revoked token apart: ECONFLICT.
func (c *Core) RevokeToken(ctx context.Context, p *Principal, sid, id int64, reason string) (*Token, error) {
	if _, err := c.service(ctx, p, sid, PermTokensWrite); err != nil {
		return nil, err
	}
	if reason == "" {
		reason = "revoked"
	}
	if err := validText("reason", reason, MaxNameLen); err != nil {
		return nil, err
	}
	t, err := c.tokenOf(ctx, sid, id)
	if err != nil {
		return nil, err
	}
	alreadyRevoked := &Error{Code: ECONFLICT, Message: "the token is already revoked"}
	if !t.RevokedAt.IsZero() {
		return nil, alreadyRevoked
	}
	actx := auditDetail(c.audited(ctx, actorOf(p), sid, AuditTokenRevoke, TargetToken, idString(id)), t.Subject, reason)
	n, err := c.revoke(actx, RevokeFilter{ServiceID: sid, TokenID: id}, c.Now(), reason, t.GrantType)
	c.tokens.changedToken(sid, id)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, alreadyRevoked // revoked by someone else since we looked
	}
	return c.tokenOf(ctx, sid, id)
}
