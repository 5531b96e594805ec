// Package e2e drives a real tokend binary with third-party OAuth clients, so
// that the OAuth endpoints are checked against independent implementations
// of the RFCs rather than only against our own reading of them, and with
// Authlete's own TypeScript SDK, so that the Authlete-compatible API is
// checked against the client its users already have.
//
//	npm ci --prefix e2e/node && go test ./e2e/ -v
//
// or, against a server already running (each test makes its own service):
//
//	cd e2e/node && TOKEND_URL=http://127.0.0.1:8080 TOKEND_KEY=<org key> node --test *.test.js
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Time limits: every wait in this file is bounded, so a hung server or
// client fails the test instead of eating CI's whole budget.
const (
	buildTimeout    = 5 * time.Minute // a cold build of the binary on 2 cores
	startTimeout    = 30 * time.Second
	nodeTimeout     = 4 * time.Minute // the whole node --test run
	nodeTestTimeout = 60 * time.Second
	stopTimeout     = 20 * time.Second // the server drains for at most 15 s
)

// bootstrapKey becomes the organization key of the fresh store; the Node
// tests use it as the host application's management key.
const bootstrapKey = "tokend-e2e-bootstrap-key-0123456789abcdef"

// lockedBuffer collects a child process's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// unavailable reports a missing prerequisite: on CI it is a failure, since a
// skipped end-to-end test there would pass silently; elsewhere a skip, so a
// Go-only checkout can still run the rest of the suite.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: required on CI (Node.js 20+ with npm; scripts/test.sh runs npm ci for e2e/node)", msg)
	}
	t.Skipf("%s; skipping the Node.js OAuth client tests", msg)
}

// checkNodeModules makes sure the packages package.json pins are installed
// at exactly those versions: tests run against another version would report
// on a library we do not ship in the lock file.
func checkNodeModules(t *testing.T, dir string) {
	t.Helper()
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	if len(pkg.Dependencies) == 0 {
		t.Fatal("package.json lists no dependencies")
	}
	for name, want := range pkg.Dependencies {
		raw, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
		if err != nil {
			unavailable(t, "%s is not installed in e2e/node/node_modules: run npm ci --prefix e2e/node", name)
		}
		var got struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("node_modules/%s/package.json: %v", name, err)
		}
		if got.Version != want {
			unavailable(t, "node_modules has %s %s but package.json pins %s: run npm ci --prefix e2e/node", name, got.Version, want)
		}
	}
}

// buildTokend builds the real binary: the e2e test runs what ships, and
// package main cannot be imported. Under -race the binary is built with the
// race detector too (reusing the instrumented packages the test build left
// in the cache), so a data race in a request path fails this test.
func buildTokend(t *testing.T) string {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Fatalf("no go command to build tokend: %v", err)
		}
	}
	bin := filepath.Join(t.TempDir(), "tokend")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "../cmd/tokend")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// cleanEnv is the test's environment without variables that would change
// how tokend or Node behave behind the test's back (a TOKEND_BASE_URL
// would change every issuer; NODE_OPTIONS could preload anything).
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TOKEND_") || strings.HasPrefix(kv, "NODE_OPTIONS=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// tokendServer is a running tokend process.
type tokendServer struct {
	url    string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, valid after done
}

// startTokend runs `tokend serve` on 127.0.0.1:0 with a fresh SQLite store
// and waits for its "tokend listening" log line, which carries the URL the
// kernel picked. The server is stopped when the test ends.
func startTokend(t *testing.T, bin string) *tokendServer {
	t.Helper()
	dir := t.TempDir()
	s := launchTokend(t, bin, dir, "sqlite:"+filepath.Join(dir, "e2e.db"))
	t.Cleanup(func() { s.stop(t) })
	return s
}

// launchTokend runs `tokend serve` on 127.0.0.1:0 with the given store, in
// dir, and waits until it listens. The caller stops it (stop or kill).
func launchTokend(t *testing.T, bin, dir, store string, args ...string) *tokendServer {
	t.Helper()
	s := &tokendServer{stderr: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve",
		"--addr", "127.0.0.1:0",
		"--store", store,
		"--log-format", "json"}, // one JSON object per line: parsed, not scraped
		args...)...)
	s.cmd.Env = cleanEnv("TOKEND_BOOTSTRAP_KEY=" + bootstrapKey)
	s.cmd.Dir = dir
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start tokend: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		pw.Close()
		close(s.done)
	}()

	urls := make(chan string, 1)
	go func() {
		// Keep reading after the URL: the log must be drained or the
		// server would block on a full pipe.
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			s.stderr.Write([]byte(line + "\n"))
			if sent {
				continue
			}
			var rec struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "tokend listening" && rec.URL != "" {
				urls <- rec.URL
				sent = true
			}
		}
		io.Copy(io.Discard, pr)
	}()

	select {
	case s.url = <-urls:
	case <-s.done:
		t.Fatalf("tokend exited before listening: %v\n%s", s.err, s.stderr)
	case <-time.After(startTimeout):
		_ = s.cmd.Process.Kill()
		t.Fatalf("tokend did not log its URL within %v:\n%s", startTimeout, s.stderr)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(s.url) {
		t.Fatalf("tokend listens on %q; the test binds only 127.0.0.1", s.url)
	}
	return s
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would:
// no drain, no Close, no checkpoint. It returns once the process is gone.
func (s *tokendServer) kill(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Fatalf("tokend did not die within %v of SIGKILL", stopTimeout)
	}
	if log := s.stderr.String(); strings.Contains(log, "WARNING: DATA RACE") {
		t.Errorf("tokend reported a data race:\n%s", log)
	}
}

