package tokend

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"strconv"
	"time"
)

// The audit log: every management action and every security event, with
// who did it, in which tenant, to what and why. An action's entry is
// written in the same store transaction as the action itself (see
// WithAudit), so the two cannot diverge: a change that is on disk has its
// entry, and an entry tells of a change that happened. Entries never hold a
// secret: targets are ids, names or hashes.

// AuditAction names what an audit entry records.
type AuditAction string

// Management actions.
const (
	AuditServiceCreate      AuditAction = "service.create"
	AuditServiceUpdate      AuditAction = "service.update"
	AuditServiceDelete      AuditAction = "service.delete"
	AuditClientCreate       AuditAction = "client.create"
	AuditClientUpdate       AuditAction = "client.update"
	AuditClientDelete       AuditAction = "client.delete"
	AuditClientRotateSecret AuditAction = "client.rotate_secret"
	AuditKeyCreate          AuditAction = "key.create"
	AuditKeyDelete          AuditAction = "key.delete"
	AuditTokenCreate        AuditAction = "token.create"
	AuditTokenUpdate        AuditAction = "token.update"
	AuditTokenDelete        AuditAction = "token.delete"
	AuditTokenRevoke        AuditAction = "token.revoke"
	AuditTokenImport        AuditAction = "token.import"
	AuditGrantUpdate        AuditAction = "grant.update"
	AuditUserCreate         AuditAction = "user.create"
	AuditUserUpdate         AuditAction = "user.update"
	AuditUserDelete         AuditAction = "user.delete"
)

// Security events.
const (
	// AuditRefreshReuse: a retired refresh token was presented again and
	// its grant revoked.
	AuditRefreshReuse AuditAction = "refresh_token.reuse"
	// AuditCodeReuse: an authorization code was presented a second time
	// and the tokens of its first use revoked.
	AuditCodeReuse AuditAction = "authorization_code.reuse"
	// AuditAuthFailures: a caller failed to authenticate so often that
	// the failure limit now refuses it.
	AuditAuthFailures AuditAction = "auth.repeated_failure"
)

// AuditActions lists every action, for validating filters.
var AuditActions = []AuditAction{
	AuditServiceCreate, AuditServiceUpdate, AuditServiceDelete,
	AuditClientCreate, AuditClientUpdate, AuditClientDelete, AuditClientRotateSecret,
	AuditKeyCreate, AuditKeyDelete,
	AuditTokenCreate, AuditTokenUpdate, AuditTokenDelete, AuditTokenRevoke, AuditTokenImport,
	AuditGrantUpdate, AuditUserCreate, AuditUserUpdate, AuditUserDelete,
	AuditRefreshReuse, AuditCodeReuse, AuditAuthFailures,
}

// Target types of audit entries.
const (
	TargetService = "service"
	TargetClient  = "client"
	TargetKey     = "key"
	TargetToken   = "token"
	TargetGrant   = "grant"   // a token family, by its GrantID
	TargetSubject = "subject" // every token of an end user (Subject names them)
	TargetUser    = "user"    // a built-in user, by username
	TargetImport  = "import"  // a batch of imported tokens
	TargetAddress = "address" // a network source, for authentication failures
)

// AuditEntry is one record of the audit log.
type AuditEntry struct {
	ID        int64 // assigned by the store, increasing
	Time      time.Time
	ServiceID int64 // the tenant; 0 for the organization's own records (its keys)
	// Actor is who acted: "key:ID" (a management key), "client:ID" (an
	// OAuth client, by numeric id), "user:SUBJECT" (an end user through a
	// first-party client), "address:IP" (an unauthenticated caller) or
	// "system".
	Actor  string
	Action AuditAction
	// TargetType and TargetID name what was acted on: a token by id, a
	// client by numeric id, a user by username, a grant by its id... An
	// entry written with a create whose id the store assigns (a token, a
	// key) leaves TargetID empty, and the store fills it in.
	TargetType string
	TargetID   string
	// Subject is the end user whose tokens the action concerned, when the
	// action names one.
	Subject string
	Reason  string
}

type auditKey struct{}

