package authlete

import (
	"encoding/json"
	"net/http"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/httpx"
)

// Bulk import: POST /auth/token/create/batch?dryRun=… with a JSON array of
// TokenCreateRequest, and GET …/batch/status/{requestId}. The core
// validates the whole batch first and refuses it with a reason per token
// (the "errors" array of the 400 body, by index); a dry run stops there;
// otherwise every token is stored in one transaction or none is. The call
// answers when the batch is done, so its answer is final; the status
// endpoint reports the same for clients that poll, as Authlete's do.

type batchResponse struct {
	resultBody
	RequestID string `json:"requestId"`
}

func (s *Server) createBatch(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	q, _ := httpx.Query(r, "dryRun")
	dryRun := false
	switch q["dryRun"] {
	case "", "false":
	case "true":
		dryRun = true
	default:
		return tokend.Invalid("dryRun", "must be true or false, not %.20q", q["dryRun"])
	}
	var raw []json.RawMessage
	if err := httpx.DecodeJSON(w, r, &raw); err != nil {
		return err
	}
	items := make([]tokend.TokenInput, len(raw))
	var refused []tokend.ImportItemError
	for i, one := range raw {
		var req tokenCreateRequest
		err := httpx.DecodeBytes(one, &req)
		if err == nil {
			items[i], err = req.input()
		}
		if err != nil {
			refused = append(refused, tokend.ImportItemError{Index: i, Err: err})
		}
	}
	if len(refused) > 0 {
		return &tokend.ImportRejected{Items: refused, Err: tokend.Invalid("body",
			"%d of %d tokens cannot be read; nothing was imported", len(refused), len(raw))}
	}
	st, err := s.imports.Import(r.Context(), p, sid, items, dryRun)
	if err != nil {
		if st != nil {
			return &withRequestID{err: err, requestID: st.ID}
		}
		return err
	}
	out := batchResponse{RequestID: st.ID}
	if dryRun {
		code := resultCode(apiTokenBatch, suffixDryRun)
		out.resultBody = resultBody{ResultCode: code, ResultMessage: "[" + code + "] " +
			sprintf("dry run: all %d tokens are valid; nothing was written", st.Total)}
	} else {
		out.resultBody = ok(apiTokenBatch, "imported %d tokens", st.Stored)
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// batchStatus is Authlete's TokenBatchStatus.
type batchStatus struct {
	BatchKind        string `json:"batchKind"`
	RequestID        string `json:"requestId"`
	Result           string `json:"result,omitempty"` // SUCCEEDED or FAILED; none while running
	TokenCount       int    `json:"tokenCount"`
	ErrorCode        string `json:"errorCode,omitempty"`
	ErrorDescription string `json:"errorDescription,omitempty"`
	CreatedAt        int64  `json:"createdAt"`
	ModifiedAt       int64  `json:"modifiedAt"`
}

type batchStatusResponse struct {
	resultBody
	Status batchStatus `json:"status"`
}

func (s *Server) batchStatus(w http.ResponseWriter, r *http.Request, p *tokend.Principal, sid int64) error {
	if _, err := s.core.CachedService(r.Context(), sid); err != nil {
		return err
	}
	st, err := s.imports.Status(p, sid, r.PathValue("requestId"))
	if err != nil {
		return err
	}
	out := batchStatusResponse{Status: batchStatus{BatchKind: "CREATE", RequestID: st.ID, TokenCount: st.Stored,
		CreatedAt: millis(st.CreatedAt), ModifiedAt: millis(st.UpdatedAt)}}
	switch st.State {
	case tokend.ImportValidated:
		out.Status.Result = "SUCCEEDED"
		out.resultBody = ok(apiTokenBatchStatus, "dry run: all %d tokens were valid; nothing was written", st.Total)
	case tokend.ImportSucceeded:
		out.Status.Result = "SUCCEEDED"
		out.resultBody = ok(apiTokenBatchStatus, "all %d tokens were imported", st.Stored)
	case tokend.ImportFailed:
		out.Status.Result = "FAILED"
		out.Status.ErrorCode = resultCode(apiTokenBatch, statusOf(st.Err).suffix)
		out.Status.ErrorDescription = message(st.Err)
		if c := tokend.ErrorCode(st.Err); c == tokend.EINTERNAL || c == tokend.EUNAVAILABLE {
			out.Status.ErrorDescription = "the store failed; no token of the batch was written"
		}
		out.resultBody = ok(apiTokenBatchStatus, "the batch failed; none of its %d tokens was imported", st.Total)
	default:
		out.resultBody = ok(apiTokenBatchStatus, "the batch of %d tokens is being written", st.Total)
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}
