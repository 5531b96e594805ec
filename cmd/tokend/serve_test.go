package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/tokend/tokend/internal/testutil"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func mapEnv(m map[string]string) env { return func(k string) string { return m[k] } }

// MustServe starts tokend on 127.0.0.1:0 with the given store file and
// environment, and stops it when the test ends.
func MustServe(tb testing.TB, dbPath string, vars map[string]string) (*server, *testutil.SyncBuffer) {
	tb.Helper()
	stderr := &testutil.SyncBuffer{}
	cfg, err := parseServeFlags("serve", []string{"--addr", "127.0.0.1:0", "--store", "sqlite:" + dbPath}, stderr, mapEnv(vars))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := startServer(context.Background(), cfg, stderr)
	if err != nil {
		tb.Fatalf("start: %v\n%s", err, stderr)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	})
	return s, stderr
}

// needTool finds a command the test drives; on CI a missing tool is a
// failure, not a skip.
func needTool(tb testing.TB, name string) {
	tb.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is required on CI: %v", name, err)
		}
		tb.Skipf("%s not installed", name)
	}
}

const testKey = "tokend-test-bootstrap-key-0123456789"

func TestWalkthroughScript(t *testing.T) {
	needTool(t, "curl")
	needTool(t, "jq")
	s, stderr := MustServe(t, filepath.Join(t.TempDir(), "w.db"), map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey})
	cmd := exec.Command("bash", "../../scripts/walkthrough.sh")
	cmd.Env = append(os.Environ(), "TOKEND_URL="+s.url, "KEY="+testKey)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "walkthrough: ok") {
		t.Fatalf("walkthrough failed: %v\n%s\nserver log:\n%s", err, out, stderr)
	}
	if strings.Contains(stderr.String(), testKey) {
		t.Fatal("the server logged the bootstrap key")
	}
}

func TestOAuthWalkthroughScript(t *testing.T) {
	for _, tool := range []string{"curl", "jq", "openssl"} {
		needTool(t, tool)
	}
	s, stderr := MustServe(t, filepath.Join(t.TempDir(), "o.db"), map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey})
	cmd := exec.Command("bash", "../../scripts/oauth-walkthrough.sh")
	cmd.Env = append(os.Environ(), "TOKEND_URL="+s.url, "KEY="+testKey)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "oauth-walkthrough: ok") {
		t.Fatalf("oauth walkthrough failed: %v\n%s\nserver log:\n%s", err, out, stderr)
	}
}

func TestBootstrapKeyPrintedOnceOnEmptyStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	s, stderr := MustServe(t, db, nil)
	m := regexp.MustCompile(`TOKEND_KEY=(tkk_\w+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no generated key on stderr:\n%s", stderr)
	}
	req, _ := http.NewRequest("GET", s.url+"/v1/services", nil)
	req.Header.Set("Authorization", "Bearer "+m[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the printed key got %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// A second start on the same store keeps the key and prints nothing.
	_, stderr2 := MustServe(t, db, map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey})
	if strings.Contains(stderr2.String(), "TOKEND_KEY=") || strings.Contains(stderr2.String(), "BOOTSTRAP") {
		t.Fatalf("second start announced a new key:\n%s", stderr2)
	}
}

func TestBootstrapKeyTooShort(t *testing.T) {
	var stderr bytes.Buffer
	cfg, err := parseServeFlags("serve", []string{"--addr", "127.0.0.1:0", "--store", "sqlite:" + filepath.Join(t.TempDir(), "s.db")}, &stderr, mapEnv(map[string]string{"TOKEND_BOOTSTRAP_KEY": "short"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := startServer(context.Background(), cfg, &stderr); err == nil || !strings.Contains(err.Error(), "TOKEND_BOOTSTRAP_KEY") {
		t.Fatalf("startServer = %v; want an error naming TOKEND_BOOTSTRAP_KEY", err)
	}
}

func TestServeFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		vars  map[string]string
		ok    bool
		addr  string
		cache int // TokenCache, checked when ok
	}{
		{"OKDefaults", nil, nil, true, "127.0.0.1:8080", 0},
		{"OKEnv", nil, map[string]string{"TOKEND_ADDR": "127.0.0.1:9999"}, true, "127.0.0.1:9999", 0},
		{"OKFlagBeatsEnv", []string{"--addr", "127.0.0.1:7"}, map[string]string{"TOKEND_ADDR": "127.0.0.1:9999"}, true, "127.0.0.1:7", 0},
		{"ErrLogLevel", []string{"--log-level", "loud"}, nil, false, "", 0},
		{"ErrLogFormat", []string{"--log-format", "xml"}, nil, false, "", 0},
		{"ErrExtraArg", []string{"now"}, nil, false, "", 0},
		{"ErrUnknownFlag", []string{"--port", "1"}, nil, false, "", 0},
		{"OKTokenCache", []string{"--token-cache", "64000"}, nil, true, "127.0.0.1:8080", 64000},
		{"OKTokenCacheEnv", nil, map[string]string{"TOKEND_TOKEN_CACHE": "500"}, true, "127.0.0.1:8080", 500},
		{"OKTokenCacheOff", []string{"--token-cache", "0"}, nil, true, "127.0.0.1:8080", -1},
		{"ErrTokenCacheWord", []string{"--token-cache", "big"}, nil, false, "", 0},
		{"ErrTokenCacheNegative", []string{"--token-cache", "-5"}, nil, false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServeFlags("serve", tt.args, &bytes.Buffer{}, mapEnv(tt.vars))
			if (err == nil) != tt.ok {
				t.Fatalf("parseServeFlags = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && cfg.Addr != tt.addr {
				t.Fatalf("Addr = %q, want %q", cfg.Addr, tt.addr)
			}
			if tt.ok && cfg.TokenCache != tt.cache {
				t.Fatalf("TokenCache = %d, want %d", cfg.TokenCache, tt.cache)
			}
		})
	}
}

func TestDebugListener(t *testing.T) {
	s, stderr := MustServe(t, filepath.Join(t.TempDir(), "d.db"), map[string]string{"TOKEND_DEBUG_ADDR": "127.0.0.1:0"})
	m := regexp.MustCompile(`profiler listening" url=(\S+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no profiler address logged:\n%s", stderr)
	}
	resp, err := http.Get(m[1] + "goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("profiler answered %d", resp.StatusCode)
	}
	// The API listener does not expose it.
	resp, err = http.Get(s.url + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("the API listener served the profiler: %d", resp.StatusCode)
	}
}

