// Package metrics exposes tokend's Prometheus metrics: HTTP requests by
// route and status, token events by service and grant type (fed by the
// core's Observer hook), store latency, the janitor's progress and the Go
// runtime. It holds no business rule: it counts what the core and the HTTP
// layer tell it.
//
// Everything registers with the registry given to New, never the global
// one, so that tests and several servers in one process do not share
// counters.
//
// The token endpoint and introspection are the hot paths, so their
// counters are resolved once per label set and kept in copy-on-write maps
// read without a lock: counting an event costs a map lookup and an atomic
// add, with no allocation.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tokend/tokend"
)

// Metrics holds tokend's collectors. Its methods are safe for concurrent
// use; a nil *Metrics counts nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec
	durations   *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
	issued      *prometheus.CounterVec
	introspect  *prometheus.CounterVec
	revoked     *prometheus.CounterVec
	reuse       *prometheus.CounterVec
	storeTime   *prometheus.HistogramVec

	janitorDeleted  *prometheus.CounterVec
	janitorSweeps   *prometheus.CounterVec
	janitorLast     prometheus.Gauge
	janitorDuration prometheus.Gauge

	routes cowMap[routeKey, *routeMetrics]
	tokens cowMap[tokenKey, prometheus.Counter]
}

// New registers tokend's metrics, and the Go runtime's and the process's,
// with reg.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_http_requests_total",
			Help: "HTTP requests answered, by route pattern (\"unmatched\" for none) and status code.",
		}, []string{"route", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tokend_http_request_duration_seconds",
			Help: "Time from a request's arrival to the end of its answer, by route pattern and status code.",
			// From a cached introspection (tens of µs) to a slow password
			// hash or a bulk revocation (seconds).
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_rate_limited_total",
			Help: "Requests refused with 429 Too Many Requests (failed-authentication limits), by route pattern.",
		}, []string{"route"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_tokens_issued_total",
			Help: "Tokens issued by the token endpoints and the management API, by service id and grant type (REFRESH_TOKEN for refreshes).",
		}, []string{"service", "grant_type"}),
		introspect: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_tokens_introspected_total",
			Help: "Introspections answered (RFC 7662 and access checks), by service id, the token's grant type (\"unknown\" when no token has the value) and whether it was active.",
		}, []string{"service", "grant_type", "active"}),
		revoked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_tokens_revoked_total",
			Help: "Tokens revoked, by service id and grant type (\"many\" when one request revoked a client's, subject's or grant's tokens together).",
		}, []string{"service", "grant_type"}),
		reuse: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_refresh_reuse_detected_total",
			Help: "Retired refresh tokens presented again after their grace period, each revoking its grant, by service id.",
		}, []string{"service"}),
		storeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tokend_store_operation_duration_seconds",
			Help:    "Time the store took for one operation (a query or a transaction), by operation.",
			Buckets: []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"operation"}),
		janitorDeleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_janitor_deleted_total",
			Help: "Rows the janitor removed, by kind (tokens, codes).",
		}, []string{"kind"}),
		janitorSweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokend_janitor_sweeps_total",
			Help: "Janitor sweeps, by result: ok, skipped (another node held the lock) or error.",
		}, []string{"result"}),
		janitorLast: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tokend_janitor_last_success_timestamp_seconds",
			Help: "When the last sweep that finished without error ended (Unix time); 0 before the first.",
		}),
		janitorDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tokend_janitor_last_duration_seconds",
			Help: "How long the last finished sweep took.",
		}),
	}
	reg.MustRegister(m.requests, m.durations, m.rateLimited, m.issued, m.introspect, m.revoked, m.reuse,
		m.storeTime, m.janitorDeleted, m.janitorSweeps, m.janitorLast, m.janitorDuration,
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC, collectors.MetricsMemory, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series that should read 0 rather than be absent before the first event.
	for _, r := range []string{"ok", "skipped", "error"} {
		m.janitorSweeps.WithLabelValues(r)
	}
	for _, k := range []string{"tokens", "codes"} {
		m.janitorDeleted.WithLabelValues(k)
	}
	return m
}

// Handler serves the registry in Prometheus's text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A failing collector must not hide the others.
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// cowMap is a map read without locks: a miss takes the mutex and swaps in
// a copy with the new entry. Entries are few (label sets) and misses rare,
// so copying costs less than a lock on every hit would.
type cowMap[K comparable, V any] struct {
	m  atomic.Pointer[map[K]V]
	mu sync.Mutex
}

func (c *cowMap[K, V]) get(k K, newV func() V) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	next := newV()
	m := withEntry(old, k, next)
	c.m.Store(&m)
	return next
}

