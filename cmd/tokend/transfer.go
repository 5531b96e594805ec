package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/bench"
	"github.com/tokend/tokend/transfer"
)

// tokend export and tokend import move a whole deployment between stores
// (package transfer), e.g. from SQLite to PostgreSQL:
//
//	tokend export --store sqlite:tokend.db --output tokend.jsonl
//	tokend migrate --store postgres://…
//	tokend import --store postgres://… --input tokend.jsonl

func transferFlags(name, usage string, stderr io.Writer, getenv env) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("tokend "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, fs.String("store", envOr(getenv, "TOKEND_STORE", "sqlite:tokend.db"), storeURLHelp)
}

const exportUsage = `Usage: tokend export [--store URL] [--output FILE]

Writes every record of the store — services, keys, clients, users, tokens
(as the hashes the store holds), retired refresh tokens, authorization
codes, the audit log — as JSON lines, read from one snapshot, so a server may keep
running. The file holds no secret but the hashes; keep it as private as
the database. The last line counts the records of each kind.
`

const importUsage = `Usage: tokend import [--store URL] [--input FILE]

Reads what tokend export wrote into an empty store (create it with tokend
migrate; do not start tokend serve on it first, which adds a key), in one
transaction: a file that is cut off, miscounted or malformed stores
nothing. The store's counts are checked against the file's afterwards.
`

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	fs, storeURL := transferFlags("export", exportUsage, stderr, getenv)
	output := fs.String("output", "-", "file to write; - for standard output")
	if code, ok := parseTransferFlags(fs, args, "export", stderr); !ok {
		return code
	}
	store, err := openStore(ctx, *storeURL)
	if err != nil {
		fmt.Fprintf(stderr, "tokend export: %v\n", err)
		return 1
	}
	defer store.Close()
	total, err := store.CountRecords(ctx) // for the progress bar; the export counts its own snapshot
	if err != nil {
		fmt.Fprintf(stderr, "tokend export: %v\n", err)
		return 1
	}
	w, commit, err := createOutput(*output, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "tokend export: %v\n", err)
		return 1
	}
	bar := newProgressBar(stderr, "tokend export")
	counts, err := transfer.Export(ctx, store, w, time.Now(), total.Total(), bar.show)
	bar.finish()
	if err = commit(err); err != nil {
		fmt.Fprintf(stderr, "tokend export: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "tokend export: %s\n", describeCounts(counts))
	return 0
}

func runImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	fs, storeURL := transferFlags("import", importUsage, stderr, getenv)
	input := fs.String("input", "-", "file to read; - for standard input")
	if code, ok := parseTransferFlags(fs, args, "import", stderr); !ok {
		return code
	}
	var (
		r    = stdin
		size int64
	)
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			fmt.Fprintf(stderr, "tokend import: %v\n", err)
			return 1
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		r = f
	}
	store, err := openStore(ctx, *storeURL)
	if err != nil {
		fmt.Fprintf(stderr, "tokend import: %v\n", err)
		return 1
	}
	defer store.Close()
	bar := newProgressBar(stderr, "tokend import")
	bar.size = size
	counts, err := transfer.Import(ctx, store, r, bar.show)
	bar.finish()
	if err != nil {
		fmt.Fprintf(stderr, "tokend import: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "imported %s into %s\n", describeCounts(counts), redactStoreURL(*storeURL))
	return 0
}

func parseTransferFlags(fs *flag.FlagSet, args []string, name string, stderr io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tokend %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2, false
	}
	return 0, true
}

// createOutput opens where an export goes. A file is written beside its
// final name and renamed into place only if the export succeeds, so that
// a failed export never leaves a file that looks whole; commit does that
// (or removes it) given the export's outcome.
func createOutput(name string, stdout io.Writer) (io.Writer, func(error) error, error) {
	if name == "-" {
		return stdout, func(err error) error { return err }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return nil, nil, err
	}
	commit := func(err error) error {
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), name)
		}
		if err != nil {
			os.Remove(f.Name())
		}
		return err
	}
	return f, commit, nil
}

func describeCounts(c tokend.RecordCounts) string {
	return fmt.Sprintf("%s records: %d services, %d keys, %d clients, %d users, %s tokens, %s retired refresh tokens, %d authorization codes",
		bench.Thousands(int64(c.Total())), c.Services, c.Keys, c.Clients, c.Users,
		bench.Thousands(int64(c.Tokens)), bench.Thousands(int64(c.RetiredRefresh)), c.Codes)
}

// progressBar draws how far an export or import is on one terminal line,
// and nothing when standard error is not a terminal (a log, a pipe).
type progressBar struct {
	w     io.Writer // nil: not a terminal
	label string
	size  int64 // the input's size, when known
	drawn bool
}

func newProgressBar(stderr io.Writer, label string) *progressBar {
	b := &progressBar{label: label}
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		b.w = f
	}
	return b
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && f.Name() != os.DevNull
}

func (b *progressBar) show(p transfer.Progress) {
	if b.w == nil {
		return
	}
	var frac float64
	switch {
	case p.Total > 0:
		frac = float64(p.Records) / float64(p.Total)
	case b.size > 0:
		frac = float64(p.Bytes) / float64(b.size)
	}
	frac = min(max(frac, 0), 1)
	const width = 30
	filled := int(frac * width)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < filled {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(b.w, "\r%s [%s] %3.0f%% %s records", b.label, bar, 100*frac, bench.Thousands(int64(p.Records)))
	b.drawn = true
}

func (b *progressBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
