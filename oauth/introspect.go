package oauth

import (
	"errors"
	"net/http"

	"github.com/tokend/tokend"
)

// introspect is RFC 7662 token introspection. The caller is a confidential
// client of the service (a resource server registered as a client) or
// holds a management key with tokens.introspect.
//
// Every 401 here carries a challenge, as HTTP requires: the callers are
// servers, so the browser prompt that keeps the token endpoint from
// challenging credential-less requests is no concern.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) error {
	err := s.introspectToken(w, r)
	var oe *oauthError
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED && !errors.As(err, &oe) {
		return &oauthError{
			status: http.StatusUnauthorized, code: "invalid_client", desc: tokend.ErrorMessage(err),
			challenge: `Basic realm="tokend"`, domain: tokend.Errorf(tokend.EUNAUTHORIZED, "client authentication failed"),
		}
	}
	return err
}

func (s *Server) introspectToken(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	sid, err := pathSID(r)
	if err != nil {
		return err
	}
	f, err := readForm(w, r)
	if err != nil {
		return err
	}
	c, err := s.callerOf(r, sid, f, true)
	if err != nil {
		return err
	}
	var svc *tokend.Service
	switch c.method {
	case "":
		return &oauthError{
			status: http.StatusUnauthorized, code: "invalid_client",
			desc:      "authentication is required: client credentials of this service, or Authorization: Bearer <management key>",
			challenge: `Basic realm="tokend", Bearer realm="tokend"`,
			domain:    tokend.Errorf(tokend.EUNAUTHORIZED, "no credentials"),
		}
	case methodBearer:
		if svc, err = s.authorizeKey(r, sid, c); err != nil {
			return err
		}
	default:
		var cl *tokend.Client
		if svc, cl, err = s.authenticate(r, sid, c); err != nil {
			return err
		}
		// A public client proves nothing by naming its client_id, and an
		// introspection answer tells about other clients' tokens.
		if cl.Type != tokend.ClientConfidential {
			return tokend.Errorf(tokend.EUNAUTHORIZED, "a PUBLIC client cannot introspect tokens")
		}
	}
	raw := f["token"]
	if raw == "" {
		return tokend.Invalid("token", "is required")
	}
	in, err := s.core.Introspect(r.Context(), svc, raw, f["token_type_hint"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.core.IntrospectionResponse(svc, in, false))
	return nil
}

// authorizeKey checks a management key at the introspection endpoint. An
// invalid key is RFC 6750's invalid_token (401); a valid key that may not
// introspect this service's tokens is insufficient_scope (403), so that an
// operator can tell a wrong key from a key lacking tokens.introspect.
func (s *Server) authorizeKey(r *http.Request, sid int64, c caller) (*tokend.Service, error) {
	if err := s.limited(r, sid, c); err != nil {
		return nil, err
	}
	svc, err := s.core.CachedService(r.Context(), sid)
	if err != nil {
		return nil, err
	}
	p, err := s.core.AuthenticateKey(r.Context(), c.key)
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
		s.failed(r, sid, c)
		return nil, &oauthError{
			status: http.StatusUnauthorized, code: "invalid_token", desc: tokend.ErrorMessage(err),
			challenge: `Bearer realm="tokend", error="invalid_token"`, domain: tokend.Errorf(tokend.EUNAUTHORIZED, "invalid key"),
		}
	} else if err != nil {
		return nil, err
	}
	switch err := s.core.AuthorizeIntrospection(p, sid); tokend.ErrorCode(err) {
	case "":
		return svc, nil
	case tokend.EFORBIDDEN, tokend.ENOTFOUND: // ENOTFOUND: a key of another service
		// RFC 7662 §2.3: a bearer token without sufficient privileges
		// for introspection is answered 401 as in RFC 6750 §3, with the
		// error code that says why.
		return nil, &oauthError{
			status: http.StatusUnauthorized, code: "insufficient_scope",
			desc:      "this key may not introspect tokens of this service (it needs the tokens.introspect permission)",
			challenge: `Bearer realm="tokend", error="insufficient_scope"`, domain: tokend.Errorf(tokend.EFORBIDDEN, "key lacks permission"),
		}
	default:
		return nil, err
	}
}