func withEntry[K comparable, V any](old *map[K]V, k K, v V) map[K]V {
	n := 1
	if old != nil {
		n += len(*old)
	}
	m := make(map[K]V, n)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[k] = v
	return m
}

type routeKey struct {
	route string
	code  int
}

type routeMetrics struct {
	count    prometheus.Counter
	duration prometheus.Observer
	limited  prometheus.Counter // nil unless the code is 429
}

// ObserveRequest counts one answered request; route is the ServeMux
// pattern that matched ("" when none did).
func (m *Metrics) ObserveRequest(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	rm := m.routes.get(routeKey{route, code}, func() *routeMetrics {
		label := route
		if label == "" {
			// Unmatched paths are the caller's to choose: never a label.
			label = "unmatched"
		}
		c := strconv.Itoa(code)
		rm := &routeMetrics{count: m.requests.WithLabelValues(label, c), duration: m.durations.WithLabelValues(label, c)}
		if code == http.StatusTooManyRequests {
			rm.limited = m.rateLimited.WithLabelValues(label)
		}
		return rm
	})
	rm.count.Inc()
	rm.duration.Observe(d.Seconds())
	if rm.limited != nil {
		rm.limited.Inc()
	}
}

// tokenKey names one token counter: the kind of event, the service, the
// grant type's index in tokend.GrantTypes (len for "unknown"/"many") and,
// for introspections, the answer.
type tokenKey struct {
	kind   uint8
	sid    int64
	grant  uint8
	active bool
}

const (
	kindIssued uint8 = iota
	kindIntrospected
	kindRevoked
	kindReuse
)

// grantIndex finds g in tokend.GrantTypes by comparison, not a map, so the
// hot path hashes no string; len(GrantTypes) stands for "" (none).
func grantIndex(g tokend.GrantType) uint8 {
	for i, known := range tokend.GrantTypes {
		if g == known {
			return uint8(i)
		}
	}
	return uint8(len(tokend.GrantTypes))
}

func grantLabel(i uint8, none string) string {
	if int(i) < len(tokend.GrantTypes) {
		return string(tokend.GrantTypes[i])
	}
	return none
}

func (m *Metrics) tokenCounter(k tokenKey) prometheus.Counter {
	return m.tokens.get(k, func() prometheus.Counter {
		sid := strconv.FormatInt(k.sid, 10)
		switch k.kind {
		case kindIssued:
			return m.issued.WithLabelValues(sid, grantLabel(k.grant, "unknown"))
		case kindIntrospected:
			return m.introspect.WithLabelValues(sid, grantLabel(k.grant, "unknown"), strconv.FormatBool(k.active))
		case kindRevoked:
			return m.revoked.WithLabelValues(sid, grantLabel(k.grant, "many"))
		default:
			return m.reuse.WithLabelValues(sid)
		}
	})
}

// Observer returns the core's hook into these metrics (Config.Observer).
// It is nil for a nil *Metrics.
func (m *Metrics) Observer() tokend.Observer {
	if m == nil {
		return nil
	}
	return observer{m}
}

type observer struct{ m *Metrics }

func (o observer) TokenIssued(sid int64, g tokend.GrantType) {
	o.m.tokenCounter(tokenKey{kind: kindIssued, sid: sid, grant: grantIndex(g)}).Inc()
}

func (o observer) TokenIntrospected(sid int64, g tokend.GrantType, active bool) {
	o.m.tokenCounter(tokenKey{kind: kindIntrospected, sid: sid, grant: grantIndex(g), active: active}).Inc()
}

func (o observer) TokensRevoked(sid int64, g tokend.GrantType, n int) {
	o.m.tokenCounter(tokenKey{kind: kindRevoked, sid: sid, grant: grantIndex(g)}).Add(float64(n))
}

func (o observer) RefreshReuseDetected(sid int64) {
	o.m.tokenCounter(tokenKey{kind: kindReuse, sid: sid}).Inc()
}

// JanitorBatch counts the rows one janitor batch removed (kind "tokens" or
// "codes"), as the batches go: a long sweep shows progress.
func (m *Metrics) JanitorBatch(kind string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.janitorDeleted.WithLabelValues(kind).Add(float64(n))
}

// JanitorSweep records how a sweep ended: ok, skipped or error.
func (m *Metrics) JanitorSweep(result string, took time.Duration, end time.Time) {
	if m == nil {
		return
	}
	m.janitorSweeps.WithLabelValues(result).Inc()
	if result == "skipped" {
		return
	}
	m.janitorDuration.Set(took.Seconds())
	if result == "ok" {
		m.janitorLast.Set(float64(end.UnixNano()) / 1e9)
	}
}
