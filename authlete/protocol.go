package authlete

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strconv"
	"strings"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/httpx"
)

// Protocol helpers: an authorization server or resource server front end
// passes what its own client sent, and tokend answers with the action the
// front end should take and, in responseContent, the body (or, for
// /auth/introspection, the WWW-Authenticate value) to send back. These
// outcomes are answers, not failures of the call: HTTP 200. A failure of
// the call itself (bad key, unknown service, malformed body, store down) is
// an HTTP error with action INTERNAL_SERVER_ERROR, Authlete's "the call
// was wrong or the back end failed".

// protocolResult is the head of every protocol helper's answer.
type protocolResult struct {
	resultBody
	ResponseContent string `json:"responseContent,omitempty"`
}

func outcome(api, suffix, action, msg string) resultBody {
	code := resultCode(api, suffix)
	return resultBody{ResultCode: code, ResultMessage: "[" + code + "] " + msg, Action: action}
}

// introspectionRequest is Authlete's IntrospectionRequest. The fields for
// DPoP proofs, HTTP message signatures, resource indicators and step-up
// authentication are refused by name: tokend does not evaluate them, and
// ignoring a check the caller asked for would pass tokens it should not.
type introspectionRequest struct {
	Token                string            `json:"token"`
	Scopes               []string          `json:"scopes"`
	Subject              string            `json:"subject"`
	ClientCertificate    string            `json:"clientCertificate"`
	DPoP                 string            `json:"dpop"`
	HTM                  string            `json:"htm"`
	HTU                  string            `json:"htu"`
	Resources            []string          `json:"resources"`
	ACRValues            []string          `json:"acrValues"`
	MaxAge               int64             `json:"maxAge"`
	RequiredComponents   []string          `json:"requiredComponents"`
	URI                  string            `json:"uri"`
	Message              string            `json:"message"`
	Headers              []json.RawMessage `json:"headers"`
	TargetURI            string            `json:"targetUri"`
	DPoPNonceRequired    bool              `json:"dpopNonceRequired"`
	RequestBodyContained bool              `json:"requestBodyContained"`
}

func (req *introspectionRequest) check() error {
	refuse := map[string]bool{
		"dpop": req.DPoP != "", "htm": req.HTM != "", "htu": req.HTU != "", "dpopNonceRequired": req.DPoPNonceRequired,
		"resources": len(req.Resources) > 0, "acrValues": len(req.ACRValues) > 0, "maxAge": req.MaxAge != 0,
		"requiredComponents": len(req.RequiredComponents) > 0, "uri": req.URI != "", "message": req.Message != "",
		"headers": len(req.Headers) > 0, "targetUri": req.TargetURI != "", "requestBodyContained": req.RequestBodyContained,
	}
	for _, f := range []string{"dpop", "htm", "htu", "dpopNonceRequired", "resources", "acrValues", "maxAge",
		"requiredComponents", "uri", "message", "headers", "targetUri", "requestBodyContained"} {
		if refuse[f] {
			return unsupported(f, "tokend does not evaluate it here; use /auth/introspection/standard and check it in the resource server")
		}
	}
	return nil
}

type introspectionResponse struct {
	protocolResult
	ClientID              int64             `json:"clientId,omitempty"`
	ClientIDAlias         string            `json:"clientIdAlias,omitempty"`
	ClientIDAliasUsed     bool              `json:"clientIdAliasUsed"`
	ExpiresAt             int64             `json:"expiresAt"`
	Subject               string            `json:"subject,omitempty"`
	Scopes                []string          `json:"scopes,omitempty"`
	Existent              bool              `json:"existent"`
	Usable                bool              `json:"usable"`
	Sufficient            bool              `json:"sufficient"`
	Refreshable           bool              `json:"refreshable"`
	Properties            []tokend.Property `json:"properties,omitempty"`
	CertificateThumbprint string            `json:"certificateThumbprint,omitempty"`
	Resources             []string          `json:"resources,omitempty"`
	AccessTokenResources  []string          `json:"accessTokenResources,omitempty"`
	AuthorizationDetails  *authzDetails     `json:"authorizationDetails,omitempty"`
	GrantID               string            `json:"grantId,omitempty"`
	GrantType             tokend.GrantType  `json:"grantType,omitempty"`
	ACR                   string            `json:"acr,omitempty"`
	AuthTime              int64             `json:"authTime,omitempty"`
}

