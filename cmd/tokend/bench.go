package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/bench"
	"github.com/tokend/tokend/sqlite"
)

const benchUsage = `Usage: tokend bench [flags]

Load-tests tokend over loopback. Unless --target is given it seeds a store
with --seed tokens, starts "tokend serve" on it as a child process, and
starts a trivial HTTP server beside it as the machine's ceiling. Each
scenario runs for --duration on --connections keep-alive connections;
the ceiling runs first, and every figure is also given as a ratio to it.

Scenarios: client_credentials, refresh, introspect, revoke, list, create.

Flags:
  --duration D        time per scenario (default 10s)
  --connections N     keep-alive connections, one worker each (default 16)
  --seed N            tokens to seed before the server starts (default 100000)
  --store sqlite:PATH store to seed and serve (default: a temporary one,
                      removed afterwards unless --keep); an existing store
                      is added to, under a new service. SQLite only: the
                      bench seeds the file directly (bench a PostgreSQL
                      deployment with --target)
  --keep              keep the temporary store (or --target's service)
  --target URL        bench a running server instead (loopback only); its
                      fixtures are made through the management API, and
                      seeding, peak RSS, size and start-up are not measured
  --key KEY           management key for --target (prefer TOKEND_KEY)
  --scenarios LIST    comma-separated subset (default: all)
  --serve-args ARGS   more flags for the "tokend serve" the bench starts,
                      e.g. "--token-cache 64000" (not --addr, --store or
                      --debug-addr, which the bench sets)
  --profile DIR       save a CPU profile of the server during each scenario
                      as DIR/SCENARIO.prof (read with go tool pprof); not
                      with --target, whose server the bench did not start
  --json              print the report as JSON
`

type benchConfig struct {
	Duration    time.Duration
	Connections int
	Seed        int
	StoreURL    string
	Keep        bool
	Target      string
	Key         string
	Scenarios   []string
	JSON        bool
	ProfileDir  string
	ServeArgs   []string

	// The hidden ceiling mode, which the bench runs as its own child.
	CeilingOnly bool
	Addr        string
}

func parseBenchFlags(args []string, stderr io.Writer, getenv env) (*benchConfig, error) {
	cfg := &benchConfig{}
	fs := flag.NewFlagSet("tokend bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage) }
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "")
	fs.IntVar(&cfg.Connections, "connections", 16, "")
	fs.IntVar(&cfg.Seed, "seed", 100_000, "")
	fs.StringVar(&cfg.StoreURL, "store", "", "")
	fs.BoolVar(&cfg.Keep, "keep", false, "")
	fs.StringVar(&cfg.Target, "target", "", "")
	fs.StringVar(&cfg.Key, "key", getenv("TOKEND_KEY"), "")
	scenarios := fs.String("scenarios", strings.Join(benchScenarios, ","), "")
	fs.BoolVar(&cfg.JSON, "json", false, "")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "")
	serveArgs := fs.String("serve-args", "", "")
	fs.BoolVar(&cfg.CeilingOnly, "ceiling-only", false, "")
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:0", "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.CeilingOnly {
		return cfg, nil
	}
	switch {
	case cfg.Duration <= 0 || cfg.Duration > time.Hour:
		return nil, fmt.Errorf("--duration must be between 0 and 1h, not %v", cfg.Duration)
	case cfg.Connections < 1 || cfg.Connections > 1024:
		return nil, fmt.Errorf("--connections must be between 1 and 1024, not %d", cfg.Connections)
	case cfg.Seed < 0 || cfg.Seed > 100_000_000:
		return nil, fmt.Errorf("--seed must be between 0 and 100000000, not %d", cfg.Seed)
	case cfg.Target != "" && cfg.StoreURL != "":
		return nil, errors.New("--target and --store exclude each other: a running server has its own store")
	case cfg.Target != "" && cfg.ProfileDir != "":
		return nil, errors.New("--profile needs a server the bench starts: profile a --target server through its own --debug-addr")
	case cfg.Target != "" && cfg.Key == "":
		return nil, errors.New("--target needs a management key: set TOKEND_KEY (or --key)")
	}
	cfg.ServeArgs = strings.Fields(*serveArgs)
	for _, a := range cfg.ServeArgs {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "addr" || name == "store" || name == "debug-addr") {
			return nil, fmt.Errorf("--serve-args: %s is the bench's to set", a)
		}
	}
	if cfg.Target != "" && len(cfg.ServeArgs) > 0 {
		return nil, errors.New("--serve-args needs a server the bench starts, not --target")
	}
	if cfg.Target != "" {
		if err := loopbackURL(cfg.Target); err != nil {
			return nil, err
		}
		cfg.Target = strings.TrimRight(cfg.Target, "/")
	}
	for s := range strings.SplitSeq(*scenarios, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(benchScenarios, s) {
			return nil, fmt.Errorf("--scenarios: unknown scenario %q (known: %s)", s, strings.Join(benchScenarios, ", "))
		}
		cfg.Scenarios = append(cfg.Scenarios, s)
	}
	if len(cfg.Scenarios) == 0 {
		return nil, errors.New("--scenarios: name at least one")
	}
	return cfg, nil
}

