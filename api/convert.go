package api

import (
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/wire"
)

// seconds converts a wire duration. The bound only keeps the multiplication
// from overflowing; the core judges what range is sensible.
func seconds(field string, s int64) (time.Duration, error) {
	if s > math.MaxInt64/int64(time.Second) || s < math.MinInt64/int64(time.Second) {
		return 0, tokend.Invalid(field, "is out of range")
	}
	return time.Duration(s) * time.Second, nil
}

func optSeconds(field string, s *int64) (*time.Duration, error) {
	if s == nil {
		return nil, nil
	}
	d, err := seconds(field, *s)
	return &d, err
}

func toSeconds(d time.Duration) int64 { return int64(d / time.Second) }

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

func typed[T ~string](in []string) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = T(v)
	}
	return out
}

// nonNil keeps empty lists as [] rather than null in responses.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *API) serviceJSON(s *tokend.Service) wire.Service {
	rotate, keep := s.RefreshPolicy.Rotate, s.RefreshPolicy.KeepExpiry
	grace := toSeconds(s.RefreshPolicy.ReuseGrace)
	issuer := a.core.IssuerOf(s)
	return wire.Service{
		ID:                  s.ID,
		Name:                s.Name,
		Description:         s.Description,
		Issuer:              issuer,
		AccessTokenTTL:      toSeconds(s.AccessTokenTTL),
		RefreshTokenTTL:     toSeconds(s.RefreshTokenTTL),
		ScopesSupported:     nonNil(s.ScopesSupported),
		GrantTypesSupported: strs(s.GrantTypesSupported),
		RefreshTokenPolicy:  wire.RefreshPolicy{Rotate: &rotate, ReuseGrace: &grace, KeepExpiry: &keep},
		PasswordCallbackURL: s.PasswordCallbackURL,
		AllowPlainPKCE:      s.AllowPlainPKCE,
		TimeZone:            s.TimeZone,

		TokenEndpoint:         a.core.EndpointURL(s, "token"),
		IntrospectionEndpoint: a.core.EndpointURL(s, "introspect"),
		RevocationEndpoint:    a.core.EndpointURL(s, "revoke"),
		DiscoveryURL:          discoveryURL(issuer),

		CreatedAt: s.CreatedAt.UTC(),
		UpdatedAt: s.UpdatedAt.UTC(),
	}
}

// discoveryURL is where RFC 8414 §3 puts an issuer's metadata: the
// well-known path goes between the host and the issuer's own path, so
// https://a.example/oauth/5 is described at
// https://a.example/.well-known/oauth-authorization-server/oauth/5. The
// core only accepts absolute issuers, so a parse failure cannot happen
// for a stored service; "" then says "unknown" rather than a wrong URL.
func discoveryURL(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + strings.TrimRight(u.EscapedPath(), "/")
}

// serviceFields maps the core's names for service inputs to the wire's.
var serviceFields = map[string]string{
	"refresh_reuse_grace": "refresh_token_policy.reuse_grace",
}

func serviceInput(in wire.ServiceInput) (tokend.ServiceInput, error) {
	out := tokend.ServiceInput{
		Name:        in.Name,
		Description: in.Description,
		Issuer:      in.Issuer,
	}
	var err error
	if out.AccessTokenTTL, err = optSeconds("access_token_ttl", in.AccessTokenTTL); err != nil {
		return out, err
	}
	if out.RefreshTokenTTL, err = optSeconds("refresh_token_ttl", in.RefreshTokenTTL); err != nil {
		return out, err
	}
	out.ScopesSupported = in.ScopesSupported
	if in.GrantTypesSupported != nil {
		gs := typed[tokend.GrantType](*in.GrantTypesSupported)
		out.GrantTypesSupported = &gs
	}
	out.PasswordCallbackURL = in.PasswordCallbackURL
	out.AllowPlainPKCE = in.AllowPlainPKCE
	out.TimeZone = in.TimeZone
	if p := in.RefreshTokenPolicy; p != nil {
		out.RotateRefreshTokens = p.Rotate
		out.KeepRefreshExpiry = p.KeepExpiry
		if out.RefreshReuseGrace, err = optSeconds("refresh_token_policy.reuse_grace", p.ReuseGrace); err != nil {
			return out, err
		}
	}
	return out, nil
}

