package passport

import (
	"strconv"
	"time"

	"github.com/tokend/tokend"
)

// Grant flows. Passport names four; tokend's grant types map onto them by
// how the token came to be (docs/passport.md):
//
//	GRANT_FLOW_CLIENT_CREDENTIALS  CLIENT_CREDENTIALS   a service acting for itself
//	GRANT_FLOW_PASSWORD            PASSWORD             a user's password sent by the client
//	GRANT_FLOW_LOGIN               AUTHORIZATION_CODE   a user signed in through the host's login page
//	GRANT_FLOW_ENTITY_SETUP        PRE_AUTHORIZED_CODE  handed over when an entity is set up, before any login
//
// Tokens of any other grant show GRANT_FLOW_ENUM_UNSPECIFIED (their
// grant_type says which), and no filter selects them.
const flowUnspecified = "GRANT_FLOW_ENUM_UNSPECIFIED"

var grantOfFlow = map[string]tokend.GrantType{
	"GRANT_FLOW_CLIENT_CREDENTIALS": tokend.GrantClientCredentials,
	"GRANT_FLOW_PASSWORD":           tokend.GrantPassword,
	"GRANT_FLOW_ENTITY_SETUP":       tokend.GrantPreAuthorizedCode,
	"GRANT_FLOW_LOGIN":              tokend.GrantAuthorizationCode,
}

// grantFlows lists the flows in Passport's order, for error messages.
var grantFlows = []string{"GRANT_FLOW_CLIENT_CREDENTIALS", "GRANT_FLOW_PASSWORD", "GRANT_FLOW_ENTITY_SETUP", "GRANT_FLOW_LOGIN"}

func flowOf(g tokend.GrantType) string {
	for flow, grant := range grantOfFlow {
		if grant == g {
			return flow
		}
	}
	return flowUnspecified
}

// Token statuses, in the style of Passport's enums.
var statusNames = map[tokend.TokenStatus]string{
	tokend.StatusActive:  "TOKEN_STATUS_ACTIVE",
	tokend.StatusExpired: "TOKEN_STATUS_EXPIRED",
	tokend.StatusRevoked: "TOKEN_STATUS_REVOKED",
}

// tokenJSON is a token as Passport shows it: metadata, never a value.
type tokenJSON struct {
	TokenID   string     `json:"token_id"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"` // null: never (a persistent token)
	UpdatedAt *time.Time `json:"updated_at"` // the last refresh; null: never refreshed
	Scopes    []string   `json:"scopes"`
	Roles     []string   `json:"roles"`
	GrantFlow string     `json:"grant_flow"`
	GrantType string     `json:"grant_type"` // tokend's own name, for flows Passport has no name for
	UserID    string     `json:"user_id"`
	AccountID string     `json:"account_id"`
	ClientID  string     `json:"client_id"` // "" when the client was deleted
	Status    string     `json:"status"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

type tokenList struct {
	Tokens     []tokenJSON `json:"tokens"`
	Pagination pagination  `json:"pagination_info"`
}

type pagination struct {
	TotalElements int `json:"total_elements"`
	TotalPages    int `json:"total_pages"`
	CurrentPage   int `json:"current_page"`
	PageSize      int `json:"page_size"`
	// FirstRequestTimestamp is the snapshot, as seconds and nanos: the
	// two query parameters that bring it back.
	FirstRequestTimestamp timestamp `json:"first_request_timestamp"`
}

// timestamp is a google.protobuf.Timestamp as its two fields.
type timestamp struct {
	Seconds int64 `json:"seconds"`
	Nanos   int32 `json:"nanos"`
}

func renderToken(t *tokend.Token, cl *tokend.Client, now time.Time) tokenJSON {
	out := tokenJSON{
		TokenID:   strconv.FormatInt(t.ID, 10),
		CreatedAt: t.CreatedAt.UTC(),
		ExpiresAt: optTime(t.ExpiresAt()),
		UpdatedAt: optTime(t.LastRefreshedAt),
		Scopes:    nonNil(t.Scopes),
		Roles:     nonNil(t.Roles),
		GrantFlow: flowOf(t.GrantType),
		GrantType: string(t.GrantType),
		UserID:    t.Subject,
		AccountID: t.AccountID,
		Status:    statusNames[t.Status(now)],
		RevokedAt: optTime(t.RevokedAt),
	}
	if cl != nil {
		out.ClientID = cl.ClientID
	}
	return out
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
