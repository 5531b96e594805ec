package tokend

import (
	"context"
	"time"
)

// The janitor removes tokens nobody can use any more, so that the token
// table does not grow without end. It works in small batches, each one
// short transaction found through an index, so that the hot path (token
// requests, introspection) never waits long behind it: other token servers
// are known for clean-ups that lock the table for minutes.
//
// What it keeps: every token that is live, and every dead one whose grant
// still has a live token (Store.SweepTokens), because reuse detection
// (oauth.go: replayedRefresh) goes from a retired refresh token to its
// record and revokes the record's whole grant. A dead record is kept for
// the retention too, so that operators can still list and inspect what was
// revoked or expired recently.

// DefaultJanitorRetention is how long dead tokens are kept by default.
const DefaultJanitorRetention = 7 * 24 * time.Hour

// DefaultJanitorBatch is how many rows one janitor transaction deletes by
// default: enough to make progress, few enough that a write waiting behind
// it waits a few milliseconds at most.
const DefaultJanitorBatch = 500

// MaxJanitorBatch bounds the batch size an operator can ask for.
const MaxJanitorBatch = 100_000

// JanitorConfig says what one sweep removes and how.
type JanitorConfig struct {
	// Retention is how long a token stays after it expired or was revoked,
	// and an authorization code after it expired.
	Retention time.Duration
	// BatchSize is the number of rows per transaction; 0 means
	// DefaultJanitorBatch.
	BatchSize int
	// Pause is waited between two batches, leaving the store to other
	// work; zero waits not at all.
	Pause time.Duration
	// OnBatch, when set, is called after every batch with what it
	// deleted ("tokens" or "codes") and how many; for progress and tests.
	OnBatch func(kind string, n int)
}

// SweepReport is what one sweep did.
type SweepReport struct {
	Cutoff  time.Time // rows dead before this were removed
	Tokens  int       // tokens deleted
	Codes   int       // authorization codes deleted
	Batches int       // transactions that deleted something or found nothing more
	// Skipped is set when another process held the janitor's lock, so this
	// sweep did nothing.
	Skipped bool
}

// Sweep removes the tokens dead for longer than the retention, and the
// authorization codes expired for longer, in batches until none is left.
// Only one sweep at a time runs on a store, whichever process starts it;
// a sweep that finds another running returns at once with Skipped set.
func (c *Core) Sweep(ctx context.Context, cfg JanitorConfig) (*SweepReport, error) {
	if cfg.Retention < 0 {
		return nil, Invalid("retention", "must not be negative")
	}
	batch := cfg.BatchSize
	if batch == 0 {
		batch = DefaultJanitorBatch
	}
	if batch < 1 || batch > MaxJanitorBatch {
		return nil, Invalid("batch", "must be from 1 to %d", MaxJanitorBatch)
	}
	rep := &SweepReport{Cutoff: c.Now().Add(-cfg.Retention)}
	release, ok, err := c.store.LockJanitor(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		rep.Skipped = true
		return rep, nil
	}
	defer release()

	// run calls sweep until a batch comes back short, pausing in between.
	run := func(kind string, sweep func() (int, error)) (int, error) {
		total := 0
		for {
			n, err := sweep()
			if err != nil {
				return total, err
			}
			total += n
			rep.Batches++
			if cfg.OnBatch != nil {
				cfg.OnBatch(kind, n)
			}
			if n < batch {
				return total, nil
			}
			if err := pause(ctx, cfg.Pause); err != nil {
				return total, err
			}
		}
	}
	services, err := c.store.ListServices(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range services {
		n, err := run("tokens", func() (int, error) { return c.store.SweepTokens(ctx, s.ID, rep.Cutoff, batch) })
		rep.Tokens += n
		if err != nil {
			return rep, err
		}
	}
	n, err := run("codes", func() (int, error) { return c.store.SweepAuthorizationCodes(ctx, rep.Cutoff, batch) })
	rep.Codes += n
	return rep, err
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
