package tokend

import "context"

// The "Connected apps" page of the web console: an end user, signed in to
// the service's own (first-party) application, sees the clients holding
// live tokens for them and cuts one off. The page has no client secret to
// present, unlike a first-party client acting for its user (usersession.go),
// so the user's access token must itself come from a first-party client:
// the token then proves both who the user is and that the service's own
// application signed them in.

// OpenUserSessionByToken authenticates an end user by an access token
// issued to a first-party client of its service. The token must be live
// and unbound (AuthenticateBearer's rules) and act for a user; every
// failure is EUNAUTHORIZED with Field "user", but a token of a client that
// is not first-party is EFORBIDDEN, saying so. The session's client is the
// token's: UserClients leaves it out, so the page never offers to revoke
// the sign-in it runs on.
func (c *Core) OpenUserSessionByToken(ctx context.Context, accessToken string) (*UserSession, error) {
	userErr := func(err error) error { return &Error{Code: EUNAUTHORIZED, Field: "user", Message: ErrorMessage(err)} }
	svc, t, err := c.AuthenticateBearer(ctx, 0, accessToken, "")
	if ErrorCode(err) == EUNAUTHORIZED {
		return nil, userErr(err)
	} else if err != nil {
		return nil, err
	}
	if t.Subject == "" {
		return nil, &Error{Code: EUNAUTHORIZED, Field: "user", Message: "the access token acts for a client, not a user"}
	}
	cl, err := c.cachedClientByID(ctx, t.ClientID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, &Error{Code: EUNAUTHORIZED, Field: "user", Message: "the access token's client no longer exists"}
	} else if err != nil {
		return nil, err
	}
	if !cl.FirstParty {
		return nil, Errorf(EFORBIDDEN, "the access token was issued to %s, which is not a first-party client of the service: sign in through the service's own application", quoteShort(cl.Name))
	}
	return &UserSession{svc: svc, client: cl, subject: t.Subject}, nil
}