// loopbackURL refuses a target that is not http on a loopback address:
// the bench sends thousands of requests a second and must never send them
// to another machine by mistake.
func loopbackURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("--target %q: want http://127.0.0.1:PORT", s)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--target %q: only loopback addresses may be benchmarked", s)
	}
	return nil
}

// benchReport is everything a run found; --json prints it as it is.
type benchReport struct {
	Machine struct {
		NumCPU     int    `json:"num_cpu"`
		GOMAXPROCS int    `json:"gomaxprocs"`
		GoVersion  string `json:"go_version"`
		OS         string `json:"os"`
		CPU        string `json:"cpu,omitempty"`
	} `json:"machine"`
	Duration    time.Duration `json:"duration_per_scenario_ns"`
	Connections int           `json:"connections"`
	Target      string        `json:"target,omitempty"`

	Store  *benchStoreReport  `json:"store,omitempty"`
	Server *benchServerReport `json:"server,omitempty"`

	Results []bench.Result `json:"results"`
	Notes   []string       `json:"notes,omitempty"`
}

// benchStoreReport describes the seeded store.
type benchStoreReport struct {
	URL           string        `json:"url"`
	Kept          bool          `json:"kept"`
	Seeded        int           `json:"tokens_seeded"`
	SeedTook      time.Duration `json:"seed_ns"`
	SeedMethod    string        `json:"seed_method"`
	TokensStored  int           `json:"tokens_stored"`
	DBBytes       int64         `json:"db_bytes"`
	BytesPerToken float64       `json:"bytes_per_token"`
}

