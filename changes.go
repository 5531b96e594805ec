package tokend

// Several tokend processes (nodes) may share one database. Each keeps
// services, clients (cache.go) and introspected tokens (tokencache.go) in
// memory, and drops them at once when it changes them itself; a change made
// by another node reaches it as a Change, which a shared store delivers
// (the PostgreSQL store with LISTEN/NOTIFY) and ApplyChange applies. The
// core only reacts: what is announced, and how, is the store's business.

// ChangeKind says what a Change is about.
type ChangeKind uint8

const (
	// ChangeAll: anything may have changed (a service was deleted, a
	// store was imported, or changes may have been missed while the
	// store's feed was cut off). Everything in memory is dropped.
	ChangeAll ChangeKind = iota
	// ChangeToken: one token (ServiceID, ID) was updated, rotated,
	// revoked or deleted.
	ChangeToken
	// ChangeTokens: any number of a service's tokens changed (revocation
	// by client, subject or grant).
	ChangeTokens
	// ChangeClient: a client (ServiceID, ID) was updated or deleted.
	ChangeClient
	// ChangeService: a service was created or its settings changed.
	ChangeService
)

// Change is a write another process made to the shared store.
type Change struct {
	Kind      ChangeKind
	ServiceID int64
	ID        int64 // the token's or the client's id
}

// ApplyChange drops what the core holds in memory about a change another
// process made, so that the next request reads the store. It is safe to
// call from any goroutine, and never blocks on the store.
func (c *Core) ApplyChange(ch Change) {
	switch ch.Kind {
	case ChangeToken:
		c.tokens.changedToken(ch.ServiceID, ch.ID)
	case ChangeTokens:
		c.tokens.changedService(ch.ServiceID)
	case ChangeClient:
		// Only the numeric id is known: an entry under the client's wire
		// id then points at nothing and is looked up again.
		c.cache.forgetClient(&Client{ID: ch.ID, ServiceID: ch.ServiceID})
	case ChangeService:
		c.cache.forgetService(ch.ServiceID)
		c.cache.forgetIssuers()
	default:
		c.cache.forgetAll()
		c.tokens.changedAll()
	}
}

// changedAll is changedService for every service: the tokens cached, and
// those being read while it runs, are dropped. A read in flight for a
// service of which nothing was ever cached or changed can still be filed;
// the TTL bounds it, as it bounds everything when a feed is cut off.
func (c *tokenCache) changedAll() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		c.shards(e.serviceID) // so that its generations move below
	}
	for _, g := range c.gens {
		for i := range g {
			g[i]++
		}
	}
	clear(c.entries)
}
