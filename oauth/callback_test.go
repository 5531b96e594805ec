package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

func TestHTTPPasswordCallback(t *testing.T) {
	const password = "s3cret-Passw0rd"
	var elsewhere atomic.Int64
	other := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Write([]byte(`{"subject":"stolen"}`))
	}))
	var got callbackRequest
	host := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"subject":"u-1","account_id":"acct","roles":["a","b"],"extra":"ignored"}`))
		case "/minimal":
			w.Write([]byte(`{"subject":"u-2"}`))
		case "/401":
			w.WriteHeader(http.StatusUnauthorized)
		case "/403":
			w.WriteHeader(http.StatusForbidden)
		case "/500":
			w.WriteHeader(http.StatusInternalServerError)
		case "/404":
			w.WriteHeader(http.StatusNotFound)
		case "/garbage":
			w.Write([]byte(`<html>hello</html>`))
		case "/redirect":
			http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
		case "/slow":
			time.Sleep(300 * time.Millisecond)
			w.Write([]byte(`{"subject":"late"}`))
		}
	}))
	gone := newLoopbackServer(t, http.NotFoundHandler())
	gone.Close()
	cb := HTTPPasswordCallback{Timeout: 100 * time.Millisecond}
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		u, err := cb.VerifyPassword(ctx, host.URL+"/ok", "alice", password)
		if err != nil {
			t.Fatal(err)
		}
		if u.Subject != "u-1" || u.AccountID != "acct" || strings.Join(u.Roles, ",") != "a,b" {
			t.Fatalf("user = %+v", u)
		}
		if got.Username != "alice" || got.Password != password {
			t.Fatalf("the host got %+v", got)
		}
	})
	t.Run("OKMinimal", func(t *testing.T) {
		u, err := cb.VerifyPassword(ctx, host.URL+"/minimal", "alice", password)
		if err != nil || u.Subject != "u-2" || u.AccountID != "" || u.Roles != nil {
			t.Fatalf("user = %+v, err = %v", u, err)
		}
	})
	for _, tc := range []struct{ name, url, code string }{
		{"ErrRejected401", host.URL + "/401", tokend.EGRANT},
		{"ErrRejected403", host.URL + "/403", tokend.EGRANT},
		{"ErrHost500", host.URL + "/500", tokend.EUNAVAILABLE},
		{"ErrHost404", host.URL + "/404", tokend.EUNAVAILABLE},
		{"ErrGarbage", host.URL + "/garbage", tokend.EUNAVAILABLE},
		{"ErrRedirectNotFollowed", host.URL + "/redirect", tokend.EUNAVAILABLE},
		{"ErrTimeout", host.URL + "/slow", tokend.EUNAVAILABLE},
		{"ErrUnreachable", gone.URL + "/check", tokend.EUNAVAILABLE},
		{"ErrBadURL", "http://[::1", tokend.EUNAVAILABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := cb.VerifyPassword(ctx, tc.url, "alice", password)
			if tokend.ErrorCode(err) != tc.code {
				t.Fatalf("err = %v (code %q), want code %q", err, tokend.ErrorCode(err), tc.code)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(tokend.ErrorMessage(err), password) {
				t.Fatalf("the password is in the error: %v", err)
			}
			if d := time.Since(start); d > 250*time.Millisecond {
				t.Fatalf("took %v despite a 100ms timeout", d)
			}
		})
	}
	if elsewhere.Load() != 0 {
		t.Fatal("a redirect carried the password to another server")
	}
}
