package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/pgtest"
	"github.com/tokend/tokend/internal/testutil"
)

// node is a "tokend serve" process of its own: this test binary, which
// TestMain turns into the tokend command (see bench_test.go).
type node struct {
	url    string
	cmd    *exec.Cmd
	stderr *testutil.SyncBuffer
}

var listeningRE = regexp.MustCompile(`msg="tokend listening" url=(\S+)`)

// startNode starts a server on store and stops it when the test ends.
func startNode(tb testing.TB, store string, args ...string) *node {
	tb.Helper()
	n, err := launchNode(tb, store, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// launchNode is startNode for any goroutine: it reports instead of failing.
func launchNode(tb testing.TB, store string, args ...string) (*node, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	n := &node{stderr: &testutil.SyncBuffer{}}
	n.cmd = exec.Command(exe, append([]string{"serve", "--addr", "127.0.0.1:0", "--store", store}, args...)...)
	n.cmd.Env = append(os.Environ(), "TOKEND_BOOTSTRAP_KEY="+testKey)
	n.cmd.Stderr = n.stderr
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- n.cmd.Wait() }()
	tb.Cleanup(func() {
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			n.cmd.Process.Kill()
			<-exited
			tb.Errorf("a node did not stop on SIGTERM:\n%s", n.stderr)
		}
	})
	// A bound on the wait, not a measurement: a node that never comes up
	// fails the test instead of hanging it.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(n.stderr.String()); m != nil {
			n.url = m[1]
			return n, nil
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			return nil, fmt.Errorf("the node exited (%v):\n%s", err, n.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the node did not start:\n%s", n.stderr)
		}
	}
}

// api calls the management API with the bootstrap key.
func (n *node) api(tb testing.TB, method, path string, body any) (int, map[string]any) {
	tb.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.url+path, r)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	return do(tb, req)
}

