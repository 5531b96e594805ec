package oauth

import (
	"net/http"
	"slices"

	"github.com/tokend/tokend"
)

// metadata is RFC 8414 §2's authorization server metadata. There is no
// authorization_endpoint: the host application runs it and mints codes
// through the management API, so tokend has none to publish.
type metadata struct {
	Issuer                        string   `json:"issuer"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	IntrospectionEndpoint         string   `json:"introspection_endpoint"`
	RevocationEndpoint            string   `json:"revocation_endpoint"`
	GrantTypesSupported           []string `json:"grant_types_supported"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	ScopesSupported               []string `json:"scopes_supported"`
	TokenAuthMethods              []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionAuthMethods      []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationAuthMethods         []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
}

// metadataMaxAge is how long clients and proxies may cache metadata. It
// changes only when an operator edits the service; a minute keeps discovery
// off the store without leaving a change unseen for long.
const metadataMaxAge = "public, max-age=60"

// discoveryByPath serves RFC 8414 §3's location: the well-known segment
// inserted before the issuer's path, e.g.
// /.well-known/oauth-authorization-server/oauth/123 for the issuer
// https://host/oauth/123.
func (s *Server) discoveryByPath(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.core.ServiceByIssuerPath(r.Context(), "/"+r.PathValue("path"))
	if err != nil {
		return err
	}
	return s.writeMetadata(w, svc)
}

// discoveryByID serves the location some clients use instead: the
// well-known segment appended to the issuer (as OpenID Connect does).
func (s *Server) discoveryByID(w http.ResponseWriter, r *http.Request) error {
	sid, err := pathSID(r)
	if err != nil {
		return err
	}
	svc, err := s.core.CachedService(r.Context(), sid)
	if err != nil {
		return err
	}
	return s.writeMetadata(w, svc)
}

func (s *Server) writeMetadata(w http.ResponseWriter, svc *tokend.Service) error {
	m := metadata{
		Issuer:                        s.core.IssuerOf(svc),
		TokenEndpoint:                 s.core.EndpointURL(svc, "token"),
		IntrospectionEndpoint:         s.core.EndpointURL(svc, "introspect"),
		RevocationEndpoint:            s.core.EndpointURL(svc, "revoke"),
		GrantTypesSupported:           tokend.WireGrantTypes(svc),
		ResponseTypesSupported:        []string{},
		ScopesSupported:               slices.Clone(svc.ScopesSupported),
		TokenAuthMethods:              []string{methodBasic, methodPost, methodNone},
		IntrospectionAuthMethods:      []string{methodBasic, methodPost},
		RevocationAuthMethods:         []string{methodBasic, methodPost, methodNone},
		CodeChallengeMethodsSupported: []string{"S256"},
	}
	if m.GrantTypesSupported == nil {
		m.GrantTypesSupported = []string{}
	}
	if m.ScopesSupported == nil {
		m.ScopesSupported = []string{}
	}
	// The host application's authorization endpoint answers response_type
	// "code"; tokend redeems what it mints.
	if svc.SupportsGrant(tokend.GrantAuthorizationCode) {
		m.ResponseTypesSupported = []string{"code"}
	}
	if svc.AllowPlainPKCE {
		m.CodeChallengeMethodsSupported = append(m.CodeChallengeMethodsSupported, "plain")
	}
	w.Header().Set("Cache-Control", metadataMaxAge)
	writeJSON(w, http.StatusOK, m)
	return nil
}
