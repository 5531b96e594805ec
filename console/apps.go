package console

import (
	"net/http"
	"strconv"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
)

// The end user's "Connected apps" page. The user signs in with an access
// token that the service's own (first-party) application obtained for
// them; the core checks it afresh on every request, so revoking that token
// signs the page out.

// userHandler is an end user's page, called with their session.
type userHandler func(w http.ResponseWriter, r *http.Request, s *tokend.UserSession) error

func (c *Console) user(mux *http.ServeMux, pattern string, h userHandler) {
	mux.Handle(pattern, c.wrap(func(w http.ResponseWriter, r *http.Request) error {
		se, ok := c.currentSession(r, userSession)
		if !ok {
			return c.toSignIn(w, r, "/console/apps/signin", "")
		}
		us, err := c.core.OpenUserSessionByToken(r.Context(), se.secret)
		if code := tokend.ErrorCode(err); code == tokend.EUNAUTHORIZED || code == tokend.EFORBIDDEN {
			c.endSession(w, r, userSession)
			return c.toSignIn(w, r, "/console/apps/signin", tokend.ErrorMessage(err))
		} else if err != nil {
			return err
		}
		httpx.SetService(r.Context(), us.Service().ID)
		return h(w, r, us)
	}))
}

func (c *Console) appsSignInForm(w http.ResponseWriter, r *http.Request) error {
	if _, ok := c.currentSession(r, userSession); ok {
		http.Redirect(w, r, "/console/apps/", http.StatusSeeOther)
		return nil
	}
	return c.render(w, http.StatusOK, "apps_signin", page{Title: "Sign in", Apps: true})
}

func (c *Console) appsSignIn(w http.ResponseWriter, r *http.Request) error {
	token, err := formValue(w, r, "access_token")
	if err != nil {
		return err
	}
	if ok, err := c.signInAllowed(w, r, "apps_signin", page{Title: "Sign in", Apps: true}); !ok {
		return err
	}
	_, err = c.core.OpenUserSessionByToken(r.Context(), token)
	if code := tokend.ErrorCode(err); code == tokend.EUNAUTHORIZED || code == tokend.EFORBIDDEN {
		if code == tokend.EUNAUTHORIZED {
			c.signInFailed(r)
		}
		return c.render(w, statuses[code], "apps_signin", page{Title: "Sign in", Apps: true, Error: tokend.ErrorMessage(err)})
	} else if err != nil {
		return err
	}
	c.forgetSession(r, userSession)
	c.startSession(w, userSession, token)
	http.Redirect(w, r, "/console/apps/", http.StatusSeeOther)
	return nil
}

func (c *Console) appsSignOut(w http.ResponseWriter, r *http.Request) error {
	c.endSession(w, r, userSession)
	http.Redirect(w, r, "/console/apps/signin", http.StatusSeeOther)
	return nil
}

type appsPageData struct {
	Subject string
	Service *tokend.Service
	Apps    []*tokend.ClientGrant
}

func (c *Console) appsPage(w http.ResponseWriter, r *http.Request, s *tokend.UserSession) error {
	apps, err := c.core.UserClients(r.Context(), s)
	if err != nil {
		return err
	}
	pg := page{Title: "Connected apps", Apps: true, Actor: s.Subject(),
		Data: appsPageData{Subject: s.Subject(), Service: s.Service(), Apps: apps}}
	if n, err := strconv.Atoi(r.URL.Query().Get("revoked")); err == nil && n >= 0 {
		pg.Flash = "Access removed: " + strconv.Itoa(n) + " token(s) revoked."
	}
	return c.render(w, http.StatusOK, "apps", pg)
}

// appsRevoke cuts one app off: every token it holds for the user.
func (c *Console) appsRevoke(w http.ResponseWriter, r *http.Request, s *tokend.UserSession) error {
	n, err := c.core.RevokeUserClient(r.Context(), s, r.PathValue("client"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/apps/?revoked="+strconv.Itoa(n), http.StatusSeeOther)
	return nil
}
