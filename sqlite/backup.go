package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the database at path to out while
// other processes (a running tokend) go on reading and writing it. The
// copy is SQLite's VACUUM INTO from one read transaction: a snapshot of
// every write committed when it began, compacted, in a database file of
// its own (no WAL to carry along). It is written under a temporary name,
// synced, checked with SQLite's integrity check and only then renamed to
// out, so that out is either a whole, good copy or absent. out must not
// exist.
func Backup(ctx context.Context, path, out string) (err error) {
	file, _, err := splitPath(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("sqlite: backup: %s already exists", out)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".partial-*")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName) // VACUUM INTO wants to create the file itself
	defer func() {
		if err != nil {
			os.Remove(tmpName)
		}
	}()

	// Read-only: the backup must never write to the live database. The
	// busy timeout rides out a checkpoint holding a lock for a moment.
	src, err := sql.Open("sqlite", "file:"+file+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, tmpName); err != nil {
		return fmt.Errorf("sqlite: backup of %s: %w", file, err)
	}
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := checkIntegrity(ctx, tmpName); err != nil {
		return err
	}
	if err := os.Rename(tmpName, out); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// The rename is durable once the directory is.
	if err := syncFile(filepath.Dir(out)); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// checkIntegrity runs SQLite's integrity check on the database file path.
func checkIntegrity(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("sqlite: checking the backup: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("sqlite: the backup fails SQLite's integrity check: %s", res)
	}
	return nil
}
