package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/pgtest"
	_ "github.com/tokend/tokend/sqlite" // the driver, for the integrity check
)

// crashStores are the stores the crash test runs tokend on: each returns
// the --store URL of a fresh, empty store. PostgreSQL needs a server
// (TOKEND_TEST_POSTGRES, which scripts/test.sh sets); without one its
// subtest is skipped, or fails on CI.
var crashStores = []struct {
	name string
	url  func(t *testing.T, dir string) string
	// integrity checks the store's own consistency once tokend is gone.
	integrity func(t *testing.T, storeURL string)
}{
	{"SQLite", func(t *testing.T, dir string) string { return "sqlite:" + filepath.Join(dir, "crash.db") }, sqliteIntegrity},
	// PostgreSQL keeps its own consistency (tokend, not the server, is
	// killed); what tokend promises is checked like SQLite's.
	{"PostgreSQL", func(t *testing.T, dir string) string { return pgtest.NewDatabase(t) }, func(*testing.T, string) {}},
}

// Bounds: every crash test run is a fixed number of kills of short runs.
const (
	crashKills   = 4
	crashWorkers = 6
	crashMinRun  = 150 * time.Millisecond
	crashMaxRun  = 600 * time.Millisecond
)

// TestCrashSafety runs tokend under a mixed load (issuance by the
// management API and by client credentials, refresh rotation, revocation,
// introspection), kills it with SIGKILL at random moments, restarts it on
// the same store each time, and checks what every client was told:
//
//   - every token whose issuance response arrived introspects as issued
//     (active, same client, subject and scope) unless it was since revoked
//     or replaced by an acknowledged refresh;
//   - every acknowledged revocation holds, and so does every replacement:
//     a refresh token that rotation replaced, and its access token, are
//     inactive;
//   - every refresh family has exactly one usable refresh token: the last
//     one its client received; a request cut off by the kill is settled
//     after the restart by presenting the same value again, which either
//     completes it or, if the cut-off rotation had committed, is reuse
//     and revokes the whole family (checked too).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tokend and kills it several times: not in -short")
	}
	bin := buildTokend(t)
	for _, st := range crashStores {
		t.Run(st.name, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, seed>>1))
			dir := t.TempDir()
			storeURL := st.url(t, dir)
			c := &crashClient{http: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: crashWorkers * 2}}}
			// At debug level: the secrets check below reads everything.
			srv := launchTokend(t, bin, dir, storeURL, "--log-level", "debug")
			logs := []*lockedBuffer{srv.stderr}
			c.url = srv.url
			c.setup(t)
			var families []*family
			for kill := 0; kill <= crashKills; kill++ {
				if kill > 0 {
					srv = launchTokend(t, bin, dir, storeURL, "--log-level", "debug")
					logs = append(logs, srv.stderr)
					c.url = srv.url
					c.settle(t, families)
					c.verify(t, families)
				}
				if kill == crashKills {
					srv.stop(t)
					break
				}
				run := crashMinRun + time.Duration(rng.Int64N(int64(crashMaxRun-crashMinRun)))
				families = append(families, c.load(t, srv, rng.Uint64(), run)...)
				if t.Failed() {
					t.Fatalf("tokend log:\n%s", srv.stderr)
				}
			}
			st.integrity(t, storeURL)
			// No value a client was given shows in any run's log.
			secrets := []string{bootstrapKey, c.secret}
			for _, f := range families {
				secrets = append(append(secrets, f.access, f.refresh), f.replaced...)
			}
			for i, l := range logs {
				log := l.String()
				for _, v := range secrets {
					if v != "" && strings.Contains(log, v) {
						t.Fatalf("run %d's log shows a secret (%.8s…)", i, v)
					}
				}
			}
			counts := map[string]int{}
			for _, f := range families {
				counts[f.kind]++
				counts["refreshed"] += len(f.replaced) / 2
				if f.revoked {
					counts["revoked"]++
				}
				if f.reuse {
					counts["reuse"]++
				}
				counts["settled"] += f.settled
			}
			t.Logf("%d kills; families %v", crashKills, counts)
			if counts["refreshed"] == 0 || counts["revoked"] == 0 || counts["cc"] == 0 {
				t.Fatalf("the load did too little to prove anything: %v", counts)
			}
		})
	}
}

// family is one grant as its client knows it: the values it was given,
// the ones acknowledged refreshes replaced, whether it was revoked.
type family struct {
	kind     string // "refresh" (minted with a refresh token) or "cc" (client credentials)
	subject  string
	access   string
	refresh  string
	replaced []string // values replaced by acknowledged refreshes
	revoked  bool
	reuse    bool   // settled as reuse: the whole grant is revoked
	pending  string // the operation a kill cut off: "refresh" or "revoke"
	settled  int
}

type crashClient struct {
	http             *http.Client
	url              string
	sid              int64
	clientID, secret string
	mu               sync.Mutex
	failures         []string
}

