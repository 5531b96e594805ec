package api

import (
	"net/http"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/wire"
)

func (a *API) createService(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	var body wire.ServiceInput
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	in, err := serviceInput(body)
	if err != nil {
		return err
	}
	s, err := a.core.CreateService(r.Context(), p, in)
	if err != nil {
		return renameField(err, serviceFields)
	}
	return httpx.WriteJSON(w, http.StatusCreated, a.serviceJSON(s))
}

func (a *API) listServices(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	ss, err := a.core.ListServices(r.Context(), p)
	if err != nil {
		return err
	}
	out := wire.ServiceList{Services: make([]wire.Service, len(ss))}
	for i, s := range ss {
		out.Services[i] = a.serviceJSON(s)
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func (a *API) getService(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	s, err := a.core.GetService(r.Context(), p, sid)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, a.serviceJSON(s))
}

func (a *API) updateService(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	var body wire.ServiceInput
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	in, err := serviceInput(body)
	if err != nil {
		return err
	}
	s, err := a.core.UpdateService(r.Context(), p, sid, in)
	if err != nil {
		return renameField(err, serviceFields)
	}
	return httpx.WriteJSON(w, http.StatusOK, a.serviceJSON(s))
}

func (a *API) deleteService(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	if err := a.core.DeleteService(r.Context(), p, sid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