// stop asks for a graceful shutdown (SIGTERM, as a service manager would)
// and kills the process if it does not exit in time. A non-zero exit is a
// test failure: it means a failed drain or, under -race, a data race.
func (s *tokendServer) stop(t *testing.T) {
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.done
			t.Errorf("tokend did not stop within %v of SIGTERM; killed\n%s", stopTimeout, s.stderr)
			return
		}
	}
	log := s.stderr.String()
	if s.err != nil {
		t.Errorf("tokend exited with %v:\n%s", s.err, log)
	}
	if strings.Contains(log, "WARNING: DATA RACE") {
		t.Errorf("tokend reported a data race:\n%s", log)
	}
	if strings.Contains(log, bootstrapKey) {
		t.Error("tokend logged the bootstrap key")
	}
}

// TestNodeOAuthClients runs e2e/node's tests of the OAuth endpoints
// (oauth4webapi and openid-client) with Node's built-in test runner,
// against a freshly built and started tokend.
func TestNodeOAuthClients(t *testing.T) {
	runNodeTests(t, func(name string) bool { return name != authleteTests })
}

// authleteTests drives the Authlete-compatible API with Authlete's own
// TypeScript SDK (@authlete/typescript-sdk); TestAuthleteSDK runs it.
const authleteTests = "authlete.test.js"

// TestAuthleteSDK runs e2e/node/authlete.test.js: Authlete's SDK, unchanged
// but for serverURL and bearer, against a freshly built and started tokend.
func TestAuthleteSDK(t *testing.T) {
	runNodeTests(t, func(name string) bool { return name == authleteTests })
}

// runNodeTests runs the e2e/node test files that pick selects.
func runNodeTests(t *testing.T, pick func(name string) bool) {
	if testing.Short() {
		t.Skip("builds and starts tokend and Node: not in -short")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "%s is not installed", tool)
		}
	}
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	checkNodeModules(t, dir)

	// Name the test files explicitly: how `node --test DIR` treats a
	// directory differs between Node versions (globs since Node 21).
	all, err := filepath.Glob(filepath.Join(dir, "*.test.js"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range all {
		if pick(filepath.Base(f)) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		t.Fatalf("no matching *.test.js files in %s", dir)
	}
	sort.Strings(files)

	srv := startTokend(t, buildTokend(t))

	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	args := append([]string{
		"--test",
		"--test-reporter=tap", // parseable summary lines, and the failing assertion in YAML
		"--test-timeout=" + strconv.Itoa(int(nodeTestTimeout/time.Millisecond)),
	}, files...)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv("TOKEND_URL="+srv.url, "TOKEND_KEY="+bootstrapKey, "NO_COLOR=1")
	// The runner spawns a process per file: kill the whole group on time-out.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out := &lockedBuffer{}
	// With -v, stream the runner's output as it comes, so a slow or hung
	// test is visible while it happens; otherwise it is shown on failure.
	if testing.Verbose() {
		cmd.Stdout = io.MultiWriter(out, os.Stdout)
	} else {
		cmd.Stdout = out
	}
	cmd.Stderr = cmd.Stdout
	runErr := cmd.Run()

	counts := tapCounts(out.String())
	fail := func(format string, args ...any) {
		t.Helper()
		output := out.String()
		if testing.Verbose() {
			output = "(streamed above)"
		}
		t.Fatalf("%s\n--- node --test output:\n%s\n--- tokend log:\n%s", fmt.Sprintf(format, args...), output, srv.stderr)
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		fail("node --test did not finish within %v", nodeTimeout)
	case runErr != nil:
		fail("node --test: %v (%d passed, %d failed)", runErr, counts["pass"], counts["fail"])
	case counts["tests"] == 0 || counts["pass"] == 0:
		// A runner that found nothing to run exits 0: that is no pass.
		fail("node --test ran no tests")
	case counts["fail"] != 0 || counts["cancelled"] != 0:
		fail("node --test exited 0 but reports %d failed, %d cancelled", counts["fail"], counts["cancelled"])
	}
	t.Logf("node --test: %d tests, %d passed, %d skipped, against %s", counts["tests"], counts["pass"], counts["skipped"], srv.url)
}

// tapCounts reads the runner's closing "# tests N", "# pass N"… lines.
func tapCounts(out string) map[string]int {
	counts := map[string]int{}
	re := regexp.MustCompile(`(?m)^# (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		counts[m[1]] = n
	}
	return counts
}
