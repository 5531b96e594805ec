// Package migrate reads a store's embedded migrations. Each store applies
// them in its own SQL and transaction; only the naming rule is shared.
package migrate

import (
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// Migration is one file, NNNN_name.sql, of a store's migrations.
type Migration struct {
	Version int
	Name    string
}

// List returns the migrations in dir of fsys ordered by version; store
// names the store in errors. A file not named NNNN_name.sql, or two files
// with one version, is an error.
func List(fsys fs.FS, dir, store string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("%s: migration %q is not named NNNN_name.sql", store, e.Name())
		}
		out = append(out, Migration{Version: v, Name: e.Name()})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("%s: two migrations with version %d", store, out[i].Version)
		}
	}
	return out, nil
}
