package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tokend/tokend"
)

// zeroMillis is what time.Time{} becomes in a NOT NULL millisecond column,
// so that a zero time read back is zero again.
var zeroMillis = time.Time{}.UnixMilli()

// millis encodes a time for a nullable column: NULL when unset.
func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func timeOf(ms sql.NullInt64) time.Time {
	if !ms.Valid || ms.Int64 == zeroMillis {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64).UTC()
}

func timeOfMs(ms int64) time.Time { return timeOf(sql.NullInt64{Int64: ms, Valid: true}) }

// text stores "" as NULL, so that "unset" is one value (IS NULL) in every
// query rather than two.
func text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hashArg(h tokend.Hash) any {
	if h.IsZero() {
		return nil
	}
	return h[:]
}

func hashOf(b []byte) (tokend.Hash, error) {
	var h tokend.Hash
	if len(b) == 0 {
		return h, nil
	}
	if len(b) != len(h) {
		return h, fmt.Errorf("sqlite: stored hash has %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// words joins values that never hold a space. The core guarantees that for
// the lists stored this way; the check turns a broken guarantee into an
// error instead of a list that reads back differently.
func words[T ~string](field string, list []T) (any, error) {
	if len(list) == 0 {
		return nil, nil
	}
	var b strings.Builder
	for i, v := range list {
		if v == "" || strings.ContainsAny(string(v), " \t\n\r\f\v") {
			return nil, tokend.Invalid(field, "values must be non-empty and without spaces")
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(v))
	}
	return b.String(), nil
}

// wordsOf splits a space-joined column. Empty lists read back as empty, not
// nil, slices: the core writes them that way for the always-present lists.
func wordsOf[T ~string](s sql.NullString) []T {
	f := strings.Fields(s.String)
	out := make([]T, len(f))
	for i, v := range f {
		out[i] = T(v)
	}
	return out
}

// optWordsOf is wordsOf for optional lists, which the core leaves nil.
func optWordsOf[T ~string](s sql.NullString) []T {
	if s.String == "" {
		return nil
	}
	return wordsOf[T](s)
}

// jsonList stores a list whose values may hold spaces (URIs) as a JSON
// array, NULL when empty.
func jsonList(list []string) (any, error) {
	if len(list) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func jsonListOf(s sql.NullString, optional bool) ([]string, error) {
	if s.String == "" {
		if optional {
			return nil, nil
		}
		return []string{}, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s.String), &out); err != nil {
		return nil, fmt.Errorf("sqlite: stored list is not JSON: %w", err)
	}
	return out, nil
}
