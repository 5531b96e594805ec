package tokend

import "context"

// Moving a deployment between stores (tokend export and import, package
// transfer): every record is copied as it is stored, ids and hashes
// included, so that references between records (a token's grant, a
// retired refresh token's record, a code's token) hold in the copy.

// Record is one stored record; exactly one field is set.
type Record struct {
	Service *Service
	Key     *Key
	Client  *Client
	User    *User
	Token   *Token
	Retired *RetiredRefresh
	Code    *AuthorizationCode
	Audit   *AuditEntry
}

// RecordCounts counts records by kind.
type RecordCounts struct {
	Services       int `json:"services"`
	Keys           int `json:"keys"`
	Clients        int `json:"clients"`
	Users          int `json:"users"`
	Tokens         int `json:"tokens"`
	RetiredRefresh int `json:"retired_refresh_tokens"`
	Codes          int `json:"authorization_codes"`
	Audit          int `json:"audit_entries"`
}

// Add counts r.
func (c *RecordCounts) Add(r *Record) {
	switch {
	case r.Service != nil:
		c.Services++
	case r.Key != nil:
		c.Keys++
	case r.Client != nil:
		c.Clients++
	case r.User != nil:
		c.Users++
	case r.Token != nil:
		c.Tokens++
	case r.Retired != nil:
		c.RetiredRefresh++
	case r.Code != nil:
		c.Codes++
	case r.Audit != nil:
		c.Audit++
	}
}

// Total is the number of records of every kind.
func (c RecordCounts) Total() int {
	return c.Services + c.Keys + c.Clients + c.Users + c.Tokens + c.RetiredRefresh + c.Codes + c.Audit
}

// Exporter is a store that can hand out every record it holds.
type Exporter interface {
	// Export calls fn with every record, all read from one consistent
	// snapshot, parents before what refers to them: services, keys,
	// clients, users, tokens, retired refresh tokens, authorization codes,
	// audit entries (by id).
	// It returns the counts of that snapshot, counted apart from the
	// records read, so that the caller can check none was missed. An
	// error from fn stops it and is returned as it is.
	Export(ctx context.Context, fn func(*Record) error) (RecordCounts, error)
}

// Importer is a store that can take records exactly as they were stored.
type Importer interface {
	// Import stores the records next returns, in order, until next
	// returns io.EOF, with their ids as given, all in one transaction: on
	// any error nothing is stored. The records must come in Export's
	// order. A unique value already taken is ECONFLICT, as for Create*;
	// ids the store hands out later are above every imported one. It
	// returns the counts of what it stored.
	Import(ctx context.Context, next func() (*Record, error)) (RecordCounts, error)
	// CountRecords counts the records the store holds.
	CountRecords(ctx context.Context) (RecordCounts, error)
}
