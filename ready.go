package tokend

import "context"

// Ready tells whether the core can serve: its store answers and has the
// schema this build needs (Store.Ready).
func (c *Core) Ready(ctx context.Context) error { return c.store.Ready(ctx) }