func clientJSON(c *tokend.Client, secret string) wire.Client {
	return wire.Client{
		ID:           c.ID,
		ServiceID:    c.ServiceID,
		ClientID:     c.ClientID,
		ClientSecret: secret,
		Name:         c.Name,
		Description:  c.Description,
		URL:          c.URL,
		Developer:    c.Developer,
		Type:         string(c.Type),
		GrantTypes:   strs(c.GrantTypes),
		Scopes:       nonNil(c.Scopes),
		RedirectURIs: nonNil(c.RedirectURIs),
		FirstParty:   c.FirstParty,
		CreatedAt:    c.CreatedAt.UTC(),
		UpdatedAt:    c.UpdatedAt.UTC(),
	}
}

func clientInput(in wire.ClientInput) tokend.ClientInput {
	out := tokend.ClientInput{
		ClientID:     in.ClientID,
		Name:         in.Name,
		Description:  in.Description,
		URL:          in.URL,
		Developer:    in.Developer,
		Scopes:       in.Scopes,
		RedirectURIs: in.RedirectURIs,
		FirstParty:   in.FirstParty,
	}
	if in.Type != nil {
		t := tokend.ClientType(*in.Type)
		out.Type = &t
	}
	if in.GrantTypes != nil {
		gs := typed[tokend.GrantType](*in.GrantTypes)
		out.GrantTypes = &gs
	}
	return out
}

func keyJSON(k *tokend.Key, raw string) wire.Key {
	out := wire.Key{
		ID:          k.ID,
		Name:        k.Name,
		Permissions: strs(k.Permissions),
		Key:         raw,
		CreatedAt:   k.CreatedAt.UTC(),
		ExpiresAt:   optTime(k.ExpiresAt),
	}
	if k.ServiceID != 0 {
		sid := k.ServiceID
		out.ServiceID = &sid
	}
	return out
}

func propertiesJSON(in []tokend.Property) []wire.Property {
	if len(in) == 0 {
		return nil
	}
	out := make([]wire.Property, len(in))
	for i, p := range in {
		out[i] = wire.Property(p)
	}
	return out
}

func properties(in []wire.Property) []tokend.Property {
	if in == nil {
		return nil
	}
	out := make([]tokend.Property, len(in))
	for i, p := range in {
		out[i] = tokend.Property(p)
	}
	return out
}

// tokenJSON shows a token record. Raw values appear only when issued holds
// them, that is in the response of the call that minted them.
func (a *API) tokenJSON(t *tokend.Token, issued *tokend.IssuedToken) wire.Token {
	now := a.core.Now()
	out := wire.Token{
		ID:                    t.ID,
		ServiceID:             t.ServiceID,
		Client:                t.ClientID,
		Subject:               t.Subject,
		GrantType:             string(t.GrantType),
		Status:                string(t.Status(now)),
		AccessTokenHash:       t.AccessHash.String(),
		TokenType:             "Bearer",
		Scopes:                nonNil(t.Scopes),
		RefreshScopes:         t.RefreshScopes,
		CreatedAt:             t.CreatedAt.UTC(),
		RefreshTokenExpiresAt: optTime(t.RefreshExpiresAt),
		LastRefreshedAt:       optTime(t.LastRefreshedAt),
		RevokedAt:             optTime(t.RevokedAt),
		RevokedReason:         t.RevokedReason,
		Persistent:            t.Persistent,
		Properties:            propertiesJSON(t.Properties),
		AccountID:             t.AccountID,
		Roles:                 t.Roles,
		AuthTime:              optTime(t.AuthTime),
		ACR:                   t.ACR,
		SessionID:             t.SessionID,
		Resources:             t.Resources,
		CertThumbprint:        t.CertThumbprint,
		DPoPKeyThumbprint:     t.DPoPThumbprint,
		AuthorizationDetails:  t.AuthorizationDetails,
		GrantID:               t.GrantID,
	}
	if t.HasRefresh() {
		out.RefreshTokenHash = t.RefreshHash.String()
	}
	if t.DPoPThumbprint != "" {
		out.TokenType = "DPoP" // RFC 9449 §5: a DPoP-bound token is presented with the DPoP scheme
	}
	if !t.Persistent {
		out.ExpiresAt = optTime(t.AccessExpiresAt)
	}
	if issued != nil {
		out.AccessToken, out.RefreshToken = issued.AccessToken, issued.RefreshToken
		if issued.AccessToken != "" && out.ExpiresAt != nil {
			// RFC 6749 §5.1's relative lifetime, for callers handing the
			// token on to a client that expects it.
			in := int64(t.AccessExpiresAt.Sub(now) / time.Second)
			out.ExpiresIn = &in
		}
	}
	return out
}

