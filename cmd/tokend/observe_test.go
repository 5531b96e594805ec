package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/wire"
)

func ptrTo[T any](v T) *T { return &v }

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsScrape drives the real server (API, token endpoint,
// introspection) and scrapes /metrics: every family the README documents
// is there, counted by route pattern, service and grant type.
func TestMetricsScrape(t *testing.T) {
	s, stderr := MustServe(t, filepath.Join(t.TempDir(), "m.db"), map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey, "TOKEND_LOG_FORMAT": "json"})
	ctx := context.Background()
	c := client.New(s.url, testKey)
	svc, err := c.CreateService(ctx, wire.ServiceInput{Name: ptrTo("shop"), ScopesSupported: &[]string{"read"},
		GrantTypesSupported: &[]string{"CLIENT_CREDENTIALS", "PASSWORD", "REFRESH_TOKEN"}})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := c.CreateClient(ctx, svc.ID, wire.ClientInput{Name: ptrTo("billing"), GrantTypes: &[]string{"CLIENT_CREDENTIALS", "PASSWORD", "REFRESH_TOKEN"}})
	if err != nil {
		t.Fatal(err)
	}
	post := func(endpoint, secret string, v url.Values) (int, map[string]any) {
		req, _ := http.NewRequest("POST", s.url+"/oauth/"+fmt.Sprint(svc.ID)+"/"+endpoint, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(cl.ClientID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	form := func(endpoint string, v url.Values) map[string]any {
		code, out := post(endpoint, cl.ClientSecret, v)
		if code != 200 {
			t.Fatalf("%s: %d %v", endpoint, code, out)
		}
		return out
	}
	tok := form("token", url.Values{"grant_type": {"client_credentials"}})
	form("introspect", url.Values{"token": {tok["access_token"].(string)}})
	form("introspect", url.Values{"token": {"tka_unknown"}})
	form("revoke", url.Values{"token": {tok["access_token"].(string)}})
	httpGet(t, s.url+"/no/such/route")

	// A refresh token used twice: reuse detected, the grant revoked.
	minted, err := c.CreateToken(ctx, svc.ID, wire.TokenInput{Client: cl.ClientID, GrantType: "PASSWORD", Subject: "alice", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	form("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {minted.RefreshToken}})
	if code, _ := post("token", cl.ClientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {minted.RefreshToken}}); code != 400 {
		t.Fatalf("refresh token reuse answered %d", code)
	}
	// A wrong secret, until the failure limit refuses with 429.
	limited := false
	for range 40 {
		if code, _ := post("token", "tks_wrong", url.Values{"grant_type": {"client_credentials"}}); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("40 wrong secrets were never refused with 429")
	}

	code, body := httpGet(t, s.url+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics answered %d", code)
	}
	sid := fmt.Sprint(svc.ID)
	for _, want := range []string{
		`tokend_http_requests_total{code="201",route="POST /v1/services"} 1`,
		`tokend_http_requests_total{code="200",route="POST /oauth/{sid}/introspect"} 2`,
		`tokend_http_requests_total{code="404",route="unmatched"} 1`,
		`tokend_http_request_duration_seconds_count{code="200",route="POST /oauth/{sid}/token"} 2`,
		`tokend_tokens_issued_total{grant_type="CLIENT_CREDENTIALS",service="` + sid + `"} 1`,
		`tokend_tokens_introspected_total{active="true",grant_type="CLIENT_CREDENTIALS",service="` + sid + `"} 1`,
		`tokend_tokens_introspected_total{active="false",grant_type="unknown",service="` + sid + `"} 1`,
		`tokend_tokens_revoked_total{grant_type="CLIENT_CREDENTIALS",service="` + sid + `"} 1`,
		`tokend_store_operation_duration_seconds_count{operation="CreateToken"} 2`,
		`tokend_janitor_sweeps_total{result="ok"} 0`,
		`tokend_tokens_issued_total{grant_type="PASSWORD",service="` + sid + `"} 1`,
		`tokend_tokens_issued_total{grant_type="REFRESH_TOKEN",service="` + sid + `"} 1`,
		`tokend_refresh_reuse_detected_total{service="` + sid + `"} 1`,
		`tokend_tokens_revoked_total{grant_type="many",service="` + sid + `"} 1`,
		`tokend_rate_limited_total{route="POST /oauth/{sid}/token"} 1`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, cl.ClientSecret) || strings.Contains(body, tok["access_token"].(string)) {
		t.Error("/metrics shows a secret")
	}
	// One structured line per request names the route, the service and
	// the request id, and no secret.
	logs := stderr.String()
	line := regexp.MustCompile(`\{[^\n]*"route":"POST /oauth/\{sid\}/introspect"[^\n]*\}`).FindString(logs)
	var l map[string]any
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		t.Fatalf("no JSON request line for introspection in:\n%s", logs)
	}
	for _, k := range []string{"method", "route", "status", "duration", "request_id"} {
		if _, ok := l[k]; !ok {
			t.Errorf("request line lacks %s: %s", k, line)
		}
	}
	if l["service"] != float64(svc.ID) {
		t.Errorf("request line service = %v, want %d", l["service"], svc.ID)
	}
	for _, secret := range []string{cl.ClientSecret, tok["access_token"].(string), testKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log shows a secret")
		}
	}
}

func TestMetricsPlacement(t *testing.T) {
	t.Run("OKOwnListener", func(t *testing.T) {
		s, _ := MustServe(t, filepath.Join(t.TempDir(), "a.db"), map[string]string{"TOKEND_METRICS_ADDR": "127.0.0.1:0"})
		if code, body := httpGet(t, s.obs.url); code != 200 || !strings.Contains(body, "tokend_janitor_sweeps_total") {
			t.Fatalf("metrics listener: %d", code)
		}
		if code, _ := httpGet(t, s.url+"/metrics"); code != 404 {
			t.Fatalf("the main listener still serves /metrics: %d", code)
		}
	})
	t.Run("OKOff", func(t *testing.T) {
		s, _ := MustServe(t, filepath.Join(t.TempDir(), "b.db"), map[string]string{"TOKEND_METRICS_ADDR": "off"})
		if code, _ := httpGet(t, s.url+"/metrics"); code != 404 {
			t.Fatalf("metrics off, /metrics answered %d", code)
		}
		if code, _ := httpGet(t, s.url+"/readyz"); code != 200 {
			t.Fatalf("metrics off, /readyz answered %d", code)
		}
	})
	t.Run("ErrBadAddress", func(t *testing.T) {
		_, err := parseServeFlags("serve", []string{"--metrics-addr", "nonsense"}, io.Discard, mapEnv(nil))
		if err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	s, _ := MustServe(t, filepath.Join(t.TempDir(), "h.db"), nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := httpGet(t, s.url+path); code != 200 || !strings.Contains(body, `"status"`) {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
}
