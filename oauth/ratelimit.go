package oauth

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
)

// clientKey names a client for the limiter. A client_id longer than any
// the core accepts cannot exist, so it is cut short: an attacker's long
// values then cost no more memory than short ones.
func clientKey(sid int64, clientID string) string {
	return "oauth\x00" + strconv.FormatInt(sid, 10) + "\x00" + shortClientID(clientID)
}

func shortClientID(clientID string) string {
	if len(clientID) > tokend.MaxNameLen+1 {
		return clientID[:tokend.MaxNameLen+1]
	}
	return clientID
}

// limited checks the limits before any credential is looked at. The
// answer to an exhausted limit is 429 with Retry-After, and the core is
// not called at all: a flood of guesses costs no store queries.
func (s *Server) limited(r *http.Request, sid int64, c caller) error {
	var cred string
	if c.cred.ClientID != "" {
		cred = clientKey(sid, c.cred.ClientID)
	}
	var ref *authlimit.Refused
	if err := s.limits.Check(r, cred); errors.As(err, &ref) {
		return &oauthError{
			status: http.StatusTooManyRequests, code: "temporarily_unavailable",
			desc:       "too many failed authentications; retry after " + strconv.Itoa(ref.RetryAfter) + " seconds",
			retryAfter: ref.RetryAfter,
			domain:     tokend.Errorf(tokend.EUNAUTHORIZED, "rate limited"),
		}
	}
	return nil
}

// failed counts a failed authentication of c from r's address, and records
// it in the audit log when it makes the client or the address limited.
func (s *Server) failed(r *http.Request, sid int64, c caller) {
	f := authlimit.Failure{ServiceID: sid, Surface: "oauth"}
	if c.cred.ClientID != "" {
		f.Credential, f.Actor = clientKey(sid, c.cred.ClientID), "client_id:"+shortClientID(c.cred.ClientID)
	}
	if err := s.limits.Failed(r, s.core, f); err != nil {
		s.logger.WarnContext(r.Context(), "could not record repeated authentication failures", "err", err.Error())
	}
}
