package tokend

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"
)

// Importing tokens in bulk, for migrating from another server. A batch is
// validated whole before anything is written: every token under the rules
// of CreateToken, plus the values it carries against each other and against
// the store. A batch with any invalid token is refused with the reason of
// each; a dry run stops after validation; otherwise the batch is stored in
// one transaction, all or nothing (Store.ImportTokens), so a failure never
// leaves half a batch behind and the same batch can simply be sent again.

// MaxImportTokens bounds one batch: its validation reads the store once per
// value, and its write holds the store's writer for its whole length.
const MaxImportTokens = 1000

// importsKept is how many finished batches Imports remembers.
const importsKept = 256

// ImportState is where a batch stands.
type ImportState string

const (
	ImportValidated ImportState = "validated" // a dry run: every token is valid, nothing was written
	ImportRunning   ImportState = "running"   // being written
	ImportSucceeded ImportState = "succeeded" // every token was stored
	ImportFailed    ImportState = "failed"    // the write failed; no token of the batch was stored
)

// ImportItemError says why one token of a batch was refused; Index counts
// from 0 in the order the batch gave them.
type ImportItemError struct {
	Index int
	Err   error
}

// ImportRejected is the error of a batch refused because some of its
// tokens are invalid. Its domain code is EINVALID; Items has each reason.
type ImportRejected struct {
	Items []ImportItemError
	Err   *Error // what the whole batch is told
}

func (e *ImportRejected) Error() string { return e.Err.Error() }
func (e *ImportRejected) Unwrap() error { return e.Err }

