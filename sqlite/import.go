package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/tokend/tokend"
)

// importRows is how many tokens one INSERT statement carries: 256 rows of
// 28 values stay well under SQLite's 32,766 bound variables, and bigger
// statements save nothing more per row.
const importRows = 256

// importArgs are the values of t's row with the id given (0 to validate
// only), without changing t: a failed import leaves the tokens as they were.
func importArgs(t *tokend.Token, id int64) ([]any, error) {
	c := *t
	c.ID = id // a stale id must not become the grant id, as in CreateToken
	a, err := tokenArgs(&c)
	if err != nil {
		return nil, err
	}
	return append([]any{id}, a...), nil
}

// importSQL inserts n tokens with their ids given.
func importSQL(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", strings.Count(tokenCols, ",")+2), ", ") + ")"
	return `INSERT INTO tokens (id, ` + tokenCols + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// ImportTokens stores many tokens in one transaction, for seeding and
// migrating from another server. It validates each token as CreateToken
// does and fails with the same errors (ECONFLICT for a hash already stored
// or given twice); it is all or nothing per call: on any error no token of
// the call is stored and none is changed. On success every token has its
// new ID, and a zero GrantID becomes the ID, in the order given: ids are
// assigned in slice order.
//
// The call is one transaction of its own: it holds the writer for its whole
// duration, delaying other writes, and its WAL frames until it commits;
// callers importing millions pass them in slices of some tens of thousands.
func (s *Store) ImportTokens(ctx context.Context, toks []*tokend.Token) error {
	if len(toks) == 0 {
		return nil
	}
	// The hashes must differ among the tokens given, as from those stored.
	access := make(map[tokend.Hash]struct{}, len(toks))
	refresh := make(map[tokend.Hash]struct{}, len(toks))
	for _, t := range toks {
		if _, dup := access[t.AccessHash]; dup {
			return errAccessTaken
		}
		access[t.AccessHash] = struct{}{}
		if !t.RefreshHash.IsZero() {
			if _, dup := refresh[t.RefreshHash]; dup {
				return errRefreshTaken
			}
			refresh[t.RefreshHash] = struct{}{}
		}
		// Validated before the writer sees them; the values are made again
		// a statement at a time there, which keeps memory to one
		// statement's worth however many tokens are given.
		if _, err := importArgs(t, 0); err != nil {
			return err
		}
	}
	access, refresh = nil, nil
	var first int64
	err := s.inOwnTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Ids are given explicitly, after every id ever handed out: the
		// AUTOINCREMENT sequence, which the insert then advances.
		err := tx.QueryRowContext(ctx, `SELECT max(
			IFNULL((SELECT seq FROM sqlite_sequence WHERE name = 'tokens'), 0),
			IFNULL((SELECT max(id) FROM tokens), 0)) + 1`).Scan(&first)
		if err != nil {
			return err
		}
		check := tx.StmtContext(ctx, s.checkHashes)
		var full *sql.Stmt
		args := make([]any, 0, importRows*(strings.Count(tokenCols, ",")+2))
		for start := 0; start < len(toks); start += importRows {
			n := min(importRows, len(toks)-start)
			args = args[:0]
			for i, t := range toks[start : start+n] {
				if !t.Minted { // see Token.Minted
					if err := checkHashesWith(ctx, check, 0, t.AccessHash, t.RefreshHash); err != nil {
						return err
					}
				}
				a, err := importArgs(t, first+int64(start+i))
				if err != nil {
					return err
				}
				args = append(args, a...)
			}
			if n < importRows {
				_, err = tx.ExecContext(ctx, importSQL(n), args...)
			} else {
				if full == nil {
					if full, err = tx.PrepareContext(ctx, importSQL(importRows)); err != nil {
						return err
					}
					defer full.Close()
				}
				_, err = full.ExecContext(ctx, args...)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, t := range toks {
		t.ID = first + int64(i)
		if t.GrantID == 0 {
			t.GrantID = t.ID
		}
	}
	return nil
}
