package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// benchChildEnv marks a process the bench started from the test binary.
// The bench starts its servers with os.Executable(), which under "go test"
// is this test binary: TestMain turns such a child back into the tokend
// command, so the test drives the same code a release binary runs.
const benchChildEnv = "BENCH_CHILD_OF_TOKEND_TEST"

func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) == "1" {
		main() // exits
	}
	// Children inherit the environment, minus TOKEND_* which the bench
	// strips, hence a name outside that prefix.
	os.Setenv(benchChildEnv, "1")
	os.Exit(m.Run())
}

func TestBenchWholeCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and loads them for about 3 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"bench", "--seed", "2000", "--duration", "300ms", "--connections", "2", "--json"},
		nil, &stdout, &stderr, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
	}
	t.Logf("whole run took %v", time.Since(start))

	var rep benchReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not the JSON report: %v\n%s", err, stdout.String())
	}
	want := append([]string{"ceiling"}, benchScenarios...)
	if len(rep.Results) != len(want) {
		t.Fatalf("got %d results, want %d: %+v", len(rep.Results), len(want), rep.Results)
	}
	// /proc counts CPU time in 10 ms ticks: a scenario that ran out of work
	// early may show none, but the run as a whole must.
	var serverCPU time.Duration
	defer func() {
		if runtime.GOOS == "linux" && serverCPU <= 0 {
			t.Error("no server CPU time measured in any scenario")
		}
	}()
	for i, r := range rep.Results {
		if r.Scenario != want[i] {
			t.Errorf("result %d is %q, want %q", i, r.Scenario, want[i])
		}
		if r.Requests == 0 || r.RPS <= 0 {
			t.Errorf("%s: no requests succeeded (note %q)", r.Scenario, r.Note)
		}
		if r.Errors != 0 {
			t.Errorf("%s: %d errors: %v", r.Scenario, r.Errors, r.ErrorKinds)
		}
		if r.Ratio <= 0 {
			t.Errorf("%s: no ratio to the ceiling", r.Scenario)
		}
		if r.ServerCPU < 0 {
			t.Errorf("%s: negative server CPU time %v", r.Scenario, r.ServerCPU)
		}
		serverCPU += r.ServerCPU
		if r.P50 <= 0 || r.Max < r.P99 || r.P99 < r.P50 {
			t.Errorf("%s: latencies p50 %v p99 %v max %v", r.Scenario, r.P50, r.P99, r.Max)
		}
	}
	if s := rep.Store; s == nil || s.Seeded != 2000 || s.TokensStored < 2000 || s.BytesPerToken <= 0 {
		t.Errorf("store report %+v: want 2,000 seeded, at least that many stored, and bytes per token", s)
	}
	if s := rep.Server; s == nil || s.Startup <= 0 || s.PeakRSSBytes <= 0 {
		t.Errorf("server report %+v: want start-up time and peak RSS", s)
	}
	if rep.Machine.NumCPU == 0 || rep.Machine.GoVersion == "" {
		t.Errorf("machine info missing: %+v", rep.Machine)
	}
	if _, err := os.Stat(strings.TrimPrefix(rep.Store.URL, "sqlite:")); !os.IsNotExist(err) {
		t.Errorf("the temporary store %s should be removed without --keep (stat: %v)", rep.Store.URL, err)
	}

	// The same report as a table, for people.
	var table bytes.Buffer
	if err := writeBenchReport(&table, &rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range append(want, "vs ceiling", "server CPU/req", "bytes per token", "peak RSS", "start-up", "GOMAXPROCS") {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
}

// TestBenchProfileAndServeArgs runs one scenario with --profile, on a
// server started with --serve-args: the profile is a pprof file, and a
// server flag the bench passed on shows in the server's behaviour (a bad
// value stops the server from starting, so the run fails).
func TestBenchProfileAndServeArgs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and loads them for about 4 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dir := t.TempDir()
	noenv := func(string) string { return "" }
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"bench", "--seed", "500", "--duration", "2s", "--connections", "2", "--scenarios", "introspect",
		"--profile", dir, "--serve-args", "--token-cache 1000"}, nil, &stdout, &stderr, noenv)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
	}
	prof, err := os.ReadFile(filepath.Join(dir, "introspect.prof"))
	if err != nil {
		t.Fatal(err)
	}
	// A CPU profile is a gzipped protocol buffer.
	if len(prof) < 100 || prof[0] != 0x1f || prof[1] != 0x8b {
		t.Fatalf("introspect.prof is %d bytes and not gzip: not a profile", len(prof))
	}
	code = run(ctx, []string{"bench", "--seed", "10", "--duration", "300ms", "--scenarios", "introspect",
		"--serve-args", "--token-cache nonsense"}, nil, &bytes.Buffer{}, &stderr, noenv)
	if code == 0 {
		t.Fatal("a server flag with a bad value did not fail the run: --serve-args was not passed on")
	}
}

