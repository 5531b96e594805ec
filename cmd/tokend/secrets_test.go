package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/faultstore"
	"github.com/tokend/tokend/internal/testutil"
)

// generatedSecret matches every value tokend generates: tokens, keys,
// client secrets, authorization codes.
var generatedSecret = regexp.MustCompile(`tk[akrsc]_[0-9A-Za-z]{49}`)

// secretSet collects the secrets a test handled.
type secretSet map[string]bool

func (s secretSet) add(v ...string) {
	for _, x := range v {
		if x != "" {
			s[x] = true
		}
	}
}

// addFound adds every generated secret in b.
func (s secretSet) addFound(b string) { s.add(generatedSecret.FindAllString(b, -1)...) }

// leaks returns the secrets of which where shows a piece of 12 characters
// or more: an error that quoted part of a value leaks it too.
func (s secretSet) leaks(where string) []string {
	var out []string
	for v := range s {
		body := v
		if generatedSecret.MatchString(v) {
			body = v[4:] // the prefix alone is no secret
		}
		for i := 0; i+12 <= len(body); i += 6 {
			if strings.Contains(where, body[i:i+12]) {
				out = append(out, fmt.Sprintf("%.8s…", v))
				break
			}
		}
	}
	return out
}

// TestNoSecretsLeak runs every surface's flows, right and wrong, with
// debug logging captured, and then looks for every secret the clients
// handled (token values, refresh tokens, client secrets, management keys,
// passwords, and the wrong ones presented) in the log, in every error
// answer and in the store's files or tables. None may be there: values
// appear only in the answer that mints them.
func TestNoSecretsLeak(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			s := MustSurfaces(t, k.url(t))
			secrets := secretSet{}
			secrets.add(s.org, s.svcKey, s.confSecret, s.superSecret, alicePassword)
			// Every value minted, and the answers that carry one: no cache
			// may keep them (RFC 6749 §5.1).
			var cacheable []string
			s.seen = func(res *http.Response, body []byte) {
				if generatedSecret.Match(body) && res.Header.Get("Cache-Control") != "no-store" {
					cacheable = append(cacheable, res.Request.URL.Path)
				}
				secrets.addFound(string(body))
			}
			var errorBodies strings.Builder
			send := func(req *http.Request) (*http.Response, []byte) {
				t.Helper()
				res, body := s.send(t, http.DefaultClient, req)
				secrets.addFound(string(body))
				if res.StatusCode >= 400 {
					fmt.Fprintf(&errorBodies, "%s %s: %s\n", req.Method, req.URL.Path, body)
					for k, vs := range res.Header {
						fmt.Fprintf(&errorBodies, "%s: %s\n", k, strings.Join(vs, ","))
					}
				}
				return res, body
			}
			// The right flows, on every surface.
			for _, p := range probes {
				if res, body := send(p.prepare(t, s)); res.StatusCode != p.want {
					t.Fatalf("%s: %d %s", p.name, res.StatusCode, body)
				}
			}
			// And wrong ones, whose requests carry secrets.
			wrongSecret, wrongKey, unknownToken := tokend.NewSecret(tokend.KindClientSecret), tokend.NewSecret(tokend.KindManagementKey), tokend.NewSecret(tokend.KindAccessToken)
			wrongPassword := "wrong-password-that-must-not-be-logged"
			typoKey := testutil.Mistype(s.org)
			secrets.add(wrongSecret, wrongKey, unknownToken, wrongPassword, typoKey)
			access, refresh := s.password(t, "alice")
			secrets.add(access, refresh)
			form := func(path string, v url.Values, id, secret string) *http.Request { return s.form(path, v, id, secret) }
			wrong := []*http.Request{
				form("/oauth/%d/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {wrongPassword}}, s.conf.ClientID, s.confSecret),
				form("/oauth/%d/token", url.Values{"grant_type": {"client_credentials"}}, s.conf.ClientID, wrongSecret),
				form("/oauth/%d/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {unknownToken}}, s.conf.ClientID, s.confSecret),
				form("/oauth/%d/token", url.Values{"grant_type": {"authorization_code"}, "code": {tokend.NewSecret(tokend.KindAuthorizationCode)}, "redirect_uri": {"https://x/cb"}}, s.conf.ClientID, s.confSecret),
				form("/oauth/%d/token", url.Values{"grant_type": {"client_credentials"}, "scope": {s.confSecret}}, s.conf.ClientID, s.confSecret),
				form("/oauth/%d/introspect", url.Values{"token": {access}}, "", ""),
				form("/oauth/%d/revoke", url.Values{"token": {access}}, s.super.ClientID, s.superSecret), // another client's token
				s.call("GET", "/v1/services", typoKey, nil),
				s.call("GET", "/v1/services", wrongKey, nil),
				s.call("POST", "/v1/services/%d/tokens/lookup", s.org, map[string]any{"token": unknownToken}),
				s.call("POST", "/v1/services/%d/tokens/lookup", s.org, map[string]any{"token": access, "hash": "x"}),
				s.call("POST", "/v1/services/%d/tokens", s.org, map[string]any{"client": s.conf.ClientID, "grant_type": "AUTHORIZATION_CODE",
					"subject": "x", "access_token": access}), // a value already stored: 409
				s.call("POST", "/v1/services/%d/tokens", s.org, map[string]any{"client": s.conf.ClientID, "grant_type": s.confSecret}),
				s.call("POST", "/api/%d/auth/token/create", s.svcKey, map[string]any{"grantType": "AUTHORIZATION_CODE", "clientId": s.conf.ID,
					"subject": "x", "accessToken": refresh}),
				s.call("GET", "/v1/iam/oauth/tokens", unknownToken, nil),
				s.call("POST", "/v1/iam/oauth/tokens", "", map[string]any{"client_id": s.conf.ClientID, "client_secret": wrongSecret, "grant_type": "client_credentials"}),
			}
			kv := form("/api/v1.0/oauth2/token/list", url.Values{"super_client_id": {s.super.ClientID}, "super_client_secret": {s.superSecret}, "token_type": {"access_token"}}, "", "")
			kv.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:"+wrongPassword)))
			wrong = append(wrong, kv)
			for _, req := range wrong {
				if res, body := send(req); res.StatusCode < 400 {
					t.Fatalf("%s %s: %d %s, want it refused", req.Method, req.URL.Path, res.StatusCode, body)
				}
			}
			// A refresh token used twice, and a revoked token introspected.
			send(form("/oauth/%d/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, s.conf.ClientID, s.confSecret))
			send(form("/oauth/%d/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, s.conf.ClientID, s.confSecret))
			// Failures of the store, which the server logs with their cause.
			for _, p := range probes {
				req := p.prepare(t, s)
				s.faults.Set(faultstore.All)
				send(req)
				s.faults.Set(faultstore.OK)
			}

			if len(cacheable) > 0 {
				t.Errorf("answers carrying secrets without Cache-Control: no-store: %v", cacheable)
			}
			if len(secrets) < 20 {
				t.Fatalf("only %d secrets handled: the flows did not run", len(secrets))
			}
			logs := s.logs.String()
			if !strings.Contains(logs, `"level":"DEBUG"`) && !strings.Contains(logs, `"msg":"request"`) {
				t.Fatalf("nothing was logged:\n%s", logs)
			}
			if l := secrets.leaks(logs); len(l) > 0 {
				t.Errorf("the log shows %d secrets: %v", len(l), l)
			}
			if l := secrets.leaks(errorBodies.String()); len(l) > 0 {
				t.Errorf("error answers show %d secrets: %v", len(l), l)
				for _, line := range strings.Split(errorBodies.String(), "\n") {
					if len(secrets.leaks(line)) > 0 {
						t.Logf("in: %s", line)
					}
				}
			}
			stored := storeContents(t, s)
			if len(stored) < 1000 {
				t.Fatalf("read only %d bytes of the store", len(stored))
			}
			if l := secrets.leaks(stored); len(l) > 0 {
				t.Errorf("the store holds %d secrets in clear: %v", len(l), l)
			}
			t.Logf("%d secrets looked for in %d bytes of log, %d of error answers and %d of store", len(secrets), len(logs), errorBodies.Len(), len(stored))
		})
	}
}

// storeContents is everything the store holds: the SQLite files as they
// are on disk (database, WAL), or every PostgreSQL table as text.
func storeContents(t *testing.T, s *surfaces) string {
	t.Helper()
	if path, ok := strings.CutPrefix(s.storeURL, "sqlite:"); ok {
		var b strings.Builder
		files, _ := filepath.Glob(path + "*")
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(data)
		}
		return b.String()
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(strings.Join(vals, "\n"))
	}
	return b.String()
}
