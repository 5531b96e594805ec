package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend"
)

// The janitor runs inside `tokend serve` every --janitor-every, and as
// `tokend janitor` for cron. Either way one sweep at a time works on a
// store: on PostgreSQL the nodes take turns through an advisory lock.

// Defaults of the janitor's flags.
const defaultJanitorEvery = time.Hour

// janitorConfig is what the janitor flags say.
type janitorConfig struct {
	Every     time.Duration // between two sweeps in serve; 0: none
	Retention time.Duration
	Batch     int
}

// addJanitorFlags defines the janitor's flags on fs; every is only for
// serve.
func addJanitorFlags(fs *flag.FlagSet, getenv env, every bool) (parse func() (janitorConfig, error)) {
	var everyStr string
	if every {
		fs.StringVar(&everyStr, "janitor-every", envOr(getenv, "TOKEND_JANITOR_EVERY", defaultJanitorEvery.String()),
			"how often the janitor removes dead tokens, e.g. 30m; 0 turns it off (TOKEND_JANITOR_EVERY)")
	}
	retention := fs.String("janitor-retention", envOr(getenv, "TOKEND_JANITOR_RETENTION", "7d"),
		"how long expired and revoked tokens are kept before the janitor removes them, e.g. 7d or 36h (TOKEND_JANITOR_RETENTION)")
	batch := fs.String("janitor-batch", envOr(getenv, "TOKEND_JANITOR_BATCH", strconv.Itoa(tokend.DefaultJanitorBatch)),
		"rows the janitor deletes per transaction (TOKEND_JANITOR_BATCH)")
	return func() (janitorConfig, error) {
		var c janitorConfig
		var err error
		if every {
			if c.Every, err = parseDays(everyStr); err != nil || c.Every < 0 || (c.Every > 0 && c.Every < time.Second) {
				return c, fmt.Errorf("--janitor-every: %q is not a duration of a second or more, or 0", everyStr)
			}
		}
		if c.Retention, err = parseDays(*retention); err != nil || c.Retention < 0 {
			return c, fmt.Errorf("--janitor-retention: %q is not a duration such as 7d or 36h", *retention)
		}
		if c.Batch, err = strconv.Atoi(*batch); err != nil || c.Batch < 1 || c.Batch > tokend.MaxJanitorBatch {
			return c, fmt.Errorf("--janitor-batch: %q is not a number from 1 to %d", *batch, tokend.MaxJanitorBatch)
		}
		return c, nil
	}
}

// parseDays parses a Go duration, or a whole number of days as "7d".
func parseDays(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 36500 {
			return 0, errors.New("bad number of days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func (c janitorConfig) core() tokend.JanitorConfig {
	return tokend.JanitorConfig{Retention: c.Retention, BatchSize: c.Batch}
}

// janitorLoop sweeps every cfg.Every until stopped. The first sweep too
// waits an interval: a server started for a benchmark or a test measures
// requests, not a clean-up of what it was seeded with.
type janitorLoop struct {
	stop func()
	done sync.WaitGroup
}

func startJanitor(core *tokend.Core, cfg janitorConfig, logger *slog.Logger, progress janitorProgress) *janitorLoop {
	ctx, cancel := context.WithCancel(context.Background())
	j := &janitorLoop{stop: cancel}
	j.done.Go(func() {
		t := time.NewTicker(cfg.Every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			sweepOnce(ctx, core, cfg, logger, progress)
		}
	})
	return j
}

// Stop ends the loop, interrupting a sweep between two batches, and waits
// for it: the store must not close under it.
func (j *janitorLoop) Stop() {
	if j == nil {
		return
	}
	j.stop()
	j.done.Wait()
}

func sweepOnce(ctx context.Context, core *tokend.Core, cfg janitorConfig, logger *slog.Logger, progress janitorProgress) {
	started := time.Now()
	jc := cfg.core()
	if progress != nil {
		jc.OnBatch = progress.JanitorBatch
	}
	rep, err := core.Sweep(ctx, jc)
	if progress != nil && ctx.Err() == nil {
		progress.JanitorSweep(sweepResult(rep, err), time.Since(started), time.Now())
	}
	switch {
	case ctx.Err() != nil:
	case err != nil:
		logger.Warn("janitor: sweep failed; it runs again later", "err", err)
	case rep.Skipped:
		logger.Debug("janitor: another node is sweeping")
	case rep.Tokens+rep.Codes > 0:
		logger.Info("janitor: removed dead tokens", "tokens", rep.Tokens, "codes", rep.Codes,
			"dead_before", rep.Cutoff, "batches", rep.Batches, "took", time.Since(started).Round(time.Millisecond))
	default:
		logger.Debug("janitor: nothing to remove", "dead_before", rep.Cutoff)
	}
}

// runJanitor is `tokend janitor`: one sweep, for cron.
func runJanitor(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := flag.NewFlagSet("tokend janitor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: tokend janitor [flags]\n\nRemoves tokens expired or revoked longer than the retention ago, and\nexpired authorization codes, in small batches; for cron beside servers\nrun with --janitor-every 0. Only one janitor at a time works on a store.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	storeURL := fs.String("store", envOr(getenv, "TOKEND_STORE", "sqlite:tokend.db"), storeURLHelp)
	parse := addJanitorFlags(fs, getenv, false)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg, err := parse()
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "tokend janitor: %v\n", err)
		return 2
	}
	store, err := openStore(ctx, *storeURL)
	if err != nil {
		fmt.Fprintf(stderr, "tokend janitor: %v\n", err)
		return 1
	}
	defer store.Close()
	rep, err := tokend.New(store, tokend.Config{}).Sweep(ctx, cfg.core())
	if err != nil {
		fmt.Fprintf(stderr, "tokend janitor: %v\n", err)
		return 1
	}
	if rep.Skipped {
		fmt.Fprintln(stdout, "another janitor is at work on this store; nothing done")
		return 0
	}
	fmt.Fprintf(stdout, "removed %d tokens and %d authorization codes dead before %s, in %d batches\n",
		rep.Tokens, rep.Codes, rep.Cutoff.Format(time.RFC3339), rep.Batches)
	return 0
}