// introspectionOutcomes gives, per problem, the result code suffix, the
// action, and the RFC 6750 error for the WWW-Authenticate value.
var introspectionOutcomes = map[tokend.AccessProblem]struct {
	suffix, action, bearerError, message string
}{
	tokend.AccessOK:          {suffixOK, "OK", "", "the access token is usable"},
	tokend.AccessMissing:     {suffixMissingToken, "BAD_REQUEST", "invalid_request", "the request carries no access token"},
	tokend.AccessUnknown:     {suffixUnknownToken, "UNAUTHORIZED", "invalid_token", "the access token does not exist"},
	tokend.AccessExpired:     {suffixExpiredToken, "UNAUTHORIZED", "invalid_token", "the access token has expired"},
	tokend.AccessCertificate: {suffixCertificate, "UNAUTHORIZED", "invalid_token", "the access token is bound to a client certificate the request did not present"},
	tokend.AccessDPoP:        {suffixDPoP, "UNAUTHORIZED", "invalid_token", "the access token is DPoP-bound and tokend does not check DPoP proofs here"},
	tokend.AccessScope:       {suffixScope, "FORBIDDEN", "insufficient_scope", "the access token lacks a required scope"},
	tokend.AccessSubject:     {suffixSubject, "FORBIDDEN", "insufficient_scope", "the access token acts for another subject"},
}

