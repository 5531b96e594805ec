package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/sqlite"
)

// closableStore is a Store the process owns and must close.
type closableStore interface {
	tokend.Store
	SchemaVersion(ctx context.Context) (int, error)
	Close() error
}

// openStore opens (creating and migrating) the store a URL names.
func openStore(ctx context.Context, url string) (closableStore, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return nil, fmt.Errorf("--store %q: give a file path, e.g. sqlite:tokend.db", url)
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return nil, fmt.Errorf("--store: PostgreSQL is not supported by this version yet; use sqlite:PATH")
	default:
		return nil, fmt.Errorf("--store %q: unknown store; use sqlite:PATH", redactStoreURL(url))
	}
}
