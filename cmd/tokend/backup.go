package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tokend/tokend/sqlite"
)

const backupUsage = `Usage: tokend backup --store sqlite:PATH --out FILE

Writes a consistent copy of a SQLite store while tokend serves it: one
snapshot of every committed write, compacted into a single database file,
synced and checked before it takes the name FILE (which must not exist).
Restore by stopping tokend, putting FILE in place of the store's file (and
removing any PATH-wal and PATH-shm beside it), and starting tokend on it.

For PostgreSQL use its own tools: pg_dump for a logical copy, or
pg_basebackup with WAL archiving for point-in-time recovery (README).
`

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs := flag.NewFlagSet("tokend backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, backupUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	storeURL := fs.String("store", envOr(getenv, "TOKEND_STORE", "sqlite:tokend.db"), "the SQLite store to copy: sqlite:PATH (TOKEND_STORE)")
	out := fs.String("out", "", "the file to write; it must not exist")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tokend backup: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "tokend backup: --out FILE is required")
		return 2
	}
	path, ok := strings.CutPrefix(*storeURL, "sqlite:")
	if !ok {
		fmt.Fprintf(stderr, "tokend backup: %s is not a SQLite store; for PostgreSQL use pg_dump or pg_basebackup (see the README)\n", redactStoreURL(*storeURL))
		return 2
	}
	path = strings.TrimPrefix(path, "//")
	start := time.Now()
	if err := sqlite.Backup(ctx, path, *out); err != nil {
		fmt.Fprintf(stderr, "tokend backup: %v\n", err)
		return 1
	}
	info, err := os.Stat(*out)
	if err != nil {
		fmt.Fprintf(stderr, "tokend backup: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: a consistent copy of %s, %d bytes, in %v\n", *out, path, info.Size(), time.Since(start).Round(time.Millisecond))
	return 0
}
