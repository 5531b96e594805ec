package tokend

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// AuthorizationCodeTTL is how long a code may wait to be redeemed (RFC 6749
// §4.1.2 recommends at most ten minutes; a host application that just
// redirected the user needs seconds).
const AuthorizationCodeTTL = 60 * time.Second

// AuthorizationCode is a one-time code a host application minted after it
// authenticated the user and got consent. The store keeps its hash.
type AuthorizationCode struct {
	Hash                 Hash
	ServiceID            int64
	ClientID             int64
	Subject              string
	Scopes               []string
	RedirectURI          string
	CodeChallenge        string
	CodeChallengeMethod  string // "S256" or "plain"; empty without PKCE
	AccountID            string
	Roles                []string
	AuthTime             time.Time
	ACR                  string
	SessionID            string
	Resources            []string
	AuthorizationDetails json.RawMessage
	CreatedAt            time.Time
	ExpiresAt            time.Time
	UsedAt               time.Time // zero until redeemed
	TokenID              int64     // the token its redemption produced
}

// CodeInput is what a host application tells tokend when it mints a code.
type CodeInput struct {
	Client               string // numeric id or client_id
	Subject              string
	Scopes               []string
	RedirectURI          string
	CodeChallenge        string
	CodeChallengeMethod  string // "S256" (default when a challenge is given) or "plain"
	AccountID            string
	Roles                []string
	AuthTime             time.Time
	ACR                  string
	SessionID            string
	Resources            []string
	AuthorizationDetails json.RawMessage
}

// CreateAuthorizationCode mints a code for the authorization code grant.
// The host application calls it once the user is authenticated and has
// consented, then redirects the user agent to redirect_uri with the code.
func (c *Core) CreateAuthorizationCode(ctx context.Context, p *Principal, sid int64, in CodeInput) (string, *AuthorizationCode, error) {
	svc, err := c.service(ctx, p, sid, PermTokensWrite)
	if err != nil {
		return "", nil, err
	}
	cl, err := c.resolveClient(ctx, sid, in.Client)
	if err != nil {
		return "", nil, err
	}
	if !svc.SupportsGrant(GrantAuthorizationCode) {
		return "", nil, Invalid("client", "the service does not support AUTHORIZATION_CODE")
	}
	if !cl.AllowsGrant(GrantAuthorizationCode) {
		return "", nil, Invalid("client", "client %s may not use AUTHORIZATION_CODE", cl.ClientID)
	}
	if err := validSubject("subject", in.Subject); err != nil {
		return "", nil, err
	}
	scopes, err := c.grantableScopes("scopes", in.Scopes, svc, cl)
	if err != nil {
		return "", nil, err
	}
	if in.RedirectURI == "" {
		return "", nil, Invalid("redirect_uri", "is required")
	}
	if !slices.Contains(cl.RedirectURIs, in.RedirectURI) {
		return "", nil, Invalid("redirect_uri", "is not one of the client's registered redirect_uris")
	}
	method := in.CodeChallengeMethod
	switch {
	case in.CodeChallenge == "" && method != "":
		return "", nil, Invalid("code_challenge", "is required with code_challenge_method")
	case in.CodeChallenge == "":
		// RFC 9700 §2.1.1: public clients must use PKCE.
		if cl.Type == ClientPublic {
			return "", nil, Invalid("code_challenge", "is required for a PUBLIC client (PKCE, RFC 7636)")
		}
	case method == "" || method == "S256":
		method = "S256"
		if _, ok := ParseHash(in.CodeChallenge); !ok {
			return "", nil, Invalid("code_challenge", "must be the base64url SHA-256 of the verifier (43 characters) for S256")
		}
	case method == "plain":
		if !svc.AllowPlainPKCE {
			return "", nil, Invalid("code_challenge_method", "plain is not allowed by this service; use S256")
		}
		if !validPKCEValue(in.CodeChallenge) {
			return "", nil, Invalid("code_challenge", "must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636)")
		}
	default:
		return "", nil, Invalid("code_challenge_method", "must be S256 or plain, not %.20q", method)
	}
	// The attributes a token will carry are checked now, so that redeeming
	// the code cannot fail on them.
	var attrs Token
	tin := TokenInput{AccountID: in.AccountID, Roles: in.Roles, AuthTime: in.AuthTime, ACR: in.ACR,
		SessionID: in.SessionID, Resources: in.Resources, AuthorizationDetails: in.AuthorizationDetails}
	if err := tin.applyAttributes(&attrs); err != nil {
		return "", nil, err
	}
	raw := NewSecret(KindAuthorizationCode)
	now := c.Now()
	code := &AuthorizationCode{
		Hash: HashSecret(raw), ServiceID: sid, ClientID: cl.ID, Subject: in.Subject, Scopes: scopes,
		RedirectURI: in.RedirectURI, CodeChallenge: in.CodeChallenge, AccountID: attrs.AccountID,
		Roles: attrs.Roles, AuthTime: attrs.AuthTime, ACR: attrs.ACR, SessionID: attrs.SessionID,
		Resources: attrs.Resources, AuthorizationDetails: attrs.AuthorizationDetails,
		CreatedAt: now, ExpiresAt: now.Add(AuthorizationCodeTTL),
	}
	if in.CodeChallenge != "" {
		code.CodeChallengeMethod = method
	}
	if err := c.store.CreateAuthorizationCode(ctx, code); err != nil {
		return "", nil, err
	}
	return raw, code, nil
}
