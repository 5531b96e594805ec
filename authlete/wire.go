package authlete

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/tokend/tokend"
)

// Authlete's JSON shapes and their translation to and from the core's
// values. Field names are the TypeScript SDK's (its src/models); a request
// field tokend cannot honour is refused by name rather than ignored.

// millis is a time as Authlete sends it: milliseconds since the epoch, 0
// for "none".
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// unsupported refuses a request field tokend has no counterpart for.
func unsupported(field, why string) error {
	return &tokend.Error{Code: tokend.EUNSUPPORTED, Field: field, Message: "is not supported by tokend: " + why}
}

// authzDetails is Authlete's form of RFC 9396 authorization details: an
// object with the elements, where a member RFC 9396 does not name travels
// in otherFields as a JSON object in a string. The RFC's own form (a bare
// array) is accepted too.
type authzDetails struct {
	Elements []authzElement `json:"elements"`
}

type authzElement struct {
	Type        string   `json:"type"`
	Locations   []string `json:"locations,omitempty"`
	Actions     []string `json:"actions,omitempty"`
	DataTypes   []string `json:"dataTypes,omitempty"`
	Identifier  string   `json:"identifier,omitempty"`
	Privileges  []string `json:"privileges,omitempty"`
	OtherFields string   `json:"otherFields,omitempty"`
}

func (a *authzDetails) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		raw, err := rfcToElements(t)
		if err != nil {
			return err
		}
		a.Elements = raw
		return nil
	}
	type plain authzDetails
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode((*plain)(a))
}

// rfc9396 renders the details as the core keeps them (RFC 9396's array);
// nil for none.
func (a *authzDetails) rfc9396() (json.RawMessage, error) {
	if a == nil {
		return nil, nil
	}
	out := make([]map[string]any, len(a.Elements))
	for i, e := range a.Elements {
		m := map[string]any{}
		if e.OtherFields != "" {
			if err := json.Unmarshal([]byte(e.OtherFields), &m); err != nil {
				return nil, tokend.Invalid("authorization_details", "element %d: otherFields must hold a JSON object", i)
			}
		}
		m["type"] = e.Type
		setList(m, "locations", e.Locations)
		setList(m, "actions", e.Actions)
		setList(m, "datatypes", e.DataTypes)
		setList(m, "privileges", e.Privileges)
		if e.Identifier != "" {
			m["identifier"] = e.Identifier
		}
		out[i] = m
	}
	b, err := json.Marshal(out)
	return b, err
}

func setList(m map[string]any, key string, v []string) {
	if v != nil {
		m[key] = v
	}
}

// authzFromCore renders the core's RFC 9396 array in Authlete's form.
func authzFromCore(raw json.RawMessage) *authzDetails {
	if len(raw) == 0 {
		return nil
	}
	els, err := rfcToElements(raw)
	if err != nil {
		return nil // the core stores only arrays of objects it validated
	}
	return &authzDetails{Elements: els}
}

func rfcToElements(raw []byte) ([]authzElement, error) {
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &objs); err != nil {
		return nil, tokend.Invalid("authorization_details", "must be an array of objects (RFC 9396) or {\"elements\": [...]}")
	}
	out := make([]authzElement, len(objs))
	for i, o := range objs {
		e := &out[i]
		strs := func(key string, dst *[]string) error {
			if v, ok := o[key]; ok {
				delete(o, key)
				return json.Unmarshal(v, dst)
			}
			return nil
		}
		str := func(key string, dst *string) error {
			if v, ok := o[key]; ok {
				delete(o, key)
				return json.Unmarshal(v, dst)
			}
			return nil
		}
		for _, err := range []error{str("type", &e.Type), str("identifier", &e.Identifier),
			strs("locations", &e.Locations), strs("actions", &e.Actions),
			strs("datatypes", &e.DataTypes), strs("privileges", &e.Privileges)} {
			if err != nil {
				return nil, tokend.Invalid("authorization_details", "element %d: a standard member has the wrong type", i)
			}
		}
		if len(o) > 0 {
			b, err := json.Marshal(o)
			if err != nil {
				return nil, err
			}
			e.OtherFields = string(b)
		}
	}
	return out, nil
}