// oauth posts a form to one of a service's OAuth endpoints as a client.
func (n *node) oauth(tb testing.TB, sid, endpoint, clientID, secret string, form url.Values) (int, map[string]any) {
	tb.Helper()
	req, _ := http.NewRequest("POST", n.url+"/oauth/"+sid+"/"+endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	return do(tb, req)
}

func do(tb testing.TB, req *http.Request) (int, map[string]any) {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 && json.Unmarshal(b, &m) != nil {
		tb.Fatalf("%s %s: %d, not JSON: %s", req.Method, req.URL, resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// mustAPI is api that fails the test unless the status is want.
func (n *node) mustAPI(tb testing.TB, want int, method, path string, body any) map[string]any {
	tb.Helper()
	code, m := n.api(tb, method, path, body)
	if code != want {
		tb.Fatalf("%s %s: %d %v, want %d", method, path, code, m, want)
	}
	return m
}

// TestNodesShareOneDatabase runs two tokend processes on one PostgreSQL
// database: what one issues the other introspects, what one revokes the
// other refuses on its very next request though it had the token (or the
// client) in memory, and concurrent refreshes spread over both have one
// winner.
func TestNodesShareOneDatabase(t *testing.T) {
	db := pgtest.NewDatabase(t)
	a := startNode(t, db)
	b := startNode(t, db)

	svc := a.mustAPI(t, 201, "POST", "/v1/services", map[string]any{"name": "nodes", "scopes_supported": []string{"read"}})
	sid := jsonNumber(svc["id"])
	newClient := func(name string) (string, string) {
		c := a.mustAPI(t, 201, "POST", "/v1/services/"+sid+"/clients", map[string]any{"name": name})
		return c["client_id"].(string), c["client_secret"].(string)
	}
	cid, secret := newClient("app")
	issue := func(subject string) (id, access, refresh string) {
		m := a.mustAPI(t, 201, "POST", "/v1/services/"+sid+"/tokens", map[string]any{
			"client": cid, "grant_type": "AUTHORIZATION_CODE", "subject": subject, "scopes": []string{"read"}})
		return jsonNumber(m["id"]), m["access_token"].(string), m["refresh_token"].(string)
	}
	active := func(n *node, token string) bool {
		t.Helper()
		code, m := n.oauth(t, sid, "introspect", cid, secret, url.Values{"token": {token}})
		if code != 200 {
			t.Fatalf("introspect: %d %v", code, m)
		}
		return m["active"] == true
	}

	t.Run("IssuedOnAIntrospectsOnB", func(t *testing.T) {
		_, access, _ := issue("alice")
		if !active(b, access) || !active(b, access) { // the second answer from B's cache
			t.Fatal("B does not know the token A issued")
		}
	})
	t.Run("RevokedOnAIsInactiveOnBAtOnce", func(t *testing.T) {
		_, access, _ := issue("bob")
		if !active(b, access) {
			t.Fatal("B does not know the token A issued")
		}
		if code, m := a.oauth(t, sid, "revoke", cid, secret, url.Values{"token": {access}}); code != 200 {
			t.Fatalf("revoke on A: %d %v", code, m)
		}
		if active(b, access) {
			t.Fatal("B still answers active for the token A revoked")
		}
	})
	t.Run("SubjectRevokedOnAIsInactiveOnB", func(t *testing.T) {
		_, access, _ := issue("carol")
		if !active(b, access) {
			t.Fatal("B does not know the token A issued")
		}
		a.mustAPI(t, 200, "POST", "/v1/services/"+sid+"/tokens/revoke", map[string]any{"subject": "carol"})
		if active(b, access) {
			t.Fatal("B still answers active for a token of the subject A revoked")
		}
	})
	t.Run("ClientDeletedOnAIsRefusedByB", func(t *testing.T) {
		gone, goneSecret := newClient("gone")
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
		if code, m := b.oauth(t, sid, "token", gone, goneSecret, form); code != 200 {
			t.Fatalf("client_credentials on B: %d %v", code, m)
		}
		a.mustAPI(t, 204, "DELETE", "/v1/services/"+sid+"/clients/"+gone, nil)
		if code, m := b.oauth(t, sid, "token", gone, goneSecret, form); code != 401 || m["error"] != "invalid_client" {
			t.Fatalf("client_credentials on B after A deleted the client: %d %v, want 401 invalid_client", code, m)
		}
	})
	t.Run("RefreshRaceAcrossNodesHasOneWinner", func(t *testing.T) {
		id, _, refresh := issue("dave")
		const n = 16
		var (
			wg     sync.WaitGroup
			start  = make(chan struct{})
			codes  = make([]int, n)
			bodies = make([]map[string]any, n)
		)
		for i := range n {
			node := a
			if i%2 == 1 {
				node = b
			}
			wg.Go(func() {
				<-start
				codes[i], bodies[i] = node.oauth(t, sid, "token", cid, secret,
					url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, code := range codes {
			switch {
			case code == 200 && winner >= 0:
				t.Fatalf("requests %d and %d both refreshed", winner, i)
			case code == 200:
				winner = i
			case code != 400 || bodies[i]["error"] != "invalid_grant":
				t.Fatalf("request %d: %d %v, want 200 or 400 invalid_grant", i, code, bodies[i])
			}
		}
		if winner < 0 {
			t.Fatalf("no request refreshed: %v", bodies)
		}
		// The others were reuse of the retired refresh token: the grant,
		// the winner's new tokens included, is revoked, on both nodes.
		newAccess := bodies[winner]["access_token"].(string)
		if active(a, newAccess) || active(b, newAccess) {
			t.Fatal("the winner's access token is live though the refresh token was reused")
		}
		tok := b.mustAPI(t, 200, "GET", "/v1/services/"+sid+"/tokens/"+id, nil)
		if tok["revoked_reason"] != "refresh_token_reuse" || tok["last_refreshed_at"] == nil {
			t.Fatalf("token after the race: %v", tok)
		}
	})
	for name, n := range map[string]*node{"A": a, "B": b} {
		if strings.Contains(n.stderr.String(), testKey) {
			t.Errorf("node %s logged the bootstrap key", name)
		}
		if strings.Contains(n.stderr.String(), "level=ERROR") {
			t.Errorf("node %s logged errors:\n%s", name, n.stderr)
		}
	}
}

// TestNodesStartTogetherOnAnEmptyDatabase starts several servers at the
// same moment on one new database: they migrate once, bootstrap the key
// once, and all serve.
func TestNodesStartTogetherOnAnEmptyDatabase(t *testing.T) {
	db := pgtest.NewDatabase(t)
	var (
		wg    sync.WaitGroup
		nodes = make([]*node, 3)
		errs  = make([]error, 3)
	)
	for i := range nodes {
		wg.Go(func() { nodes[i], errs[i] = launchNode(t, db, "--janitor-every", "1s") })
	}
	wg.Wait()
	for i, n := range nodes {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		m := n.mustAPI(t, 200, "GET", "/v1/keys", nil)
		if keys := m["keys"].([]any); len(keys) != 1 {
			t.Fatalf("node %d sees %d organization keys, want the one bootstrap key", i, len(keys))
		}
	}
}