func (c *crashClient) fail(format string, args ...any) {
	c.mu.Lock()
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// do sends a request; err is a transport error (the server died).
func (c *crashClient) do(ctx context.Context, method, path string, body io.Reader, header map[string]string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, body)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

func (c *crashClient) api(ctx context.Context, method, path string, in any) (int, []byte, error) {
	b, _ := json.Marshal(in)
	return c.do(ctx, method, path, bytes.NewReader(b), map[string]string{"Authorization": "Bearer " + bootstrapKey, "Content-Type": "application/json"})
}

func (c *crashClient) form(ctx context.Context, endpoint string, v url.Values) (int, []byte, error) {
	req := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	v.Set("client_id", c.clientID)
	v.Set("client_secret", c.secret)
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/oauth/%d/%s", c.sid, endpoint), strings.NewReader(v.Encode()), req)
}

func (c *crashClient) setup(t *testing.T) {
	ctx := context.Background()
	status, body, err := c.api(ctx, "POST", "/v1/services", map[string]any{"name": "crash", "scopes_supported": []string{"read", "write"},
		"grant_types_supported": []string{"AUTHORIZATION_CODE", "CLIENT_CREDENTIALS", "REFRESH_TOKEN"}})
	var svc struct {
		ID int64 `json:"id"`
	}
	if err != nil || status != 201 || json.Unmarshal(body, &svc) != nil {
		t.Fatalf("create service: %d %s %v", status, body, err)
	}
	c.sid = svc.ID
	status, body, err = c.api(ctx, "POST", fmt.Sprintf("/v1/services/%d/clients", c.sid), map[string]any{"name": "app", "scopes": []string{"read", "write"}})
	var cl struct {
		ClientID string `json:"client_id"`
		Secret   string `json:"client_secret"`
	}
	if err != nil || status != 201 || json.Unmarshal(body, &cl) != nil {
		t.Fatalf("create client: %d %s %v", status, body, err)
	}
	c.clientID, c.secret = cl.ClientID, cl.Secret
}

type tokenBody struct {
	Error   string `json:"error"`
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

// load runs the workers for d, then kills the server under them. It
// returns the families the workers made.
func (c *crashClient) load(t *testing.T, srv *tokendServer, seed uint64, d time.Duration) []*family {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	out := make([][]*family, crashWorkers)
	for w := range crashWorkers {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Go(func() { out[w] = c.worker(ctx, w, rng) })
	}
	time.Sleep(d)
	srv.kill(t) // in the middle of whatever the workers are doing
	cancel()
	wg.Wait()
	c.mu.Lock()
	for _, f := range c.failures {
		t.Error(f)
	}
	c.failures = nil
	c.mu.Unlock()
	var all []*family
	for _, fs := range out {
		all = append(all, fs...)
	}
	return all
}

// worker does random operations on families of its own until a request
// fails at the transport (the server is dead) or ctx ends.
func (c *crashClient) worker(ctx context.Context, w int, rng *rand.Rand) []*family {
	var mine []*family
	for ctx.Err() == nil {
		var live []*family
		for _, f := range mine {
			if !f.revoked && f.pending == "" {
				live = append(live, f)
			}
		}
		op := rng.IntN(10)
		if len(live) == 0 || op < 3 {
			f, ok := c.issue(ctx, w, len(mine), rng)
			if !ok {
				return mine
			}
			if f != nil {
				mine = append(mine, f)
			}
			continue
		}
		f := live[rng.IntN(len(live))]
		switch {
		case op < 6 && f.kind == "refresh":
			if !c.refreshOnce(ctx, f) {
				return mine
			}
		case op < 7:
			if !c.revokeOnce(ctx, f) {
				return mine
			}
		default:
			status, body, err := c.form(ctx, "introspect", url.Values{"token": {f.access}})
			if err != nil {
				return mine
			}
			if a := active(status, body); !a {
				c.fail("worker %d: %s token of %s inactive during the load: %d %s", w, f.kind, f.subject, status, body)
			}
		}
	}
	return mine
}

// issue makes a family: minted with a refresh token by the management API,
// or by client credentials. ok is false when the server is gone; a lost
// response leaves no family (its values never reached the client).
func (c *crashClient) issue(ctx context.Context, w, n int, rng *rand.Rand) (*family, bool) {
	subject := fmt.Sprintf("w%d-%d", w, n)
	if rng.IntN(3) == 0 {
		status, body, err := c.form(ctx, "token", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
		if err != nil {
			return nil, false
		}
		var tb tokenBody
		if status != 200 || json.Unmarshal(body, &tb) != nil {
			c.fail("client credentials: %d %s", status, body)
			return nil, true
		}
		return &family{kind: "cc", access: tb.Access}, true
	}
	status, body, err := c.api(ctx, "POST", fmt.Sprintf("/v1/services/%d/tokens", c.sid), map[string]any{
		"client": c.clientID, "grant_type": "AUTHORIZATION_CODE", "subject": subject, "scopes": []string{"read", "write"}})
	if err != nil {
		return nil, false
	}
	var tb tokenBody
	if status != 201 || json.Unmarshal(body, &tb) != nil || tb.Refresh == "" {
		c.fail("mint: %d %s", status, body)
		return nil, true
	}
	return &family{kind: "refresh", subject: subject, access: tb.Access, refresh: tb.Refresh}, true
}

// refreshOnce rotates f's refresh token; false when the server is gone.
func (c *crashClient) refreshOnce(ctx context.Context, f *family) bool {
	status, body, err := c.form(ctx, "token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.refresh}})
	if err != nil {
		f.pending = "refresh"
		return false
	}
	var tb tokenBody
	if status != 200 || json.Unmarshal(body, &tb) != nil {
		c.fail("refresh of %s: %d %s", f.subject, status, body)
		f.pending = "broken"
		return true
	}
	f.replaced = append(f.replaced, f.access, f.refresh)
	f.access, f.refresh = tb.Access, tb.Refresh
	return true
}

// revokeOnce revokes f by its access token (RFC 7009); false when the
// server is gone.
func (c *crashClient) revokeOnce(ctx context.Context, f *family) bool {
	status, body, err := c.form(ctx, "revoke", url.Values{"token": {f.access}})
	if err != nil {
		f.pending = "revoke"
		return false
	}
	if status != 200 {
		c.fail("revoke of %s: %d %s", f.subject, status, body)
		f.pending = "broken"
		return true
	}
	f.revoked = true
	return true
}

func active(status int, body []byte) bool {
	var in struct {
		Active bool `json:"active"`
	}
	return status == 200 && json.Unmarshal(body, &in) == nil && in.Active
}

// settle finishes what the kill cut off, as a client would on retrying:
// a revocation is sent again; a refresh is presented again, which either
// completes it or, if it had committed, is reuse.
func (c *crashClient) settle(t *testing.T, families []*family) {
	ctx := context.Background()
	for _, f := range families {
		switch f.pending {
		case "revoke":
			f.pending = ""
			if !c.revokeOnce(ctx, f) {
				t.Fatal("the server died while settling")
			}
		case "refresh":
			f.settled++
			status, body, err := c.form(ctx, "token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.refresh}})
			if err != nil {
				t.Fatalf("settling a refresh: %v", err)
			}
			var tb tokenBody
			_ = json.Unmarshal(body, &tb)
			switch {
			case status == 200:
				f.replaced = append(f.replaced, f.access, f.refresh)
				f.access, f.refresh = tb.Access, tb.Refresh
			case status == 400 && tb.Error == "invalid_grant":
				// The cut-off rotation had committed: this was reuse.
				f.revoked, f.reuse = true, true
			default:
				t.Fatalf("settling a refresh of %s: %d %s", f.subject, status, body)
			}
			f.pending = ""
		}
	}
	c.mu.Lock()
	for _, msg := range c.failures {
		t.Error(msg)
	}
	c.failures = nil
	c.mu.Unlock()
}

// verify checks every family against what its client was told.
func (c *crashClient) verify(t *testing.T, families []*family) {
	t.Helper()
	ctx := context.Background()
	introspect := func(v string) (bool, map[string]any) {
		status, body, err := c.form(ctx, "introspect", url.Values{"token": {v}})
		if err != nil || status != 200 {
			t.Fatalf("introspect: %d %s %v", status, body, err)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		a, _ := m["active"].(bool)
		return a, m
	}
	for i, f := range families {
		if f.pending == "broken" {
			continue // already reported
		}
		a, m := introspect(f.access)
		if a == f.revoked {
			t.Fatalf("family %d (%s %s, revoked %v, reuse %v, refreshed %d times): access token active=%v",
				i, f.kind, f.subject, f.revoked, f.reuse, len(f.replaced)/2, a)
		}
		if a {
			wantScope := "read"
			if f.kind == "refresh" {
				wantScope = "read write"
			}
			if m["client_id"] != c.clientID || m["scope"] != wantScope || (f.subject != "" && m["sub"] != f.subject) {
				t.Fatalf("family %d: introspection %v, want client %s, scope %q, subject %q", i, m, c.clientID, wantScope, f.subject)
			}
		}
		if f.kind == "refresh" {
			if a, _ := introspect(f.refresh); a == f.revoked {
				t.Fatalf("family %d (%s, revoked %v): its refresh token active=%v; the family must have exactly one usable", i, f.subject, f.revoked, a)
			}
		}
		for j, v := range f.replaced {
			if a, _ := introspect(v); a {
				t.Fatalf("family %d (%s): value %d replaced by an acknowledged refresh is active again", i, f.subject, j)
			}
		}
	}
}

// sqliteIntegrity runs SQLite's integrity check on the store tokend left.
func sqliteIntegrity(t *testing.T, storeURL string) {
	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(storeURL, "sqlite:")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check after the kills: %q %v", res, err)
	}
}
