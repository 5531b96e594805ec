package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/sqlite"
)

func TestJanitorFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want janitorConfig // checked when ok
		ok   bool
	}{
		{"OKDefaults", nil, nil, janitorConfig{Every: time.Hour, Retention: 7 * 24 * time.Hour, Batch: tokend.DefaultJanitorBatch}, true},
		{"OKFlags", []string{"--janitor-every", "30m", "--janitor-retention", "36h", "--janitor-batch", "100"}, nil,
			janitorConfig{Every: 30 * time.Minute, Retention: 36 * time.Hour, Batch: 100}, true},
		{"OKEnv", nil, map[string]string{"TOKEND_JANITOR_EVERY": "0", "TOKEND_JANITOR_RETENTION": "30d"},
			janitorConfig{Retention: 30 * 24 * time.Hour, Batch: tokend.DefaultJanitorBatch}, true},
		{"OKNoRetention", []string{"--janitor-retention", "0"}, nil, janitorConfig{Every: time.Hour, Batch: tokend.DefaultJanitorBatch}, true},
		{"ErrEveryWord", []string{"--janitor-every", "often"}, nil, janitorConfig{}, false},
		{"ErrEveryTooShort", []string{"--janitor-every", "10ms"}, nil, janitorConfig{}, false},
		{"ErrEveryNegative", []string{"--janitor-every", "-1h"}, nil, janitorConfig{}, false},
		{"ErrRetentionNegative", []string{"--janitor-retention", "-1h"}, nil, janitorConfig{}, false},
		{"ErrRetentionDays", []string{"--janitor-retention", "1.5d"}, nil, janitorConfig{}, false},
		{"ErrBatchZero", []string{"--janitor-batch", "0"}, nil, janitorConfig{}, false},
		{"ErrBatchHuge", []string{"--janitor-batch", "1000001"}, nil, janitorConfig{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cfg, err := parseServeFlags("serve", tt.args, &stderr, mapEnv(tt.vars))
			if (err == nil) != tt.ok {
				t.Fatalf("parseServeFlags = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				if !strings.Contains(err.Error(), "--janitor-") {
					t.Fatalf("error %q does not name the flag", err)
				}
				return
			}
			if cfg.Janitor != tt.want {
				t.Fatalf("Janitor = %+v, want %+v", cfg.Janitor, tt.want)
			}
		})
	}
}

// seedDead stores a service with one live and two dead tokens (expired and
// revoked long ago) in a new SQLite file and returns its path.
func seedDead(t *testing.T) (path string, live int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "j.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	long := now.Add(-30 * 24 * time.Hour)
	if err := s.CreateService(ctx, &tokend.Service{ID: 7, Name: "s", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	toks := []*tokend.Token{
		{AccessExpiresAt: now.Add(time.Hour)},
		{AccessExpiresAt: long},
		{AccessExpiresAt: now.Add(time.Hour), RevokedAt: long, RevokedReason: "r"},
	}
	for i, tok := range toks {
		tok.ServiceID, tok.ClientID, tok.GrantType, tok.CreatedAt = 7, 1, tokend.GrantClientCredentials, long.Add(-time.Hour)
		tok.AccessHash, tok.Scopes = tokend.HashSecret("token-"+strings.Repeat("x", i+1)), []string{}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	return path, toks[0].ID
}

func TestJanitorCommand(t *testing.T) {
	path, live := seedDead(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"janitor", "--store", "sqlite:" + path, "--janitor-batch", "1"}, nil, &stdout, &stderr, mapEnv(nil))
	if code != 0 || !strings.Contains(stdout.String(), "removed 2 tokens and 0 authorization codes") || !strings.Contains(stdout.String(), "in 4 batches") {
		t.Fatalf("janitor: exit %d\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
	}
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetToken(context.Background(), live); err != nil {
		t.Fatalf("the live token: %v", err)
	}
	n, err := s.CountRecords(context.Background())
	if err != nil || n.Tokens != 1 {
		t.Fatalf("%+v tokens left, %v; want the live one", n, err)
	}
}

func TestJanitorCommandRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--janitor-retention", "soon"}, {"--janitor-every", "1h"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"janitor"}, args...), nil, &stdout, &stderr, mapEnv(nil)); code != 2 {
			t.Errorf("janitor %v: exit %d, want 2\n%s", args, code, &stderr)
		}
	}
}

func TestServeRunsTheJanitor(t *testing.T) {
	path, _ := seedDead(t)
	s, stderr := MustServe(t, path, map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey, "TOKEND_JANITOR_EVERY": "1s"})
	// The first sweep runs a second after the start; a bound on the wait.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "janitor: removed dead tokens") {
		if time.Now().After(deadline) {
			t.Fatalf("the janitor did not report:\n%s", stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "tokens=2") {
		t.Fatalf("the janitor removed something else than the 2 dead tokens:\n%s", stderr)
	}
	// Its progress is in the metrics too.
	_, body := httpGet(t, s.url+"/metrics")
	if !strings.Contains(body, `tokend_janitor_deleted_total{kind="tokens"} 2`) ||
		!regexp.MustCompile(`tokend_janitor_sweeps_total\{result="ok"\} [1-9]`).MatchString(body) ||
		!regexp.MustCompile(`tokend_janitor_last_success_timestamp_seconds [1-9]`).MatchString(body) {
		t.Fatalf("janitor metrics:\n%s", grepLines(body, "tokend_janitor"))
	}
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestRedactStoreURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://tokend:s3cret@db:5432/tokend":                    "postgres://tokend:xxxxx@db:5432/tokend",
		"postgres://tokend@db/tokend?password=s3cret&sslmode=verify": "postgres://tokend@db/tokend?password=xxxxx&sslmode=verify",
		"postgresql://db/tokend?sslmode=disable&password=s3cret":     "postgresql://db/tokend?sslmode=disable&password=xxxxx",
		"sqlite:/var/lib/tokend/tokend.db":                           "sqlite:/var/lib/tokend/tokend.db",
	} {
		if got := redactStoreURL(in); got != want {
			t.Errorf("redactStoreURL(%q) = %q, want %q", in, got, want)
		}
	}
}
