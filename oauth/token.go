package oauth

import (
	"net/http"

	"github.com/tokend/tokend"
)

// authenticate runs client authentication for the token and revocation
// endpoints, behind the failure limits. It counts a failure only for a
// rejected credential: a bad request or an unknown service is not a guess.
func (s *Server) authenticate(r *http.Request, sid int64, c caller) (*tokend.Service, *tokend.Client, error) {
	if err := s.limited(r, sid, c); err != nil {
		return nil, nil, err
	}
	svc, cl, err := s.core.AuthenticateClient(r.Context(), sid, c.cred)
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
		s.failed(r, sid, c)
	}
	return svc, cl, err
}

// callerOf parses the caller and, for a malformed Basic header, counts the
// failure against the address (there is no client_id to blame).
func (s *Server) callerOf(r *http.Request, sid int64, f form, allowBearer bool) (caller, error) {
	c, err := parseCaller(r, f, allowBearer)
	if tokend.ErrorCode(err) == tokend.EUNAUTHORIZED {
		if lerr := s.limited(r, sid, c); lerr != nil {
			return c, lerr
		}
		s.failed(r, sid, c)
	}
	return c, err
}

// clientRequest reads a form post that a client of service {sid} must
// authenticate: the token and revocation endpoints. Its responses are not
// to be cached (RFC 6749 §5.1).
func (s *Server) clientRequest(w http.ResponseWriter, r *http.Request) (form, *tokend.Service, *tokend.Client, error) {
	noStore(w)
	sid, err := pathSID(r)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := readForm(w, r)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := s.callerOf(r, sid, f, false)
	if err != nil {
		return nil, nil, nil, err
	}
	svc, cl, err := s.authenticate(r, sid, c)
	return f, svc, cl, err
}

// token is the token endpoint (RFC 6749 §3.2).
func (s *Server) token(w http.ResponseWriter, r *http.Request) error {
	f, svc, cl, err := s.clientRequest(w, r)
	if err != nil {
		return err
	}
	issued, err := s.core.Exchange(r.Context(), svc, cl, tokend.TokenRequest{
		GrantType:    f["grant_type"],
		Scope:        f["scope"],
		Code:         f["code"],
		RedirectURI:  f["redirect_uri"],
		CodeVerifier: f["code_verifier"],
		RefreshToken: f["refresh_token"],
		Username:     f["username"],
		Password:     f["password"],
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.core.TokenResponse(issued))
	return nil
}