// WithAudit attaches audit entries to the next write made with ctx. Every
// Store write method records the entries attached to its context in the
// same transaction as its change, both or neither; reads ignore them.
func WithAudit(ctx context.Context, entries ...AuditEntry) context.Context {
	if len(entries) == 0 {
		return ctx
	}
	return context.WithValue(ctx, auditKey{}, entries)
}

// AuditEntries returns the entries attached to ctx by WithAudit, for a
// store to write with its change.
func AuditEntries(ctx context.Context) []AuditEntry {
	e, _ := ctx.Value(auditKey{}).([]AuditEntry)
	return e
}

// WithoutAudit detaches audit entries from ctx, for a write that must not
// record them again (the second of two writes for one action).
func WithoutAudit(ctx context.Context) context.Context {
	if AuditEntries(ctx) == nil {
		return ctx
	}
	return context.WithValue(ctx, auditKey{}, []AuditEntry(nil))
}

// audited returns ctx carrying an entry for an action of actor on service
// sid, timed now.
func (c *Core) audited(ctx context.Context, actor string, sid int64, action AuditAction, targetType, targetID string) context.Context {
	return WithAudit(ctx, c.auditEntry(actor, sid, action, targetType, targetID))
}

func (c *Core) auditEntry(actor string, sid int64, action AuditAction, targetType, targetID string) AuditEntry {
	return AuditEntry{Time: c.Now(), ServiceID: sid, Actor: actor, Action: action, TargetType: targetType, TargetID: targetID}
}

