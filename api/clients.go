package api

import (
	"encoding/base64"
	"net/http"
	"strconv"

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

// Client pages are ordered by id, so the last id is the whole cursor; it is
// encoded only so callers treat it as opaque.
func encodeClientCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

func decodeClientCursor(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if id, err := strconv.ParseInt(string(raw), 10, 64); err == nil && id > 0 && encodeClientCursor(id) == s {
			return id, nil
		}
	}
	return 0, tokend.Invalid("page_token", "is malformed: pass back next_page_token unchanged")
}

func (a *API) listClients(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	sid, err := pathID(r, "sid")
	if err != nil {
		return err
	}
	q, err := httpx.Query(r, "page_size", "page_token")
	if err != nil {
		return err
	}
	size := tokend.DefaultPageSize
	if s, ok := q["page_size"]; ok {
		if size, err = strconv.Atoi(s); err != nil {
			return tokend.Invalid("page_size", "must be an integer")
		}
	}
	var after int64
	if s, ok := q["page_token"]; ok {
		if after, err = decodeClientCursor(s); err != nil {
			return err
		}
	}
	cs, err := a.core.ListClients(r.Context(), p, sid, after, size)
	if err != nil {
		return err
	}
	out := wire.ClientList{Clients: make([]wire.Client, len(cs))}
	for i, c := range cs {
		out.Clients[i] = clientJSON(c, "")
	}
	// The core does not say whether more follow, so a full page gets a
	// token; the page after it may then be empty.
	if len(cs) > 0 && len(cs) == size {
		out.NextPageToken = encodeClientCursor(cs[len(cs)-1].ID)
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