func TestBenchFlags(t *testing.T) {
	noenv := func(string) string { return "" }
	for _, args := range [][]string{
		{"--target", "http://10.0.0.1:8080", "--key", "k"},
		{"--target", "https://127.0.0.1:8080", "--key", "k"},
		{"--target", "http://127.0.0.1:8080"}, // no key
		{"--scenarios", "introspect,nope"},
		{"--connections", "0"},
		{"--duration", "-1s"},
		{"--store", "postgres://x"},
		{"extra"},
		{"--serve-args", "--store sqlite:/tmp/x.db"},
		{"--serve-args", "--addr=127.0.0.1:1"},
		{"--serve-args", "--token-cache 10", "--target", "http://127.0.0.1:8080", "--key", "k"},
		{"--profile", "/tmp/p", "--target", "http://127.0.0.1:8080", "--key", "k"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), append([]string{"bench"}, args...), nil, &bytes.Buffer{}, &stderr, noenv)
		if code == 0 {
			t.Errorf("bench %v succeeded; want a refusal", args)
		}
	}
	cfg, err := parseBenchFlags([]string{"--scenarios", "list, introspect"}, &bytes.Buffer{}, noenv)
	if err != nil || strings.Join(cfg.Scenarios, ",") != "list,introspect" || cfg.Connections != 16 || cfg.Duration != 10*time.Second {
		t.Fatalf("parse: %+v, %v", cfg, err)
	}
}

func TestStatCPU(t *testing.T) {
	// A real line's shape, with a command name holding a space and a
	// parenthesis: utime 250 and stime 50 ticks are 3 s.
	line := "4242 (tokend (x) serve) S 1 4242 4242 0 -1 4194560 5000 0 0 0 250 50 0 0 20 0 7 0 100 1000000 2000 18446744073709551615\n"
	got, ok := statCPU([]byte(line))
	if !ok || got != 3*time.Second {
		t.Fatalf("statCPU = %v, %v; want 3s", got, ok)
	}
	for _, bad := range []string{"", "4242 (x S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 eleven 50"} {
		if _, ok := statCPU([]byte(bad)); ok {
			t.Errorf("statCPU(%q) succeeded", bad)
		}
	}
	if _, ok := procCPU(os.Getpid()); !ok && runtime.GOOS == "linux" {
		t.Error("procCPU of this process failed on Linux")
	}
}

func TestProcKiB(t *testing.T) {
	status := []byte("Name:\ttokend\nVmPeak:\t  900000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t   40000 kB\n")
	if n, ok := procKiB(status, "VmHWM:"); !ok || n != 51234<<10 {
		t.Fatalf("VmHWM = %d, %v", n, ok)
	}
	if _, ok := procKiB([]byte("Name:\tx\n"), "VmHWM:"); ok {
		t.Fatal("a missing field should not parse")
	}
}
