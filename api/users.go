package api

import (
	"net/http"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/wire"
)

func (a *API) createUser(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	var body wire.UserInput
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	u, err := a.core.CreateUser(r.Context(), p, sid, userInput(body))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusCreated, userJSON(u))
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	page, err := idPageQuery(r)
	if err != nil {
		return err
	}
	us, next, err := fetchIDPage(page, func(after int64, limit int) ([]*tokend.User, bool, error) {
		return a.core.ListUsers(r.Context(), p, sid, after, limit)
	}, func(u *tokend.User) int64 { return u.ID })
	if err != nil {
		return err
	}
	out := wire.UserList{Users: make([]wire.User, len(us)), NextPageToken: next}
	for i, u := range us {
		out.Users[i] = userJSON(u)
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// The username travels percent-encoded in the path; PathValue decodes it,
// so a name holding "/" or "%" reaches the core as it was created.

func (a *API) getUser(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	u, err := a.core.GetUser(r.Context(), p, sid, r.PathValue("username"))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, userJSON(u))
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	var body wire.UserInput
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	u, err := a.core.UpdateUser(r.Context(), p, sid, r.PathValue("username"), userInput(body))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, userJSON(u))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	if err := a.core.DeleteUser(r.Context(), p, sid, r.PathValue("username")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) createCode(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	var body wire.CodeInput
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	raw, code, err := a.core.CreateAuthorizationCode(r.Context(), p, sid, codeInput(body))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusCreated, codeJSON(raw, code))
}