func (s *Server) introspection(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	var req introspectionRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	q := tokend.AccessCheck{Token: req.Token, Scopes: req.Scopes, Subject: req.Subject}
	if req.ClientCertificate != "" {
		block, _ := pem.Decode([]byte(req.ClientCertificate))
		if block == nil || block.Type != "CERTIFICATE" {
			return tokend.Invalid("clientCertificate", "must be a PEM certificate")
		}
		q.Certificate = block.Bytes
	}
	res, err := s.core.CheckAccessToken(r.Context(), p, sid, q)
	if err != nil {
		return err
	}
	oc := introspectionOutcomes[res.Problem]
	out := introspectionResponse{Existent: res.Existent, Usable: res.Usable, Sufficient: res.Sufficient, Refreshable: res.Refreshable}
	out.resultBody = outcome(apiIntrospection, oc.suffix, oc.action, oc.message)
	if oc.bearerError != "" {
		// RFC 6750 §3: the value of the WWW-Authenticate header the
		// resource server sends.
		out.ResponseContent = `Bearer error="` + oc.bearerError + `",error_description="` + out.ResultMessage + `"`
		if res.Problem == tokend.AccessScope {
			out.ResponseContent += `,scope="` + strings.Join(req.Scopes, " ") + `"`
		}
	}
	if t := res.Token; t != nil {
		out.ExpiresAt, out.Subject, out.Scopes = millis(t.AccessExpiresAt), t.Subject, nonNil(t.Scopes)
		out.ClientID, out.Properties, out.CertificateThumbprint = t.ClientID, t.Properties, t.CertThumbprint
		out.Resources, out.AccessTokenResources = t.Resources, t.Resources
		out.AuthorizationDetails, out.GrantID = authzFromCore(t.AuthorizationDetails), strconv.FormatInt(t.GrantID, 10)
		out.GrantType, out.ACR = t.GrantType, t.ACR
		if !t.AuthTime.IsZero() {
			out.AuthTime = t.AuthTime.Unix()
		}
		if res.Client != nil {
			out.ClientIDAlias = res.Client.ClientID
		}
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// standardIntrospectionRequest is Authlete's StandardIntrospectionRequest.
// The fields for JWT introspection responses are refused: tokend answers
// RFC 7662's JSON only.
type standardIntrospectionRequest struct {
	Parameters                 string `json:"parameters"`
	WithHiddenProperties       bool   `json:"withHiddenProperties"`
	RSURI                      string `json:"rsUri"`
	HTTPAcceptHeader           string `json:"httpAcceptHeader"`
	IntrospectionSignAlg       string `json:"introspectionSignAlg"`
	IntrospectionEncryptionAlg string `json:"introspectionEncryptionAlg"`
	IntrospectionEncryptionEnc string `json:"introspectionEncryptionEnc"`
	SharedKeyForSign           string `json:"sharedKeyForSign"`
	SharedKeyForEncryption     string `json:"sharedKeyForEncryption"`
	PublicKeyForEncryption     string `json:"publicKeyForEncryption"`
}

func (req *standardIntrospectionRequest) check() error {
	for f, v := range map[string]string{
		"rsUri": req.RSURI, "introspectionSignAlg": req.IntrospectionSignAlg,
		"introspectionEncryptionAlg": req.IntrospectionEncryptionAlg, "introspectionEncryptionEnc": req.IntrospectionEncryptionEnc,
		"sharedKeyForSign": req.SharedKeyForSign, "sharedKeyForEncryption": req.SharedKeyForEncryption,
		"publicKeyForEncryption": req.PublicKeyForEncryption,
	} {
		if v != "" {
			return unsupported(f, "tokend answers RFC 7662's JSON, not JWT introspection responses")
		}
	}
	if strings.Contains(req.HTTPAcceptHeader, "application/token-introspection+jwt") {
		return unsupported("httpAcceptHeader", "tokend answers RFC 7662's JSON, not JWT introspection responses")
	}
	return nil
}

// oauthError renders RFC 6749 §5.2's error body for responseContent.
func oauthError(err error) string {
	code := tokend.OAuthErrorCode(err)
	if code == "" {
		code = "server_error"
	}
	b, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{code, message(err)})
	return string(b)
}

func (s *Server) standardIntrospection(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	var req standardIntrospectionRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	if err := p.Authorize(sid, tokend.PermTokensIntrospect); err != nil {
		return err
	}
	svc, err := s.core.CachedService(r.Context(), sid)
	if err != nil {
		return err
	}
	params, err := tokend.OAuthParameters(req.Parameters)
	if err == nil && params["token"] == "" {
		err = tokend.Invalid("token", "is required")
	}
	if err != nil {
		out := protocolResult{resultBody: outcome(apiStandardIntrospection, suffixProtocolBad, "BAD_REQUEST", message(err)),
			ResponseContent: oauthError(err)}
		return httpx.WriteJSON(w, http.StatusOK, out)
	}
	in, err := s.core.Introspect(r.Context(), svc, params["token"], params["token_type_hint"])
	if err != nil {
		return err
	}
	body, err := json.Marshal(s.core.IntrospectionResponse(svc, in, req.WithHiddenProperties))
	if err != nil {
		return err
	}
	msg := "the token is not active"
	if in.Active {
		msg = "the token is active"
	}
	out := protocolResult{resultBody: outcome(apiStandardIntrospection, suffixOK, "OK", msg), ResponseContent: string(body)}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// clientRequest is what the revocation and token helpers share: the
// client's request as a form string and its credentials as the front end
// read them (from HTTP Basic, say). Client authentication by certificate or
// attestation is refused: tokend authenticates clients by secret.
type clientRequest struct {
	Parameters                string   `json:"parameters"`
	ClientID                  string   `json:"clientId"`
	ClientSecret              string   `json:"clientSecret"`
	ClientCertificate         string   `json:"clientCertificate"`
	ClientCertificatePath     []string `json:"clientCertificatePath"`
	OAuthClientAttestation    string   `json:"oauthClientAttestation"`
	OAuthClientAttestationPop string   `json:"oauthClientAttestationPop"`
}

func (req *clientRequest) check() error {
	switch {
	case req.ClientCertificate != "" || len(req.ClientCertificatePath) > 0:
		return unsupported("clientCertificate", "tokend authenticates clients by secret (client_secret_basic, client_secret_post) or as public clients")
	case req.OAuthClientAttestation != "" || req.OAuthClientAttestationPop != "":
		return unsupported("oauthClientAttestation", "tokend authenticates clients by secret (client_secret_basic, client_secret_post) or as public clients")
	}
	return nil
}

// credentials merges the credentials the front end passed with those in the
// form (client_secret_post). Two secrets are two authentication methods,
// which RFC 6749 §2.3 forbids; two different client ids name no one.
func (req *clientRequest) credentials(params map[string]string) (tokend.ClientCredentials, error) {
	cred := tokend.ClientCredentials{ClientID: req.ClientID, Secret: req.ClientSecret}
	if id, ok := params["client_id"]; ok {
		if cred.ClientID != "" && cred.ClientID != id {
			return cred, tokend.Invalid("client_id", "differs from clientId")
		}
		cred.ClientID = id
	}
	if secret, ok := params["client_secret"]; ok {
		if cred.Secret != "" {
			return cred, tokend.Invalid("client_secret", "must not be sent together with clientSecret: use one client authentication method")
		}
		cred.Secret = secret
	}
	return cred, nil
}

// clientOutcome answers a protocol error the client caused: INVALID_CLIENT
// for failed client authentication, BAD_REQUEST for the rest, with RFC
// 6749's error body. ok is false for an error that is not the client's
// (store down): the call fails instead.
func clientOutcome(api string, err error) (protocolResult, bool) {
	switch tokend.OAuthErrorCode(err) {
	case "":
		return protocolResult{}, false
	case "invalid_client":
		return protocolResult{resultBody: outcome(api, suffixInvalidClient, "INVALID_CLIENT", message(err)), ResponseContent: oauthError(err)}, true
	}
	return protocolResult{resultBody: outcome(api, suffixProtocolBad, "BAD_REQUEST", message(err)), ResponseContent: oauthError(err)}, true
}

// clientCall authorizes the key, reads the form and authenticates the
// client: the preamble of /auth/revocation and /auth/token.
func (s *Server) clientCall(r *http.Request, p *tokend.Principal, sid int64, req *clientRequest, api string) (map[string]string, *tokend.Service, *tokend.Client, *protocolResult, error) {
	if err := req.check(); err != nil {
		return nil, nil, nil, nil, err
	}
	if err := p.Authorize(sid, tokend.PermTokensWrite); err != nil {
		return nil, nil, nil, nil, err
	}
	if _, err := s.core.CachedService(r.Context(), sid); err != nil {
		return nil, nil, nil, nil, err
	}
	params, err := tokend.OAuthParameters(req.Parameters)
	var cred tokend.ClientCredentials
	if err == nil {
		cred, err = req.credentials(params)
	}
	var svc *tokend.Service
	var cl *tokend.Client
	if err == nil {
		// The caller relays its clients' credentials: the limit is on
		// each client, never on the relay's address.
		key := "authlete\x00" + strconv.FormatInt(sid, 10) + "\x00" + shortID(cred.ClientID)
		if err = s.limits.CheckCredential(key); err != nil {
			return nil, nil, nil, nil, err
		}
		svc, cl, err = s.core.AuthenticateClient(r.Context(), sid, cred)
		if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED && cred.ClientID != "" {
			s.failed(r, authlimit.Failure{ServiceID: sid, Credential: key, Actor: "client_id:" + shortID(cred.ClientID), CredentialOnly: true})
		}
	}
	if err != nil {
		if res, ok := clientOutcome(api, err); ok {
			return nil, nil, nil, &res, nil
		}
		return nil, nil, nil, nil, err
	}
	return params, svc, cl, nil, nil
}

func (s *Server) revocation(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	var req clientRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	params, svc, cl, res, err := s.clientCall(r, p, sid, &req, apiRevocation)
	if err != nil {
		return err
	}
	if res == nil {
		err = s.core.RevokeByClient(r.Context(), svc, cl, params["token"], params["token_type_hint"])
		if err == nil {
			// RFC 7009 §2.2: 200 with no body, whether or not the token
			// existed.
			res = &protocolResult{resultBody: outcome(apiRevocation, suffixOK, "OK", "the token, if it existed, is revoked")}
		} else if out, ok := clientOutcome(apiRevocation, err); ok {
			res = &out
		} else {
			return err
		}
	}
	return httpx.WriteJSON(w, http.StatusOK, res)
}

// tokenRequest is Authlete's TokenRequest. Besides the client's request and
// credentials, tokend takes nothing: the fields for DPoP, JWT access tokens
// and per-request durations or properties are refused by name.
type tokenRequest struct {
	// The fields of clientRequest, spelled out: the strict decoder checks
	// top-level names against the struct's own fields.
	Parameters                string   `json:"parameters"`
	ClientID                  string   `json:"clientId"`
	ClientSecret              string   `json:"clientSecret"`
	ClientCertificate         string   `json:"clientCertificate"`
	ClientCertificatePath     []string `json:"clientCertificatePath"`
	OAuthClientAttestation    string   `json:"oauthClientAttestation"`
	OAuthClientAttestationPop string   `json:"oauthClientAttestationPop"`

	Properties           string `json:"properties"`
	DPoP                 string `json:"dpop"`
	HTM                  string `json:"htm"`
	HTU                  string `json:"htu"`
	AccessToken          string `json:"accessToken"`
	JWTAtClaims          string `json:"jwtAtClaims"`
	AccessTokenDuration  int64  `json:"accessTokenDuration"`
	RefreshTokenDuration int64  `json:"refreshTokenDuration"`
	DPoPNonceRequired    bool   `json:"dpopNonceRequired"`
}

func (req *tokenRequest) check() error {
	for f, set := range map[string]bool{
		"properties": req.Properties != "", "dpop": req.DPoP != "" || req.DPoPNonceRequired, "htm": req.HTM != "",
		"htu": req.HTU != "", "accessToken": req.AccessToken != "", "jwtAtClaims": req.JWTAtClaims != "",
		"accessTokenDuration": req.AccessTokenDuration != 0, "refreshTokenDuration": req.RefreshTokenDuration != 0,
	} {
		if set {
			return unsupported(f, "tokend's token endpoint issues tokens under the service's settings only")
		}
	}
	return nil
}

type tokenResponse struct {
	protocolResult
	AccessToken           string            `json:"accessToken,omitempty"`
	AccessTokenExpiresAt  int64             `json:"accessTokenExpiresAt,omitempty"`
	AccessTokenDuration   int64             `json:"accessTokenDuration,omitempty"`
	RefreshToken          string            `json:"refreshToken,omitempty"`
	RefreshTokenExpiresAt int64             `json:"refreshTokenExpiresAt,omitempty"`
	RefreshTokenDuration  int64             `json:"refreshTokenDuration,omitempty"`
	GrantType             tokend.GrantType  `json:"grantType,omitempty"`
	ClientID              int64             `json:"clientId,omitempty"`
	ClientIDAlias         string            `json:"clientIdAlias,omitempty"`
	ClientIDAliasUsed     bool              `json:"clientIdAliasUsed"`
	Subject               string            `json:"subject,omitempty"`
	Scopes                []string          `json:"scopes,omitempty"`
	RefreshTokenScopes    []string          `json:"refreshTokenScopes,omitempty"`
	Properties            []tokend.Property `json:"properties,omitempty"`
	Resources             []string          `json:"resources,omitempty"`
	AuthorizationDetails  *authzDetails     `json:"authorizationDetails,omitempty"`
	GrantID               string            `json:"grantId,omitempty"`
}

// token runs the token endpoint for the grants tokend serves
// (authorization_code, client_credentials, refresh_token, password). The
// password grant checks the user itself (built-in users or the service's
// password callback), so it answers OK where Authlete would hand the check
// to the front end with action PASSWORD.
func (s *Server) token(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	var req tokenRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	creq := clientRequest{Parameters: req.Parameters, ClientID: req.ClientID, ClientSecret: req.ClientSecret,
		ClientCertificate: req.ClientCertificate, ClientCertificatePath: req.ClientCertificatePath,
		OAuthClientAttestation: req.OAuthClientAttestation, OAuthClientAttestationPop: req.OAuthClientAttestationPop}
	params, svc, cl, res, err := s.clientCall(r, p, sid, &creq, apiToken)
	if err != nil {
		return err
	}
	if res != nil {
		return httpx.WriteJSON(w, http.StatusOK, res)
	}
	issued, err := s.core.Exchange(r.Context(), svc, cl, tokend.TokenRequest{
		GrantType: params["grant_type"], Scope: params["scope"], Code: params["code"],
		RedirectURI: params["redirect_uri"], CodeVerifier: params["code_verifier"],
		RefreshToken: params["refresh_token"], Username: params["username"], Password: params["password"],
	})
	if err != nil {
		if out, ok := clientOutcome(apiToken, err); ok {
			return httpx.WriteJSON(w, http.StatusOK, out)
		}
		return err
	}
	body, err := json.Marshal(s.core.TokenResponse(issued))
	if err != nil {
		return err
	}
	t := issued.Token
	grant, _ := tokend.WireGrant(params["grant_type"])
	now := s.core.Now()
	out := tokenResponse{
		AccessToken: issued.AccessToken, RefreshToken: issued.RefreshToken, GrantType: grant,
		ClientID: cl.ID, ClientIDAlias: cl.ClientID, ClientIDAliasUsed: true, Subject: t.Subject,
		Scopes: nonNil(t.Scopes), Properties: t.Properties, Resources: t.Resources,
		AuthorizationDetails: authzFromCore(t.AuthorizationDetails), GrantID: strconv.FormatInt(t.GrantID, 10),
	}
	if !t.Persistent {
		out.AccessTokenExpiresAt = millis(t.AccessExpiresAt)
		out.AccessTokenDuration = int64(t.AccessExpiresAt.Sub(now).Seconds())
	}
	if t.HasRefresh() {
		out.RefreshTokenExpiresAt = millis(t.RefreshExpiresAt)
		out.RefreshTokenDuration = int64(t.RefreshExpiresAt.Sub(now).Seconds())
		out.RefreshTokenScopes = t.EffectiveRefreshScopes()
	}
	out.resultBody = outcome(apiToken, suffixOK, "OK", "issued token "+strconv.FormatInt(t.ID, 10))
	out.ResponseContent = string(body)
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// shortID cuts a client_id to the longest the core accepts: longer ones
// cannot exist, and an attacker's long values must not cost more memory
// in the failure limiter than short ones.
func shortID(clientID string) string {
	if len(clientID) > tokend.MaxNameLen+1 {
		return clientID[:tokend.MaxNameLen+1]
	}
	return clientID
}