// clientSummary is Authlete's client summary (ClientLimited). tokend's
// string client_id is what clients use on the OAuth wire: Authlete's alias,
// always enabled. tokend has no per-service client number apart from the
// numeric id, so number repeats it.
type clientSummary struct {
	Number               int64  `json:"number"`
	ClientID             int64  `json:"clientId"`
	ClientIDAlias        string `json:"clientIdAlias"`
	ClientIDAliasEnabled bool   `json:"clientIdAliasEnabled"`
	ClientName           string `json:"clientName"`
	ClientType           string `json:"clientType"`
	Description          string `json:"description,omitempty"`
}

func summary(cl *tokend.Client) *clientSummary {
	if cl == nil {
		return nil
	}
	return &clientSummary{Number: cl.ID, ClientID: cl.ID, ClientIDAlias: cl.ClientID, ClientIDAliasEnabled: true,
		ClientName: cl.Name, ClientType: string(cl.Type), Description: cl.Description}
}

// accessToken is an entry of the token list (Authlete's AccessToken).
type accessToken struct {
	AccessTokenHash       string            `json:"accessTokenHash"`
	AccessTokenExpiresAt  int64             `json:"accessTokenExpiresAt"`
	RefreshTokenHash      string            `json:"refreshTokenHash,omitempty"`
	RefreshTokenExpiresAt int64             `json:"refreshTokenExpiresAt"`
	CreatedAt             int64             `json:"createdAt"`
	LastRefreshedAt       int64             `json:"lastRefreshedAt"`
	ClientID              int64             `json:"clientId"`
	Subject               string            `json:"subject,omitempty"`
	GrantType             tokend.GrantType  `json:"grantType"`
	Scopes                []string          `json:"scopes"`
	RefreshTokenScopes    []string          `json:"refreshTokenScopes,omitempty"`
	Properties            []tokend.Property `json:"properties,omitempty"`
}