func tokenInput(in wire.TokenInput) (tokend.TokenInput, error) {
	out := tokend.TokenInput{
		Client:               in.Client,
		GrantType:            tokend.GrantType(in.GrantType),
		Subject:              in.Subject,
		Scopes:               in.Scopes,
		RefreshScopes:        in.RefreshScopes,
		AccessToken:          in.AccessToken,
		RefreshToken:         in.RefreshToken,
		Persistent:           in.Persistent,
		NoRefreshToken:       in.NoRefreshToken,
		Properties:           properties(in.Properties),
		AccountID:            in.AccountID,
		Roles:                in.Roles,
		ACR:                  in.ACR,
		SessionID:            in.SessionID,
		Resources:            in.Resources,
		CertThumbprint:       in.CertThumbprint,
		DPoPThumbprint:       in.DPoPKeyThumbprint,
		AuthorizationDetails: in.AuthorizationDetails,
	}
	if in.AuthTime != nil {
		out.AuthTime = *in.AuthTime
	}
	var err error
	if out.AccessTokenTTL, err = seconds("access_token_ttl", in.AccessTokenTTL); err != nil {
		return out, err
	}
	if out.RefreshTokenTTL, err = seconds("refresh_token_ttl", in.RefreshTokenTTL); err != nil {
		return out, err
	}
	return out, nil
}

// tokenUpdateFields maps the core's names for token updates to the wire's.
var tokenUpdateFields = map[string]string{
	"access_token_expires_at": "expires_at",
}

func tokenUpdate(in wire.TokenUpdate) tokend.TokenUpdate {
	out := tokend.TokenUpdate{
		Scopes:               in.Scopes,
		RefreshScopes:        in.RefreshScopes,
		AccessExpiresAt:      in.ExpiresAt,
		RefreshExpiresAt:     in.RefreshTokenExpiresAt,
		Persistent:           in.Persistent,
		AccountID:            in.AccountID,
		Roles:                in.Roles,
		Resources:            in.Resources,
		CertThumbprint:       in.CertThumbprint,
		DPoPThumbprint:       in.DPoPKeyThumbprint,
		AuthorizationDetails: in.AuthorizationDetails,
		NewAccessToken:       in.NewAccessToken,
	}
	if in.Properties != nil {
		ps := properties(*in.Properties)
		out.Properties = &ps
	}
	return out
}

func codeInput(in wire.CodeInput) tokend.CodeInput {
	out := tokend.CodeInput{
		Client:               in.Client,
		Subject:              in.Subject,
		Scopes:               in.Scopes,
		RedirectURI:          in.RedirectURI,
		CodeChallenge:        in.CodeChallenge,
		CodeChallengeMethod:  in.CodeChallengeMethod,
		AccountID:            in.AccountID,
		Roles:                in.Roles,
		ACR:                  in.ACR,
		SessionID:            in.SessionID,
		Resources:            in.Resources,
		AuthorizationDetails: in.AuthorizationDetails,
	}
	if in.AuthTime != nil {
		out.AuthTime = *in.AuthTime
	}
	return out
}

// codeJSON shows a freshly minted code; raw is its only appearance.
func codeJSON(raw string, c *tokend.AuthorizationCode) wire.Code {
	return wire.Code{
		Code:        raw,
		ExpiresAt:   c.ExpiresAt.UTC(),
		ExpiresIn:   toSeconds(c.ExpiresAt.Sub(c.CreatedAt)),
		Client:      c.ClientID,
		Subject:     c.Subject,
		Scopes:      nonNil(c.Scopes),
		RedirectURI: c.RedirectURI,
	}
}

// userJSON leaves out PasswordHash by construction: wire.User has no
// field that could carry it.
func userJSON(u *tokend.User) wire.User {
	return wire.User{
		ID:        u.ID,
		ServiceID: u.ServiceID,
		Username:  u.Username,
		AccountID: u.AccountID,
		Roles:     nonNil(u.Roles),
		CreatedAt: u.CreatedAt.UTC(),
		UpdatedAt: u.UpdatedAt.UTC(),
	}
}

func userInput(in wire.UserInput) tokend.UserInput {
	return tokend.UserInput{Username: in.Username, Password: in.Password, AccountID: in.AccountID, Roles: in.Roles}
}
