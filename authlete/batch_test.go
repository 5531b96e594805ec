package authlete

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/tokend/tokend"
)

func TestTokenBatch(t *testing.T) {
	e := MustEnv(t)
	item := func(i int) obj {
		return obj{"grantType": "AUTHORIZATION_CODE", "clientId": e.cl.ID, "subject": fmt.Sprintf("user%d", i),
			"scopes": []string{"read"}, "accessToken": fmt.Sprintf("imported-access-%04d", i),
			"refreshToken": fmt.Sprintf("imported-refresh-%04d", i), "accessTokenDuration": 600}
	}
	batch := e.path("auth/token/create/batch")
	status := func(t *testing.T, id string) obj {
		return e.MustResult(t, "GET", e.path("auth/token/create/batch/status/%s", id), e.root, nil, "A107101").obj("status")
	}

	t.Run("DryRunWritesNothing", func(t *testing.T) {
		before := e.MustSnapshot(t)
		o := e.MustResult(t, "POST", batch+"?dryRun=true", e.root, []obj{item(1), item(2)}, "A106102")
		e.MustUnchanged(t, before)
		st := status(t, o.str("requestId"))
		if st.str("result") != "SUCCEEDED" || st.num("tokenCount") != 0 || st.str("batchKind") != "CREATE" || st.str("requestId") != o.str("requestId") {
			t.Fatalf("dry run status %v", st)
		}
	})
	t.Run("OKAllStored", func(t *testing.T) {
		o := e.MustResult(t, "POST", batch+"?dryRun=false", e.root, []obj{item(1), item(2), item(3)}, "A106101")
		st := status(t, o.str("requestId"))
		if st.str("result") != "SUCCEEDED" || st.num("tokenCount") != 3 || st.num("createdAt") != e.clock.Now().UnixMilli() || st["errorCode"] != nil {
			t.Fatalf("status %v", st)
		}
		for i := 1; i <= 3; i++ {
			tok, err := e.core.FindToken(context.Background(), e.org, e.svc.ID, tokend.TokenRef{Value: fmt.Sprintf("imported-access-%04d", i)})
			if err != nil || tok.Subject != fmt.Sprintf("user%d", i) || tok.RefreshHash != tokend.HashSecret(fmt.Sprintf("imported-refresh-%04d", i)) ||
				!tok.AccessExpiresAt.Equal(e.clock.Now().Add(600e9)) {
				t.Fatalf("token %d stored as %+v, %v", i, tok, err)
			}
		}
	})
	t.Run("RefusedWithAReasonPerTokenAndNothingStored", func(t *testing.T) {
		before := e.MustSnapshot(t)
		items := []obj{item(10), item(1), item(11), item(12), item(13)}
		items[2]["scopes"] = []string{"admin"}
		items[3]["accessToken"] = items[0]["accessToken"]
		delete(items[4], "accessToken")
		o := e.MustError(t, "POST", batch, e.root, items, http.StatusBadRequest, "A106201", "body")
		want := []struct {
			index       int64
			code, field string
		}{{1, "A106202", "accessToken"}, {2, "A106201", "scopes"}, {3, "A106202", "accessToken"}, {4, "A106201", "accessToken"}}
		errs := o.objs("errors")
		if len(errs) != len(want) {
			t.Fatalf("errors %v, want %d", errs, len(want))
		}
		for i, w := range want {
			msg := errs[i].str("resultMessage")
			if errs[i].num("index") != w.index || errs[i].str("resultCode") != w.code || msg[:len(w.code)+len(w.field)+5] != "["+w.code+"] "+w.field+": " {
				t.Errorf("error %d = %v, want index %d code %s field %s", i, errs[i], w.index, w.code, w.field)
			}
		}
		if o["requestId"] != nil {
			t.Fatalf("a refused batch has no status to poll: %v", o)
		}
		e.MustUnchanged(t, before)
	})
	t.Run("UnreadableItemsRefused", func(t *testing.T) {
		before := e.MustSnapshot(t)
		items := []any{item(20), obj{"grantType": "PASSWORD", "colour": "red"}, obj{"grantType": "PASSWORD", "jwtAtClaims": "{}"}}
		o := e.MustError(t, "POST", batch, e.root, items, http.StatusBadRequest, "A106201", "body")
		if errs := o.objs("errors"); len(errs) != 2 || errs[0].num("index") != 1 || errs[1].num("index") != 2 || errs[1].str("resultCode") != "A106203" {
			t.Fatalf("errors %v", errs)
		}
		e.MustUnchanged(t, before)
	})
	refusals := []struct {
		name, query string
		body        any
		status      int
		code, field string
	}{
		{"ErrDryRunNotBoolean", "?dryRun=yes", []obj{item(30)}, 400, "A106201", "dryRun"},
		{"ErrEmpty", "", []obj{}, 400, "A106201", "body"},
		{"ErrNotAnArray", "", item(30), 400, "A106201", "body"},
		{"ErrTooMany", "", make([]obj, tokend.MaxImportTokens+1), 400, "A106201", "body"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			before := e.MustSnapshot(t)
			e.MustError(t, "POST", batch+tt.query, e.root, tt.body, tt.status, tt.code, tt.field)
			e.MustUnchanged(t, before)
		})
	}
	t.Run("StatusOfAnotherServiceIsNotFound", func(t *testing.T) {
		o := e.MustResult(t, "POST", batch+"?dryRun=true", e.root, []obj{item(40)}, "A106102")
		other := e.MustService(t, "other")
		e.MustError(t, "GET", fmt.Sprintf("/api/%d/auth/token/create/batch/status/%s", other.ID, o.str("requestId")), e.root, nil, 404, "A107301", "")
	})
}
