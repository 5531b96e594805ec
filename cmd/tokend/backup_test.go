package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/sqlite"
)

// TestBackupWhileServing copies a SQLite store with tokend backup while
// the server mints tokens into it, restores the copy and serves it: every
// token minted before the backup began is there and works, the copy is one
// snapshot (each token with its audit entry, no entry without its token),
// and what was minted after the backup ended is not in it.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	s, _ := MustServe(t, live, map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey})
	ctx := context.Background()
	org, err := s.core.AuthenticateKey(ctx, testKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := s.core.CreateService(ctx, org, tokend.ServiceInput{Name: ptr("backed-up"), ScopesSupported: &[]string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	cl, _, err := s.core.CreateClient(ctx, org, svc.ID, tokend.ClientInput{Name: ptr("app")})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(c *http.Client, url, subject string) (string, error) {
		body, _ := json.Marshal(map[string]any{"client": cl.ClientID, "grant_type": "AUTHORIZATION_CODE", "subject": subject, "scopes": []string{"read"}})
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/services/%d/tokens", url, svc.ID), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		res, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		var tok struct {
			Access string `json:"access_token"`
		}
		if res.StatusCode != 201 || json.NewDecoder(res.Body).Decode(&tok) != nil {
			return "", fmt.Errorf("mint: %d", res.StatusCode)
		}
		return tok.Access, nil
	}

	// Writers mint until told to stop; acked holds what they were given.
	var (
		mu    sync.Mutex
		acked []string
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		errs  = make(chan error, 4)
	)
	c := raceClient(t, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v, err := mint(c, s.url, fmt.Sprintf("w%d-%d", w, i))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				acked = append(acked, v)
				mu.Unlock()
			}
		})
	}
	// Let some tokens in, then back up in the middle of the writes.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 50 {
			break
		}
		select {
		case err := <-errs:
			t.Fatal(err)
		case <-time.After(time.Millisecond):
		}
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	copyPath := filepath.Join(dir, "copy.db")
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"backup", "--store", "sqlite:" + live, "--out", copyPath}, nil, &stdout, &stderr, mapEnv(nil)); code != 0 {
		t.Fatalf("backup: exit %d: %s", code, &stderr)
	}
	after, err := mint(c, s.url, "after-the-backup")
	if err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if !strings.Contains(stdout.String(), "a consistent copy") {
		t.Fatalf("backup said %q", &stdout)
	}

	// The copy is one snapshot: a token and its audit entry, both or neither.
	store, err := sqlite.Open(ctx, copyPath)
	if err != nil {
		t.Fatal(err)
	}
	page, err := store.ListTokens(ctx, tokend.TokenFilter{ServiceID: svc.ID, Status: tokend.StatusAll, OrderBy: tokend.OrderCreatedAt, Limit: tokend.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := store.ListAudit(ctx, tokend.AuditFilter{ServiceID: &svc.ID, Action: tokend.AuditTokenCreate, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	inCopy := map[string]bool{}
	for _, tk := range page.Tokens {
		inCopy[strconv.FormatInt(tk.ID, 10)] = true
	}
	if len(audit.Entries) != len(page.Tokens) {
		t.Fatalf("the copy holds %d tokens and %d token.create entries: not one snapshot", len(page.Tokens), len(audit.Entries))
	}
	for _, e := range audit.Entries {
		if !inCopy[e.TargetID] {
			t.Fatalf("an audit entry names token %s, which the copy lacks", e.TargetID)
		}
	}

	// Restored and served, it has the same tokens.
	restored, _ := MustServe(t, copyPath, map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey})
	lookup := func(v string) int {
		body, _ := json.Marshal(map[string]string{"token": v})
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/services/%d/tokens/lookup", restored.url, svc.ID), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for i, v := range before {
		if code := lookup(v); code != http.StatusOK {
			t.Fatalf("token %d, minted before the backup, is not in the restored store: %d", i, code)
		}
	}
	if code := lookup(after); code != http.StatusNotFound {
		t.Fatalf("a token minted after the backup is in it: %d", code)
	}
	t.Logf("%d tokens acknowledged before the backup, %d in the copy", len(before), len(page.Tokens))
}

func TestBackupRefusals(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "b.db")
	store, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	existing := filepath.Join(dir, "exists.db")
	os.WriteFile(existing, []byte("x"), 0o600)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"ErrOutExists", []string{"--store", "sqlite:" + db, "--out", existing}, 1, "already exists"},
		{"ErrNoOut", []string{"--store", "sqlite:" + db}, 2, "--out"},
		{"ErrPostgres", []string{"--store", "postgres://u:secretpw@h/db", "--out", filepath.Join(dir, "x")}, 2, "pg_dump"},
		{"ErrNoStore", []string{"--store", "sqlite:" + filepath.Join(dir, "missing.db"), "--out", filepath.Join(dir, "y")}, 1, "missing.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"backup"}, tt.args...), nil, &stdout, &stderr, mapEnv(nil))
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) || strings.Contains(stderr.String(), "secretpw") {
				t.Fatalf("exit %d, stderr %q; want %d mentioning %q", code, &stderr, tt.code, tt.want)
			}
		})
	}
	if data, _ := os.ReadFile(existing); string(data) != "x" {
		t.Fatal("a refused backup changed the existing file")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*partial*")); len(m) > 0 {
		t.Fatalf("a refused backup left %v", m)
	}
}
