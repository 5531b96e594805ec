package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/authlimit"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/oauth"
	"github.com/tokend/tokend/passwd"
)

// serveConfig is everything `tokend serve` can be told, by flag or by
// TOKEND_* variable (flags win).
type serveConfig struct {
	Addr      string
	StoreURL  string
	BaseURL   string
	LogLevel  slog.Level
	LogFormat string
	// DebugAddr, when set, serves Go's profiler (net/http/pprof) there, on
	// a listener of its own so it is never exposed with the API.
	DebugAddr string
	// BootstrapKey is read from the environment only: a secret on the
	// command line would show in ps and shell history.
	BootstrapKey string
	// TokenCache is the introspection cache's size in tokens: 0 for the
	// core's default, -1 for none.
	TokenCache int
	// Janitor says how often dead tokens are removed, and which.
	Janitor janitorConfig
	// timeouts bound slow clients (handler.go); zero fields: the defaults.
	timeouts serverTimeouts
	// Metrics says where /metrics is served (observe.go).
	Metrics metricsConfig
	// Console turns the web console on (the default) or off.
	Console bool

	getenv env
}

func parseServeFlags(name string, args []string, stderr io.Writer, getenv env) (*serveConfig, error) {
	cfg := &serveConfig{BootstrapKey: getenv("TOKEND_BOOTSTRAP_KEY"), getenv: getenv}
	fs := flag.NewFlagSet("tokend "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", envOr(getenv, "TOKEND_ADDR", "127.0.0.1:8080"), "listen address (TOKEND_ADDR)")
	fs.StringVar(&cfg.StoreURL, "store", envOr(getenv, "TOKEND_STORE", "sqlite:tokend.db"), storeURLHelp)
	fs.StringVar(&cfg.BaseURL, "base-url", getenv("TOKEND_BASE_URL"), "public URL of this deployment; issuers derive from it (TOKEND_BASE_URL; default http://ADDR)")
	level := fs.String("log-level", envOr(getenv, "TOKEND_LOG_LEVEL", "info"), "debug, info, warn or error (TOKEND_LOG_LEVEL)")
	fs.StringVar(&cfg.LogFormat, "log-format", envOr(getenv, "TOKEND_LOG_FORMAT", "text"), "text or json (TOKEND_LOG_FORMAT)")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", getenv("TOKEND_DEBUG_ADDR"), "serve /debug/pprof/ on this address, e.g. 127.0.0.1:6060; off when empty (TOKEND_DEBUG_ADDR)")
	tokenCache := fs.String("token-cache", getenv("TOKEND_TOKEN_CACHE"), fmt.Sprintf("access tokens kept in memory for introspection, about 400 bytes each; default %d, 0 turns it off (TOKEND_TOKEN_CACHE)", tokend.DefaultTokenCacheSize))
	janitor := addJanitorFlags(fs, getenv, true)
	metrics := addMetricsFlag(fs, getenv)
	console := addConsoleFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if cfg.Metrics, err = metrics(); err != nil {
		return nil, err
	}
	if cfg.Console, err = console(); err != nil {
		return nil, err
	}
	if cfg.Janitor, err = janitor(); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *tokenCache != "" {
		n, err := strconv.Atoi(*tokenCache)
		if err != nil || n < 0 || n > 10_000_000 {
			return nil, fmt.Errorf("--token-cache: %q is not a number of tokens from 0 to 10000000", *tokenCache)
		}
		cfg.TokenCache = n
		if n == 0 {
			cfg.TokenCache = -1
		}
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", *level)
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return nil, fmt.Errorf("--log-format: %q is not text or json", cfg.LogFormat)
	}
	return cfg, nil
}

// defaultMemoryLimit is the Go heap's soft limit unless GOMEMLIMIT says
// otherwise. The heap holds bounded caches and in-flight requests; without
// a limit the collector lets it grow to twice its live size between
// cycles. SQLite's page cache lives outside it (see package sqlite).
const defaultMemoryLimit = 96 << 20

func setMemoryLimit(getenv env) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

func envOr(getenv env, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func newLogger(w io.Writer, cfg *serveConfig) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// server is a running tokend: store, core and HTTP listener. Tests start it
// on 127.0.0.1:0 with a temporary store.
type server struct {
	cfg    *serveConfig
	logger *slog.Logger
	store  closableStore
	core   *tokend.Core
	ln     net.Listener
	http   *http.Server
	url    string // where it listens, e.g. http://127.0.0.1:8080

	stopped  chan struct{} // closed when Serve returns
	serveErr error         // what Serve returned; read after stopped
	stopOnce sync.Once
	stopErr  error
	debug    *http.Server // the profiler's, when --debug-addr is set
	janitor  *janitorLoop // nil when --janitor-every is 0
	obs      observability
	mux      *http.ServeMux // every route, for the OpenAPI drift test
	limits   *authlimit.Limiter
}

// startServer opens the store (creating and migrating it), makes sure a
// management key exists, and starts serving.
func startServer(ctx context.Context, cfg *serveConfig, stderr io.Writer) (*server, error) {
	logger := newLogger(stderr, cfg)
	setMemoryLimit(cfg.getenv)
	started := time.Now()
	store, err := openStore(ctx, cfg.StoreURL)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s := &server{cfg: cfg, logger: logger, store: store, ln: ln, stopped: make(chan struct{})}
	s.url = "http://" + ln.Addr().String()
	baseURL := cfg.BaseURL
	if baseURL == "" {
		baseURL = s.url
	}
	s.obs = newObservability(cfg)
	s.core = tokend.New(s.obs.metrics.Store(store), tokend.Config{
		Observer:  s.obs.metrics.Observer(),
		BaseURL:   baseURL,
		Passwords: passwd.Hasher{Params: passwd.Default},
		Callback:  oauth.HTTPPasswordCallback{},

		TokenCacheSize: cfg.TokenCache,
	})

	// Several nodes on one database: what another node changes must not
	// be answered from this one's memory.
	if store.onChange != nil {
		if err := store.onChange(ctx, s.core.ApplyChange); err != nil {
			s.abort()
			return nil, fmt.Errorf("listen for other nodes' changes: %w", err)
		}
	}

	key, err := s.core.Bootstrap(ctx, cfg.BootstrapKey)
	if err != nil {
		s.abort()
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	switch {
	case key != "" && cfg.BootstrapKey != "":
		logger.Info("empty store: TOKEND_BOOTSTRAP_KEY is now an organization key with every permission")
	case key != "":
		// Printed once, on stderr, and never logged: it is the only copy.
		fmt.Fprintf(stderr, "\nNo management key existed, so tokend made one with every permission.\nIt is shown only now; keep it safe:\n\n    TOKEND_KEY=%s\n\n", key)
	}

	mux := http.NewServeMux()
	s.limits = registerSurfaces(mux, s.core, logger)
	s.mux = mux
	if err := s.registerOperatorRoutes(mux, baseURL); err != nil {
		s.abort()
		return nil, err
	}
	tmo := cfg.timeouts.orDefault()
	s.http = &http.Server{
		Handler:           httpx.Instrument(logger, s.obs.requests(), mux),
		ReadHeaderTimeout: tmo.ReadHeader,
		ReadTimeout:       tmo.Read,
		WriteTimeout:      tmo.Write,
		IdleTimeout:       tmo.Idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		s.serveErr = s.http.Serve(ln)
		close(s.stopped)
	}()
	if cfg.DebugAddr != "" {
		if err := s.startDebug(cfg.DebugAddr); err != nil {
			s.shutdownEarly()
			return nil, err
		}
	}
	if err := s.startMetricsListener(); err != nil {
		s.shutdownEarly()
		return nil, err
	}
	if cfg.Janitor.Every > 0 {
		s.janitor = startJanitor(s.core, cfg.Janitor, logger, s.obs.janitor())
	}
	logger.Info("tokend listening", "url", s.url, "base_url", baseURL, "store", redactStoreURL(cfg.StoreURL), "startup", time.Since(started).Round(time.Millisecond))
	return s, nil
}

// shutdownEarly stops a server that failed to start all its listeners.
func (s *server) shutdownEarly() {
	if s.debug != nil {
		s.debug.Close()
	}
	s.http.Close()
	<-s.stopped
	s.store.Close()
}

func (s *server) abort() {
	s.ln.Close()
	s.store.Close()
}

// startDebug serves the profiler on its own listener.
func (s *server) startDebug(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--debug-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	s.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go s.debug.Serve(ln)
	s.logger.Info("profiler listening", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}

// shutdown drains in-flight requests (up to the context's deadline) and
// closes the store. Calling it again returns the first call's result.
func (s *server) shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		if s.debug != nil {
			s.debug.Close()
		}
		if s.obs.listener != nil {
			s.obs.listener.Close()
		}
		err := s.http.Shutdown(ctx)
		<-s.stopped
		s.janitor.Stop()
		if s.serveErr != nil && !errors.Is(s.serveErr, http.ErrServerClosed) {
			err = errors.Join(err, s.serveErr)
		}
		s.stopErr = errors.Join(err, s.store.Close())
	})
	return s.stopErr
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	cfg, err := parseServeFlags("serve", args, stderr, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "tokend serve: %v\n", err)
		return 2
	}
	s, err := startServer(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tokend serve: %v\n", err)
		return 1
	}
	select {
	case <-ctx.Done():
		s.logger.Info("shutting down: draining requests")
	case <-s.stopped:
		s.logger.Error("server stopped", "err", s.serveErr)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.shutdown(shutdownCtx); err != nil {
		s.logger.Error("shutdown", "err", err)
		return 1
	}
	return 0
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	cfg, err := parseServeFlags("migrate", args, stderr, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "tokend migrate: %v\n", err)
		return 2
	}
	store, err := openStore(ctx, cfg.StoreURL)
	if err != nil {
		fmt.Fprintf(stderr, "tokend migrate: %v\n", err)
		return 1
	}
	defer store.Close()
	v, err := store.SchemaVersion(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "tokend migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: schema version %d\n", redactStoreURL(cfg.StoreURL), v)
	return 0
}

// redactStoreURL hides a password in a store URL before it is logged: in
// its user part, or as a password parameter (PostgreSQL's URLs have both).
func redactStoreURL(s string) string {
	if i := strings.Index(s, "password="); i >= 0 {
		end := strings.IndexAny(s[i:], "&#")
		if end < 0 {
			end = len(s) - i
		}
		s = s[:i] + "password=xxxxx" + s[i+end:]
	}
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s, "@"); at > i {
			if colon := strings.Index(s[i+3:at], ":"); colon >= 0 {
				return s[:i+3+colon] + ":xxxxx" + s[at:]
			}
		}
	}
	return s
}