// auditReason returns ctx with its entries' Reason and Subject set.
func auditDetail(ctx context.Context, subject, reason string) context.Context {
	entries := AuditEntries(ctx)
	if entries == nil {
		return ctx
	}
	out := make([]AuditEntry, len(entries))
	for i, e := range entries {
		e.Subject, e.Reason = subject, reason
		out[i] = e
	}
	return WithAudit(ctx, out...)
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

func actorOf(p *Principal) string {
	if p == nil {
		return "system"
	}
	return p.Actor()
}

func clientActor(cl *Client) string { return "client:" + idString(cl.ID) }

// AuditFilter selects audit entries; zero fields are unset. Entries come
// newest first, or oldest first with Ascending.
type AuditFilter struct {
	ServiceID  *int64 // nil: every tenant, and the organization's own
	Actor      string
	Action     AuditAction
	TargetType string
	TargetID   string
	Subject    string
	Since      time.Time // inclusive
	Until      time.Time // exclusive

	Ascending bool
	AfterID   int64 // with Ascending: only entries with greater ids
	BeforeID  int64 // without: only entries with smaller ids
	Limit     int   // at least 1
}

// AuditPage is one page of entries.
type AuditPage struct {
	Entries []*AuditEntry
	More    bool
}

// AuditQuery is a request for audit entries.
type AuditQuery struct {
	ServiceID  int64 // 0: every tenant (organization keys only)
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	Subject    string
	Since      time.Time
	Until      time.Time
	PageSize   int // 0: DefaultPageSize
	PageToken  string
	// Ascending lists oldest first, as an export does.
	Ascending bool
}

// AuditList is a page of entries and the token of the next.
type AuditList struct {
	Entries       []*AuditEntry
	NextPageToken string
}

// ListAudit returns audit entries. An organization key with audit.read
// reads every tenant's entries (and the organization's own, ServiceID 0);
// a service key reads its service's.
func (c *Core) ListAudit(ctx context.Context, p *Principal, q AuditQuery) (*AuditList, error) {
	f, err := c.auditFilter(ctx, p, q)
	if err != nil {
		return nil, err
	}
	page, err := c.store.ListAudit(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &AuditList{Entries: page.Entries}
	if page.More && len(page.Entries) > 0 {
		out.NextPageToken = encodeAuditPageToken(q.Ascending, page.Entries[len(page.Entries)-1].ID)
	}
	return out, nil
}

func (c *Core) auditFilter(ctx context.Context, p *Principal, q AuditQuery) (AuditFilter, error) {
	f := AuditFilter{Ascending: q.Ascending}
	if q.ServiceID != 0 {
		if _, err := c.service(ctx, p, q.ServiceID, PermAuditRead); err != nil {
			// A deleted service's log stays readable to the organization.
			if ErrorCode(err) != ENOTFOUND || p == nil || p.ServiceID != 0 || !p.Can(PermAuditRead) {
				return f, err
			}
		}
		f.ServiceID = &q.ServiceID
	} else if err := p.authorizeOrg(PermAuditRead); err != nil {
		return f, err
	}
	for _, v := range []struct{ field, value string }{
		{"actor", q.Actor}, {"target_type", q.TargetType}, {"target_id", q.TargetID}, {"subject", q.Subject},
	} {
		if v.value == "" {
			continue
		}
		if err := validText(v.field, v.value, MaxNameLen); err != nil {
			return f, err
		}
	}
	f.Actor, f.TargetType, f.TargetID, f.Subject = q.Actor, q.TargetType, q.TargetID, q.Subject
	if q.Action != "" {
		if !validAuditAction(AuditAction(q.Action)) {
			return f, Invalid("action", "unknown action %.60q", q.Action)
		}
		f.Action = AuditAction(q.Action)
	}
	f.Since = q.Since.UTC().Truncate(time.Millisecond)
	f.Until = q.Until.UTC().Truncate(time.Millisecond)
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, Invalid("until", "must be after since")
	}
	switch {
	case q.PageSize == 0:
		f.Limit = DefaultPageSize
	case q.PageSize < 1 || q.PageSize > MaxPageSize:
		return f, Invalid("page_size", "must be between 1 and %d", MaxPageSize)
	default:
		f.Limit = q.PageSize
	}
	if q.PageToken != "" {
		id, err := decodeAuditPageToken(q.PageToken, q.Ascending)
		if err != nil {
			return f, err
		}
		if q.Ascending {
			f.AfterID = id
		} else {
			f.BeforeID = id
		}
	}
	return f, nil
}

func validAuditAction(a AuditAction) bool {
	for _, k := range AuditActions {
		if k == a {
			return true
		}
	}
	return false
}

// An audit page token is the last entry's id, tagged with the direction and
// a checksum, like the token lists' (pagetoken.go).
const auditPageTokenTag = 0xa7

func encodeAuditPageToken(asc bool, id int64) string {
	buf := make([]byte, 0, 2+binary.MaxVarintLen64+4)
	dir := byte(0)
	if asc {
		dir = 1
	}
	buf = append(buf, auditPageTokenTag, dir)
	buf = binary.AppendVarint(buf, id)
	buf = binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
	return base64.RawURLEncoding.EncodeToString(buf)
}

func decodeAuditPageToken(s string, asc bool) (int64, error) {
	malformed := Invalid("page_token", "is malformed: pass back next_page_token unchanged")
	buf, err := base64.RawURLEncoding.DecodeString(s)
	// One spelling per token: the decoder would also take stray line
	// breaks and non-zero padding bits.
	if err != nil || base64.RawURLEncoding.EncodeToString(buf) != s || len(buf) < 2+1+4 {
		return 0, malformed
	}
	body, sum := buf[:len(buf)-4], binary.BigEndian.Uint32(buf[len(buf)-4:])
	if crc32.ChecksumIEEE(body) != sum || body[0] != auditPageTokenTag {
		return 0, malformed
	}
	dir := byte(0)
	if asc {
		dir = 1
	}
	if body[1] != dir {
		return 0, Invalid("page_token", "belongs to the other order: keep order the same while paging")
	}
	id, n := binary.Varint(body[2:])
	if n <= 0 || n != len(body)-2 || id <= 0 {
		return 0, malformed
	}
	return id, nil
}

// RecordAuthFailures records that a caller failed to authenticate so often
// that the failure limit now refuses it: a security event with no change
// of its own to ride on. sid is the service the attempts named (0: none);
// actor names the caller ("address:IP", "client:ID"); surface says where
// ("oauth", "api"...). The adapters that keep the limits call it once per
// caller each time its limit is reached, so a flood of failures costs a
// bounded number of writes.
func (c *Core) RecordAuthFailures(ctx context.Context, sid int64, actor, surface string) error {
	e := c.auditEntry(actor, sid, AuditAuthFailures, "", "")
	if len(actor) > MaxNameLen {
		e.Actor = actor[:MaxNameLen]
	}
	e.Reason = "too many failed authentications at " + surface
	return c.store.AppendAudit(ctx, e)
}
