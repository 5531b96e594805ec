package api

import (
	"net/http"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/wire"
)

func (a *API) createClient(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	var body wire.ClientInput
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	c, secret, err := a.core.CreateClient(r.Context(), p, sid, clientInput(body))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusCreated, clientJSON(c, secret))
}

func (a *API) listClients(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	page, err := idPageQuery(r)
	if err != nil {
		return err
	}
	cs, next, err := fetchIDPage(page, func(after int64, limit int) ([]*tokend.Client, bool, error) {
		return a.core.ListClients(r.Context(), p, sid, after, limit)
	}, func(c *tokend.Client) int64 { return c.ID })
	if err != nil {
		return err
	}
	out := wire.ClientList{Clients: make([]wire.Client, len(cs)), NextPageToken: next}
	for i, c := range cs {
		out.Clients[i] = clientJSON(c, "")
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	c, err := a.core.GetClient(r.Context(), p, sid, r.PathValue("client"))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, clientJSON(c, ""))
}

func (a *API) updateClient(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	var body wire.ClientInput
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	c, err := a.core.UpdateClient(r.Context(), p, sid, r.PathValue("client"), clientInput(body))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, clientJSON(c, ""))
}

func (a *API) deleteClient(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	if err := a.core.DeleteClient(r.Context(), p, sid, r.PathValue("client")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) rotateClientSecret(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	c, secret, err := a.core.RotateClientSecret(r.Context(), p, sid, r.PathValue("client"))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, clientJSON(c, secret))
}
