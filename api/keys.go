package api

import (
	"net/http"
	"strings"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/wire"
)

// keyScope returns the service a key route is about: 0 for the
// organization's routes (/v1/keys), which have no {sid}.
func keyScope(r *http.Request) (int64, error) {
	if !strings.Contains(r.Pattern, "{sid}") {
		return 0, nil
	}
	return pathID(r, "sid")
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := keyScope(r)
	if err != nil {
		return err
	}
	var body wire.KeyInput
	if err := httpx.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	ttl, err := seconds("ttl", body.TTL)
	if err != nil {
		return err
	}
	in := tokend.KeyInput{Name: body.Name, Permissions: typed[tokend.Permission](body.Permissions), TTL: ttl}
	k, raw, err := a.core.CreateKey(r.Context(), p, sid, in)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusCreated, keyJSON(k, raw))
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := keyScope(r)
	if err != nil {
		return err
	}
	ks, err := a.core.ListKeys(r.Context(), p, sid)
	if err != nil {
		return err
	}
	out := wire.KeyList{Keys: make([]wire.Key, len(ks))}
	for i, k := range ks {
		out.Keys[i] = keyJSON(k, "")
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func (a *API) deleteKey(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := keyScope(r)
	if err != nil {
		return err
	}
	kid, err := pathID(r, "kid")
	if err != nil {
		return err
	}
	if err := a.core.DeleteKey(r.Context(), p, sid, kid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