// benchServerReport describes the tokend process the bench started.
type benchServerReport struct {
	Startup      time.Duration `json:"startup_ns"`
	PeakRSSBytes int64         `json:"peak_rss_bytes,omitempty"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	cfg, err := parseBenchFlags(args, stderr, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "tokend bench: %v\n", err)
		return 2
	}
	if cfg.CeilingOnly {
		return runCeiling(ctx, cfg.Addr, stderr)
	}
	rep, err := benchRun(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tokend bench: %v\n", err)
		return 1
	}
	if cfg.JSON {
		err = bench.WriteJSON(stdout, rep)
	} else {
		err = writeBenchReport(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tokend bench: %v\n", err)
		return 1
	}
	return 0
}

// runCeiling serves the ceiling handler until ctx ends (SIGTERM).
func runCeiling(ctx context.Context, addr string, stderr io.Writer) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "tokend bench: listen on %s: %v\n", addr, err)
		return 1
	}
	srv := bench.NewCeilingServer(bench.CeilingHandler())
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	fmt.Fprintf(stderr, "ceiling listening url=http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "tokend bench: ceiling: %v\n", err)
		return 1
	}
	return 0
}

// benchRun is the whole run: fixtures, children, scenarios, measurements.
// Every child it starts is stopped before it returns, whatever happens.
func benchRun(ctx context.Context, cfg *benchConfig, progress io.Writer) (*benchReport, error) {
	rep := &benchReport{Duration: cfg.Duration, Connections: cfg.Connections, Target: cfg.Target}
	rep.Machine.NumCPU = runtime.NumCPU()
	rep.Machine.GOMAXPROCS = runtime.GOMAXPROCS(0)
	rep.Machine.GoVersion = runtime.Version()
	rep.Machine.OS = runtime.GOOS + "/" + runtime.GOARCH
	rep.Machine.CPU = cpuModel()

	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to start servers: %w", err)
	}
	// The children get the bench's environment minus any TOKEND_*
	// setting that would change how the server runs; flags set what
	// matters, and the bootstrap key is one the bench made (never used:
	// the seeded store already has a key, so the server prints nothing).
	env := []string{"TOKEND_BOOTSTRAP_KEY=" + tokend.NewSecret(tokend.KindManagementKey)}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOKEND_") {
			env = append(env, kv)
		}
	}

	var (
		fx      *fixtures
		server  *child
		path    string
		cleanup func(context.Context) error
	)
	if cfg.Target != "" {
		rep.Notes = append(rep.Notes, "--target: the server's store was not seeded; peak RSS, store size and start-up time are not measured")
		fmt.Fprintf(progress, "tokend bench: making fixtures on %s through the management API\n", cfg.Target)
		fx, cleanup, err = targetFixtures(ctx, cfg.Target, cfg.Key, cfg.Seed, cfg.Connections)
		if err != nil {
			return nil, err
		}
		defer func() {
			if cfg.Keep {
				return
			}
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if err := cleanup(cctx); err != nil {
				fmt.Fprintf(progress, "tokend bench: could not delete the bench service %d: %v\n", fx.ServiceID, err)
			}
		}()
	} else {
		storeURL := cfg.StoreURL
		if storeURL == "" {
			dir, err := os.MkdirTemp("", "tokend-bench-")
			if err != nil {
				return nil, err
			}
			if cfg.Keep {
				fmt.Fprintf(progress, "tokend bench: keeping the store in %s\n", dir)
			} else {
				defer os.RemoveAll(dir)
			}
			storeURL = "sqlite:" + filepath.Join(dir, "tokend.db")
		}
		if path, err = benchSQLitePath(storeURL); err != nil {
			return nil, err
		}
		fmt.Fprintf(progress, "tokend bench: seeding %s tokens into %s\n", bench.Thousands(int64(cfg.Seed)), storeURL)
		var stats *seedStats
		fx, stats, err = seedStore(ctx, path, cfg.Seed, cfg.Connections, progress)
		if err != nil {
			return nil, err
		}
		rep.Store = &benchStoreReport{URL: storeURL, Kept: cfg.Keep || cfg.StoreURL != "", Seeded: stats.Tokens, SeedTook: stats.Took, SeedMethod: stats.Method}
		fmt.Fprintf(progress, "tokend bench: seeded in %v (%s)\n", stats.Took.Round(time.Millisecond), stats.Method)

		server, rep.Server, err = startTokend(ctx, exe, storeURL, env, cfg.ProfileDir != "", cfg.ServeArgs)
		if err != nil {
			return nil, err
		}
		defer server.stop(20 * time.Second)
		fx.BaseURL = server.url
	}

	// The ceiling first, on its own process, then stopped: it must not
	// hold a core's worth of anything while tokend runs.
	ceiling, _, err := startChild(ctx, "ceiling", exe, func(addr string) []string {
		return []string{"bench", "--ceiling-only", "--addr", addr}
	}, env, "/", 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer ceiling.stop(5 * time.Second)
	run := bench.Config{Connections: cfg.Connections, Duration: cfg.Duration}
	fmt.Fprintf(progress, "tokend bench: ceiling, %v on %d connections\n", cfg.Duration, cfg.Connections)
	ceilCPU := startCPU(ceiling)
	ceil := bench.Run(ctx, run, bench.CeilingScenario(ceiling.url+"/"))
	ceil.ServerCPU = ceilCPU()
	rep.Results = append(rep.Results, ceil)
	if err := ceiling.stop(5 * time.Second); err != nil {
		rep.Notes = append(rep.Notes, "ceiling: "+err.Error())
	}

	for _, name := range benchScenarios {
		if !slices.Contains(cfg.Scenarios, name) || ctx.Err() != nil {
			continue
		}
		sc, why := fx.scenario(name)
		if why != "" {
			rep.Results = append(rep.Results, bench.Result{Scenario: name, Note: why})
			continue
		}
		fmt.Fprintf(progress, "tokend bench: %s\n", name)
		var profiled chan error
		if cfg.ProfileDir != "" && server != nil {
			profiled = make(chan error, 1)
			go func() { profiled <- server.profile(ctx, cfg.Duration, filepath.Join(cfg.ProfileDir, name+".prof")) }()
		}
		cpu := startCPU(server)
		res := bench.Run(ctx, run, sc)
		res.ServerCPU = cpu()
		rep.Results = append(rep.Results, res)
		if profiled != nil {
			if err := <-profiled; err != nil {
				rep.Notes = append(rep.Notes, name+": no profile: "+err.Error())
			}
		}
	}
	bench.SetRatios(rep.Results, ceil.RPS)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	if server != nil {
		if rss, ok := peakRSS(server.cmd.Process.Pid); ok {
			rep.Server.PeakRSSBytes = rss
		} else {
			rep.Notes = append(rep.Notes, "peak RSS not measured: no /proc on this system")
		}
		if err := server.stop(20 * time.Second); err != nil {
			rep.Notes = append(rep.Notes, "server: "+err.Error())
		}
		if err := measureStore(ctx, path, rep); err != nil {
			return nil, fmt.Errorf("measure the store: %w", err)
		}
	}
	return rep, nil
}

// startTokend runs "tokend serve" on the seeded store and times its start.
func startTokend(ctx context.Context, exe, storeURL string, env []string, debug bool, extra []string) (*child, *benchServerReport, error) {
	var debugAddr string
	if debug {
		var err error
		if debugAddr, err = freeLoopbackAddr(); err != nil {
			return nil, nil, err
		}
	}
	c, took, err := startChild(ctx, "tokend serve", exe, func(addr string) []string {
		// warn: one info line per request would cost the server time
		// and fill the bench's pipe.
		args := []string{"serve", "--addr", addr, "--store", storeURL, "--log-level", "warn"}
		if debugAddr != "" {
			args = append(args, "--debug-addr", debugAddr)
		}
		return append(args, extra...)
	}, env, "/healthz", 5*time.Minute)
	if err != nil {
		return nil, nil, err
	}
	if debugAddr != "" {
		c.debugURL = "http://" + debugAddr
	}
	return c, &benchServerReport{Startup: took}, nil
}

// benchSQLitePath is the file a sqlite: store URL names; the bench needs
// the file itself, to measure it. Parameters after "?" (cache sizes) are
// for the server, which gets the whole URL.
func benchSQLitePath(storeURL string) (string, error) {
	path, ok := strings.CutPrefix(storeURL, "sqlite:")
	path = strings.TrimPrefix(path, "//")
	path, _, _ = strings.Cut(path, "?")
	if !ok || path == "" {
		return "", fmt.Errorf("--store %q: the bench measures SQLite stores only; use sqlite:PATH", redactStoreURL(storeURL))
	}
	return path, nil
}

// measureStore counts the tokens in the stopped server's store and its
// size once the WAL is checkpointed into the main file, so the size is
// what the data takes, not how much log the last writes left.
func measureStore(ctx context.Context, path string, rep *benchReport) error {
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	services, err := store.ListServices(ctx)
	total := 0
	for _, s := range services {
		if err != nil {
			break
		}
		var page *tokend.TokenPage
		page, err = store.ListTokens(ctx, tokend.TokenFilter{ServiceID: s.ID, Status: tokend.StatusAll, Now: time.Now(),
			OrderBy: tokend.OrderCreatedAt, Limit: 1, CountTotal: true})
		if err == nil {
			total += page.Total
		}
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// The store's own connections are closed; this one only folds the
	// WAL into the database file (sqlite registers the driver).
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	var size int64
	for _, f := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	rep.Store.TokensStored = total
	rep.Store.DBBytes = size
	if total > 0 {
		rep.Store.BytesPerToken = float64(size) / float64(total)
	}
	return nil
}

// writeBenchReport prints the report for people: the table, then the
// store, the server and the machine.
func writeBenchReport(w io.Writer, rep *benchReport) error {
	m := rep.Machine
	fmt.Fprintf(w, "tokend bench: %v per scenario, %d connections", rep.Duration, rep.Connections)
	if rep.Target != "" {
		fmt.Fprintf(w, ", target %s", rep.Target)
	}
	fmt.Fprintf(w, "\nmachine: %d CPUs (nproc), GOMAXPROCS %d, %s %s", m.NumCPU, m.GOMAXPROCS, m.GoVersion, m.OS)
	if m.CPU != "" {
		fmt.Fprintf(w, ", %s", m.CPU)
	}
	fmt.Fprint(w, "\n\n")
	if err := bench.WriteTable(w, rep.Results); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if s := rep.Store; s != nil {
		fmt.Fprintf(w, "store:    %s\n", s.URL)
		fmt.Fprintf(w, "seeded:   %s tokens in %v (%s)\n", bench.Thousands(int64(s.Seeded)), s.SeedTook.Round(time.Millisecond), s.SeedMethod)
		fmt.Fprintf(w, "stored:   %s tokens after the run, %s on disk after a WAL checkpoint: %.0f bytes per token\n",
			bench.Thousands(int64(s.TokensStored)), bench.Bytes(s.DBBytes), s.BytesPerToken)
	}
	if s := rep.Server; s != nil {
		fmt.Fprintf(w, "start-up: %v (process start to first /healthz answer)\n", s.Startup.Round(100*time.Microsecond))
		if s.PeakRSSBytes > 0 {
			fmt.Fprintf(w, "peak RSS: %s (server VmHWM)\n", bench.Bytes(s.PeakRSSBytes))
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note:     %s\n", n)
	}
	return nil
}
