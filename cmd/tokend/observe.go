package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/console"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/metrics"
	"github.com/tokend/tokend/openapi"
)

// metricsConfig says where /metrics is served: on the main listener (the
// default), on an address of its own, or nowhere.
type metricsConfig struct {
	Off  bool
	Addr string // "": the main listener
}

func addMetricsFlag(fs *flag.FlagSet, getenv env) func() (metricsConfig, error) {
	v := fs.String("metrics-addr", getenv("TOKEND_METRICS_ADDR"),
		"serve /metrics on this address (e.g. 127.0.0.1:9090) instead of the main listener; off turns metrics off (TOKEND_METRICS_ADDR)")
	return func() (metricsConfig, error) {
		switch *v {
		case "":
			return metricsConfig{}, nil
		case "off":
			return metricsConfig{Off: true}, nil
		}
		if _, _, err := net.SplitHostPort(*v); err != nil {
			return metricsConfig{}, fmt.Errorf("--metrics-addr: %q is not HOST:PORT or off", *v)
		}
		return metricsConfig{Addr: *v}, nil
	}
}

func addConsoleFlag(fs *flag.FlagSet, getenv env) func() (bool, error) {
	def := envOr(getenv, "TOKEND_CONSOLE", "true")
	v := fs.String("console", def, "serve the web console at /console/ (TOKEND_CONSOLE): true or false")
	return func() (bool, error) {
		on, err := strconv.ParseBool(*v)
		if err != nil {
			return false, fmt.Errorf("--console: %q is not true or false", *v)
		}
		return on, nil
	}
}

// observability is a server's metrics and where it serves them. With
// metrics off, metrics is nil and counts nothing.
type observability struct {
	metrics  *metrics.Metrics
	cfg      metricsConfig
	listener *http.Server // /metrics on its own address, when asked
	url      string       // where that listener serves /metrics
}

func newObservability(cfg *serveConfig) observability {
	o := observability{cfg: cfg.Metrics}
	if !cfg.Metrics.Off {
		// A registry of this server's own, never the global one.
		o.metrics = metrics.New(prometheus.NewRegistry())
	}
	return o
}

// requests is the HTTP layer's hook: nil when metrics are off, so that the
// middleware skips it.
func (o observability) requests() httpx.RequestObserver {
	if o.metrics == nil {
		return nil
	}
	return o.metrics
}

// janitor is the janitor's hook, nil when metrics are off.
func (o observability) janitor() janitorProgress {
	if o.metrics == nil {
		return nil
	}
	return o.metrics
}

// janitorProgress is told of each janitor batch and sweep.
type janitorProgress interface {
	JanitorBatch(kind string, n int)
	JanitorSweep(result string, took time.Duration, end time.Time)
}

func sweepResult(rep *tokend.SweepReport, err error) string {
	switch {
	case err != nil:
		return "error"
	case rep.Skipped:
		return "skipped"
	default:
		return "ok"
	}
}

// registerOperatorRoutes adds what serves operators rather than OAuth
// clients: /metrics (when on the main listener), the OpenAPI documents and
// the web console (when on).
func (s *server) registerOperatorRoutes(mux *http.ServeMux, baseURL string) error {
	if s.obs.metrics != nil && s.obs.cfg.Addr == "" {
		mux.Handle("GET /metrics", s.obs.metrics.Handler())
	}
	openapi.Register(mux)
	if s.cfg.Console {
		console.New(s.core, s.logger, console.Options{Secure: strings.HasPrefix(baseURL, "https://"), Limiter: s.limits}).Register(mux)
	}
	return nil
}

// startMetricsListener serves /metrics on its own address, when asked.
func (s *server) startMetricsListener() error {
	if s.obs.metrics == nil || s.obs.cfg.Addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.obs.cfg.Addr)
	if err != nil {
		return fmt.Errorf("--metrics-addr %s: %w", s.obs.cfg.Addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.obs.metrics.Handler())
	s.obs.listener = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := s.obs.listener.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("metrics listener stopped", "err", err)
		}
	}()
	s.obs.url = "http://" + ln.Addr().String() + "/metrics"
	s.logger.Info("metrics listening", "url", s.obs.url)
	return nil
}