func accessTokenOf(t *tokend.Token) accessToken {
	out := accessToken{
		AccessTokenHash: t.AccessHash.String(), AccessTokenExpiresAt: millis(t.AccessExpiresAt),
		RefreshTokenExpiresAt: millis(t.RefreshExpiresAt), CreatedAt: millis(t.CreatedAt),
		LastRefreshedAt: millis(t.LastRefreshedAt), ClientID: t.ClientID, Subject: t.Subject,
		GrantType: t.GrantType, Scopes: nonNil(t.Scopes), Properties: t.Properties,
	}
	if t.HasRefresh() {
		out.RefreshTokenHash = t.RefreshHash.String()
		out.RefreshTokenScopes = nonNil(t.EffectiveRefreshScopes())
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// tokenCreateRequest is Authlete's TokenCreateRequest, for /auth/token/create
// and each token of /auth/token/create/batch.
type tokenCreateRequest struct {
	GrantType             tokend.GrantType  `json:"grantType"`
	ClientID              int64             `json:"clientId"`
	ClientIdentifier      string            `json:"clientIdentifier"`
	Subject               string            `json:"subject"`
	Scopes                []string          `json:"scopes"`
	AccessTokenDuration   int64             `json:"accessTokenDuration"`
	RefreshTokenDuration  int64             `json:"refreshTokenDuration"`
	Properties            []tokend.Property `json:"properties"`
	ClientIDAliasUsed     bool              `json:"clientIdAliasUsed"`
	ClientEntityIDUsed    bool              `json:"clientEntityIdUsed"`
	AccessToken           string            `json:"accessToken"`
	RefreshToken          string            `json:"refreshToken"`
	AccessTokenPersistent bool              `json:"accessTokenPersistent"`
	CertificateThumbprint string            `json:"certificateThumbprint"`
	DPoPKeyThumbprint     string            `json:"dpopKeyThumbprint"`
	AuthorizationDetails  *authzDetails     `json:"authorizationDetails"`
	Resources             []string          `json:"resources"`
	ForExternalAttachment bool              `json:"forExternalAttachment"`
	JWTAtClaims           string            `json:"jwtAtClaims"`
	ACR                   string            `json:"acr"`
	AuthTime              int64             `json:"authTime"`
	SessionID             string            `json:"sessionId"`
}

// maxDurationSeconds keeps a duration's conversion to time.Duration from
// overflowing; the core then applies its own bound.
const maxDurationSeconds = int64(1<<63-1) / int64(time.Second)

// input translates the request into the core's TokenInput, with Authlete's
// reading of its fields: clientIdentifier (numeric id or alias) or clientId;
// subject, acr and authTime ignored for CLIENT_CREDENTIALS, whose tokens act
// for no user; accessTokenDuration ignored for a persistent token and
// refreshTokenDuration for a grant that gets no refresh token; durations in
// seconds, 0 for the service's default; authTime in seconds since the epoch,
// as OpenID Connect's auth_time.
func (req *tokenCreateRequest) input() (tokend.TokenInput, error) {
	var in tokend.TokenInput
	switch {
	case req.ForExternalAttachment:
		return in, unsupported("forExternalAttachment", "tokend has no OpenID Connect for Identity Assurance")
	case req.JWTAtClaims != "":
		return in, unsupported("jwtAtClaims", "tokend's access tokens are opaque, not JWTs")
	case req.ClientEntityIDUsed:
		return in, unsupported("clientEntityIdUsed", "tokend has no OpenID Federation entity ids")
	}
	switch {
	case req.ClientIdentifier != "" && req.ClientID != 0 && req.ClientIdentifier != strconv.FormatInt(req.ClientID, 10):
		return in, tokend.Invalid("clientIdentifier", "names another client than clientId: send one of them (clientId 0 with clientIdentifier)")
	case req.ClientIdentifier != "":
		in.Client = req.ClientIdentifier
	case req.ClientID > 0:
		in.Client = strconv.FormatInt(req.ClientID, 10)
	case req.ClientID < 0:
		return in, tokend.Invalid("clientId", "must be a positive client id")
	default:
		return in, tokend.Invalid("clientId", "is required (or clientIdentifier)")
	}
	for _, d := range []struct {
		name string
		v    int64
	}{{"accessTokenDuration", req.AccessTokenDuration}, {"refreshTokenDuration", req.RefreshTokenDuration}} {
		if d.v < 0 || d.v > maxDurationSeconds {
			return in, tokend.Invalid(d.name, "must be a number of seconds, 0 for the service's default")
		}
	}
	if req.AuthTime < 0 || req.AuthTime > maxDurationSeconds {
		return in, tokend.Invalid("authTime", "must be seconds since the epoch")
	}
	details, err := req.AuthorizationDetails.rfc9396()
	if err != nil {
		return in, err
	}
	in.GrantType = req.GrantType
	in.Scopes = nonNil(req.Scopes)
	in.AccessToken, in.RefreshToken = req.AccessToken, req.RefreshToken
	in.Persistent = req.AccessTokenPersistent
	if !in.Persistent {
		in.AccessTokenTTL = time.Duration(req.AccessTokenDuration) * time.Second
	}
	if req.GrantType.HasRefreshToken() {
		in.RefreshTokenTTL = time.Duration(req.RefreshTokenDuration) * time.Second
	}
	in.Properties = req.Properties
	in.CertThumbprint, in.DPoPThumbprint = req.CertificateThumbprint, req.DPoPKeyThumbprint
	in.AuthorizationDetails = details
	in.Resources = req.Resources
	in.SessionID = req.SessionID
	if req.GrantType.HasSubject() {
		in.Subject, in.ACR = req.Subject, req.ACR
		if req.AuthTime > 0 {
			in.AuthTime = time.Unix(req.AuthTime, 0)
		}
	}
	return in, nil
}
