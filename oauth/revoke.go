package oauth

import "net/http"

// revoke is RFC 7009 token revocation. Public clients may revoke their own
// tokens by client_id (RFC 7009 §2.1), since they hold nothing else to
// authenticate with. Unknown, already revoked and other services' tokens
// answer 200 (§2.2: the client cannot act on the difference, and an
// attacker must not learn it); so does an unknown token_type_hint, which
// the core treats as no hint.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	f, svc, cl, err := s.clientRequest(w, r)
	if err != nil {
		return err
	}
	if err := s.core.RevokeByClient(r.Context(), svc, cl, f["token"], f["token_type_hint"]); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}