// ImportStatus is a batch's outcome, or its progress while it is written.
type ImportStatus struct {
	ID        string
	ServiceID int64
	DryRun    bool
	State     ImportState
	Total     int   // tokens in the batch
	Stored    int   // tokens written: all of them, or none
	Err       error // why a batch failed to be written
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Imports validates and writes import batches and remembers the outcome of
// the last few hundred in memory, for callers that poll a batch by its id.
// The outcome is also the answer to the call that ran the batch, and the
// tokens are in the store, so a restart loses only those reports.
type Imports struct {
	core  *Core
	mu    sync.Mutex
	byID  map[string]*ImportStatus
	order []string // ids, oldest first
}

// NewImports returns an importer over c.
func NewImports(c *Core) *Imports {
	return &Imports{core: c, byID: map[string]*ImportStatus{}}
}

// Import validates a batch of tokens for service sid and, unless dryRun,
// stores them all. Tokens must carry their access token value (a value
// generated here would be shown to no one); one without a refresh token
// value gets no refresh token. It returns the batch's status, which Status
// then reports under its ID. A batch with invalid tokens is refused with an
// *ImportRejected and is not remembered. If the write fails, the status
// (State failed, nothing stored) comes with the error.
func (im *Imports) Import(ctx context.Context, p *Principal, sid int64, items []TokenInput, dryRun bool) (*ImportStatus, error) {
	c := im.core
	svc, err := c.service(ctx, p, sid, PermTokensWrite)
	if err != nil {
		return nil, err
	}
	switch {
	case len(items) == 0:
		return nil, Invalid("body", "holds no tokens")
	case len(items) > MaxImportTokens:
		return nil, Invalid("body", "holds %d tokens; a batch holds at most %d", len(items), MaxImportTokens)
	}
	toks, rejected, err := im.validate(ctx, svc, items)
	if err != nil {
		return nil, err
	}
	if len(rejected) > 0 {
		return nil, &ImportRejected{Items: rejected, Err: Invalid("body",
			"%d of %d tokens are invalid; nothing was imported", len(rejected), len(items))}
	}
	now := c.Now()
	st := &ImportStatus{ID: rand.Text(), ServiceID: sid, DryRun: dryRun, State: ImportRunning,
		Total: len(items), CreatedAt: now, UpdatedAt: now}
	if dryRun {
		st.State = ImportValidated
	}
	im.remember(st)
	if dryRun {
		return im.snapshot(st.ID), nil
	}
	// Once accepted, the batch is written even if the caller goes away:
	// an abandoned write would leave the caller unsure of what happened.
	actx := auditDetail(c.audited(ctx, actorOf(p), sid, AuditTokenImport, TargetImport, st.ID), "", fmt.Sprintf("%d tokens", len(toks)))
	err = c.store.ImportTokens(context.WithoutCancel(actx), toks)
	im.finish(st.ID, len(toks), err)
	return im.snapshot(st.ID), err
}

// validate prepares every token of a batch and collects each one's reason
// for refusal. It fails as a whole only when the store cannot answer.
func (im *Imports) validate(ctx context.Context, svc *Service, items []TokenInput) ([]*Token, []ImportItemError, error) {
	c := im.core
	type resolved struct {
		cl  *Client
		err error
	}
	clients := map[string]resolved{}
	access := make(map[Hash]int, len(items))
	refresh := make(map[Hash]int, len(items))
	var toks []*Token
	var rejected []ImportItemError
	for i, in := range items {
		t, err := func() (*Token, error) {
			if in.AccessToken == "" {
				return nil, Invalid("access_token", "is required in an import: a generated value would be shown to no one")
			}
			in.NoRefreshToken = in.RefreshToken == ""
			if in.Client == "" {
				return nil, Invalid("client", "is required")
			}
			r, ok := clients[in.Client]
			if !ok {
				r.cl, r.err = c.resolveClient(ctx, svc.ID, in.Client)
				clients[in.Client] = r
			}
			if r.err != nil {
				return nil, r.err
			}
			issued, err := c.prepare(svc, r.cl, in)
			if err != nil {
				return nil, err
			}
			t := issued.Token
			if j, dup := access[t.AccessHash]; dup {
				return nil, &Error{Code: ECONFLICT, Field: "access_token", Message: fmt.Sprintf("has the same value as token %d of the batch", j)}
			}
			if j, dup := refresh[t.RefreshHash]; dup && t.HasRefresh() {
				return nil, &Error{Code: ECONFLICT, Field: "refresh_token", Message: fmt.Sprintf("has the same value as token %d of the batch", j)}
			}
			access[t.AccessHash] = i
			if t.HasRefresh() {
				refresh[t.RefreshHash] = i
			}
			if err := im.notStored(ctx, t); err != nil {
				return nil, err
			}
			return t, nil
		}()
		switch {
		case err == nil:
			toks = append(toks, t)
		case ErrorCode(err) == EUNAVAILABLE || ErrorCode(err) == EINTERNAL:
			return nil, nil, err // the store's trouble, not the token's
		default:
			rejected = append(rejected, ImportItemError{Index: i, Err: err})
		}
	}
	return toks, rejected, nil
}

// notStored checks that no stored token has t's values.
func (im *Imports) notStored(ctx context.Context, t *Token) error {
	exists := func(field string, get func(context.Context, Hash) (*Token, error), h Hash) error {
		_, err := get(ctx, h)
		switch ErrorCode(err) {
		case ENOTFOUND:
			return nil
		case "":
			return &Error{Code: ECONFLICT, Field: field, Message: "a token with this value already exists"}
		}
		return err
	}
	if err := exists("access_token", im.core.store.GetTokenByAccessHash, t.AccessHash); err != nil {
		return err
	}
	if t.HasRefresh() {
		return exists("refresh_token", im.core.store.GetTokenByRefreshHash, t.RefreshHash)
	}
	return nil
}

// Status reports batch id of service sid.
func (im *Imports) Status(p *Principal, sid int64, id string) (*ImportStatus, error) {
	if err := p.authorize(sid, PermTokensRead); err != nil {
		return nil, err
	}
	st := im.snapshot(id)
	if st == nil || st.ServiceID != sid {
		return nil, NotFound("batch")
	}
	return st, nil
}

func (im *Imports) remember(st *ImportStatus) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.byID[st.ID] = st
	im.order = append(im.order, st.ID)
	// Forget the oldest finished batches; a running one is kept until done.
	for i := 0; len(im.byID) > importsKept && i < len(im.order); {
		if old := im.byID[im.order[i]]; old.State != ImportRunning {
			delete(im.byID, old.ID)
			im.order = append(im.order[:i], im.order[i+1:]...)
			continue
		}
		i++
	}
}

func (im *Imports) finish(id string, n int, err error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	st := im.byID[id]
	if st == nil {
		return
	}
	st.UpdatedAt = im.core.Now()
	if err != nil {
		st.State, st.Err = ImportFailed, err
		return
	}
	st.State, st.Stored = ImportSucceeded, n
}

// snapshot returns a copy, so callers never share the status being written.
func (im *Imports) snapshot(id string) *ImportStatus {
	im.mu.Lock()
	defer im.mu.Unlock()
	st, ok := im.byID[id]
	if !ok {
		return nil
	}
	cp := *st
	return &cp
}
