package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/postgres"
	"github.com/tokend/tokend/sqlite"
)

// closableStore is a Store the process owns and must close.
type closableStore interface {
	tokend.Store
	tokend.Exporter
	tokend.Importer
	SchemaVersion(ctx context.Context) (int, error)
	Close() error
}

// openedStore is an open store and, for one that several processes share,
// the feed of the changes the others make.
type openedStore struct {
	closableStore
	// onChange delivers other processes' changes (PostgreSQL); nil for
	// SQLite, whose file one server owns.
	onChange func(ctx context.Context, fn func(tokend.Change)) error
}

// storeURLHelp describes the store URLs, for flag usage.
const storeURLHelp = "store URL: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (TOKEND_STORE)"

// openStore opens (creating and migrating) the store a URL names.
func openStore(ctx context.Context, url string) (*openedStore, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return nil, fmt.Errorf("--store %q: give a file path, e.g. sqlite:tokend.db", url)
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		return &openedStore{closableStore: s}, nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("--store %s: %w", redactStoreURL(url), err)
		}
		return &openedStore{closableStore: s, onChange: s.OnChange}, nil
	default:
		return nil, fmt.Errorf("--store %q: unknown store; use sqlite:PATH or postgres://…", redactStoreURL(url))
	}
}