func TestOpenStoreErrors(t *testing.T) {
	// Port 1 on loopback: nothing listens, so the connection is refused at
	// once (and no name is looked up).
	for _, url := range []string{"sqlite:", "mysql://x", "postgres://u:secret@127.0.0.1:1/db?connect_timeout=5", "postgres://u:secret@127.0.0.1:x/db", "tokend.db"} {
		_, err := openStore(context.Background(), url)
		if err == nil {
			t.Errorf("openStore(%q) succeeded", url)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("openStore(%q) error shows the password: %v", url, err)
		}
	}
}

func TestMigrateCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"migrate", "--store", "sqlite:" + db}, nil, &stdout, &stderr, mapEnv(nil))
	if code != 0 || !strings.Contains(stdout.String(), "schema version") {
		t.Fatalf("migrate exit %d\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("migrate did not create the store: %v", err)
	}
}

func TestServeStopsGracefully(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &testutil.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--store", "sqlite:" + filepath.Join(t.TempDir(), "g.db")}, nil, &bytes.Buffer{}, stderr, mapEnv(map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey}))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "tokend listening") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context was cancelled")
	}
}

func TestCLIAgainstRealServer(t *testing.T) {
	s, _ := MustServe(t, filepath.Join(t.TempDir(), "c.db"), map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey})
	vars := map[string]string{"TOKEND_URL": s.url, "TOKEND_KEY": testKey}
	cli := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, mapEnv(vars))
		return stdout.String(), stderr.String(), code
	}
	jsonOut := func(args ...string) map[string]any {
		t.Helper()
		out, errOut, code := cli("", append(args, "--json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%v: not JSON: %v\n%s", args, err, out)
		}
		return m
	}
	svc := jsonOut("services", "create", "--name", "cli", "--scopes", "read,write")
	sid := jsonNumber(svc["id"])
	cl := jsonOut("clients", "create", "--service", sid, "--name", "app", "--scopes", "read")
	cid := cl["client_id"].(string)
	tok := jsonOut("tokens", "create", "--service", sid, "--client", cid, "--grant-type", "AUTHORIZATION_CODE", "--subject", "john", "--scopes", "read")
	access := tok["access_token"].(string)

	out, errOut, code := cli("", "tokens", "list", "--service", sid, "--subject", "john")
	if code != 0 || !strings.Contains(out, "john") || strings.Contains(out, access) {
		t.Fatalf("tokens list: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = cli(access+"\n", "tokens", "lookup", "--service", sid, "--token-stdin", "--json")
	if code != 0 || !strings.Contains(out, `"subject": "john"`) && !strings.Contains(out, `"subject":"john"`) {
		t.Fatalf("tokens lookup: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = cli("", "tokens", "revoke", "--service", sid, "--subject", "john")
	if code != 0 || !strings.Contains(out, "1") {
		t.Fatalf("tokens revoke: exit %d\n%s\n%s", code, out, errOut)
	}
	_, errOut, code = cli("", "tokens", "create", "--service", sid, "--client", cid, "--grant-type", "MAGIC", "--subject", "x")
	if code != 1 || !strings.Contains(errOut, "grant_type") {
		t.Fatalf("bad grant type: exit %d, stderr %q; want 1 naming grant_type", code, errOut)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
