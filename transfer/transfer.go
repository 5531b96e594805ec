// Package transfer moves a whole deployment between stores as JSON lines:
// tokend export writes every record of one store, tokend import reads them
// into another (SQLite to PostgreSQL or back). Records keep their ids and
// hashes, so tokens issued before the move stay valid after it; no secret
// is in the file, only the hashes the stores hold (format.go).
//
// Both directions are checked by counts: an export ends with the number of
// records of each kind in the snapshot it read, which must equal what it
// wrote; an import refuses a file whose records differ from its end line,
// or that lacks one (a cut-off copy), and writes nothing then; afterwards
// the target must count exactly what the file held.
package transfer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tokend/tokend"
)

// Progress is how far an export or import is, for a progress bar.
type Progress struct {
	Records int   // records so far
	Total   int   // records in all, when known (export); 0 otherwise
	Bytes   int64 // bytes read so far (import)
}

// progressEvery is how many records pass between two progress reports.
const progressEvery = 1000

// Export writes every record of src to w, and returns how many of each
// kind. progress, when set, is told how far it is now and then, and at
// the end. now is written in the header.
func Export(ctx context.Context, src tokend.Exporter, w io.Writer, now time.Time, total int, progress func(Progress)) (tokend.RecordCounts, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&line{Type: "header", Format: formatName, Version: formatVersion, ExportedAt: now.UTC()}); err != nil {
		return tokend.RecordCounts{}, err
	}
	var written tokend.RecordCounts
	snapshot, err := src.Export(ctx, func(r *tokend.Record) error {
		l, err := lineOf(r)
		if err != nil {
			return err
		}
		if err := enc.Encode(l); err != nil {
			return err
		}
		written.Add(r)
		if progress != nil && written.Total()%progressEvery == 0 {
			progress(Progress{Records: written.Total(), Total: total})
		}
		return nil
	})
	if err != nil {
		return written, err
	}
	if written != snapshot {
		return written, fmt.Errorf("transfer: the store counted %+v but the export read %+v", snapshot, written)
	}
	if err := enc.Encode(&line{Type: "end", Counts: &written}); err != nil {
		return written, err
	}
	if progress != nil {
		progress(Progress{Records: written.Total(), Total: written.Total()})
	}
	return written, bw.Flush()
}

// ErrNotEmpty is returned by Import for a target that holds records.
var ErrNotEmpty = errors.New("transfer: the target store is not empty: import copies a whole deployment into an empty store (run tokend migrate on a new one, and import before the first tokend serve, which creates a key)")

// Import reads an export from r into dst, which must be empty, in one
// transaction: on any error — a malformed line, a count that does not add
// up, a missing end line, a unique value taken — nothing is stored.
func Import(ctx context.Context, dst tokend.Importer, r io.Reader, progress func(Progress)) (tokend.RecordCounts, error) {
	before, err := dst.CountRecords(ctx)
	if err != nil {
		return tokend.RecordCounts{}, err
	}
	if before.Total() != 0 {
		return tokend.RecordCounts{}, ErrNotEmpty
	}
	cr := &countingReader{r: r}
	sc := bufio.NewScanner(cr)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20) // a token line is well under 16 MiB
	n := 0                                    // lines read
	var (
		read tokend.RecordCounts
		end  *tokend.RecordCounts
	)
	next := func() (*tokend.Record, error) {
		for sc.Scan() {
			n++
			if len(sc.Bytes()) == 0 {
				continue
			}
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				return nil, fmt.Errorf("transfer: line %d: %v", n, err)
			}
			switch {
			case n == 1 && (l.Type != "header" || l.Format != formatName):
				return nil, fmt.Errorf("transfer: line 1 is not a tokend export header")
			case n == 1 && l.Version != formatVersion:
				return nil, fmt.Errorf("transfer: the export has format version %d; this program reads %d", l.Version, formatVersion)
			case n == 1:
				continue
			case end != nil:
				return nil, fmt.Errorf("transfer: line %d follows the end line", n)
			case l.Type == "end":
				if l.Counts == nil {
					return nil, fmt.Errorf("transfer: line %d: the end line has no counts", n)
				}
				end = l.Counts
				continue
			}
			rec, err := l.record()
			if err != nil {
				return nil, fmt.Errorf("transfer: line %d: %w", n, err)
			}
			read.Add(rec)
			if progress != nil && read.Total()%progressEvery == 0 {
				progress(Progress{Records: read.Total(), Bytes: cr.n})
			}
			return rec, nil
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("transfer: line %d: %w", n+1, err)
		}
		switch {
		case n == 0:
			return nil, fmt.Errorf("transfer: the input is empty")
		case end == nil:
			return nil, fmt.Errorf("transfer: the input ends without its end line: the export is cut off")
		case *end != read:
			return nil, fmt.Errorf("transfer: the end line counts %+v but the file holds %+v", *end, read)
		}
		return nil, io.EOF
	}
	stored, err := dst.Import(ctx, next)
	if err != nil {
		return stored, err
	}
	if progress != nil {
		progress(Progress{Records: read.Total(), Total: read.Total(), Bytes: cr.n})
	}
	after, err := dst.CountRecords(ctx)
	if err != nil {
		return stored, err
	}
	if stored != read || after != read {
		return stored, fmt.Errorf("transfer: the file holds %+v, the import stored %+v and the store now counts %+v", read, stored, after)
	}
	return stored, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
