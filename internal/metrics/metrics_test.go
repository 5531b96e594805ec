package metrics

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/sqlite"
)

func newMetrics(t *testing.T) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return New(reg), reg
}

func TestRequests(t *testing.T) {
	m, _ := newMetrics(t)
	m.ObserveRequest("POST /oauth/{sid}/introspect", 200, time.Millisecond)
	m.ObserveRequest("POST /oauth/{sid}/introspect", 200, 2*time.Millisecond)
	m.ObserveRequest("POST /oauth/{sid}/token", 429, time.Millisecond)
	m.ObserveRequest("", 404, time.Millisecond)
	tests := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"OKCountByRouteAndCode", m.requests.WithLabelValues("POST /oauth/{sid}/introspect", "200"), 2},
		{"OKUnmatchedHasOneLabel", m.requests.WithLabelValues("unmatched", "404"), 1},
		{"OKRateLimited", m.rateLimited.WithLabelValues("POST /oauth/{sid}/token"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testutil.ToFloat64(tt.c); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("OKLatencyHistogram", func(t *testing.T) {
		n := testutil.CollectAndCount(m.durations, "tokend_http_request_duration_seconds")
		if n != 3 {
			t.Fatalf("%d latency series, want 3 (one per route and code)", n)
		}
	})
}

func TestTokenEvents(t *testing.T) {
	m, _ := newMetrics(t)
	o := m.Observer()
	o.TokenIssued(7, tokend.GrantClientCredentials)
	o.TokenIssued(7, tokend.GrantClientCredentials)
	o.TokenIssued(8, tokend.GrantRefreshToken)
	o.TokenIntrospected(7, tokend.GrantPassword, true)
	o.TokenIntrospected(7, "", false)
	o.TokensRevoked(7, "", 5)
	o.TokensRevoked(7, tokend.GrantPassword, 1)
	o.RefreshReuseDetected(8)
	tests := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"OKIssued", m.issued.WithLabelValues("7", "CLIENT_CREDENTIALS"), 2},
		{"OKIssuedOtherService", m.issued.WithLabelValues("8", "REFRESH_TOKEN"), 1},
		{"OKIntrospectedActive", m.introspect.WithLabelValues("7", "PASSWORD", "true"), 1},
		{"OKIntrospectedUnknown", m.introspect.WithLabelValues("7", "unknown", "false"), 1},
		{"OKRevokedMany", m.revoked.WithLabelValues("7", "many"), 5},
		{"OKRevokedOne", m.revoked.WithLabelValues("7", "PASSWORD"), 1},
		{"OKReuse", m.reuse.WithLabelValues("8"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testutil.ToFloat64(tt.c); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHotPathsDoNotAllocate: once a label set has been seen, counting a
// request or a token event allocates nothing.
func TestHotPathsDoNotAllocate(t *testing.T) {
	m, _ := newMetrics(t)
	o := m.Observer()
	cases := map[string]func(){
		"ObserveRequest":    func() { m.ObserveRequest("POST /oauth/{sid}/introspect", 200, time.Millisecond) },
		"TokenIntrospected": func() { o.TokenIntrospected(1234567890123, tokend.GrantAuthorizationCode, true) },
		"TokenIssued":       func() { o.TokenIssued(1234567890123, tokend.GrantClientCredentials) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			f() // resolve the label set
			if n := testing.AllocsPerRun(100, f); n != 0 {
				t.Fatalf("%v allocations per call, want 0", n)
			}
		})
	}
}

func TestJanitor(t *testing.T) {
	m, _ := newMetrics(t)
	m.JanitorBatch("tokens", 500)
	m.JanitorBatch("tokens", 20)
	m.JanitorBatch("codes", 0)
	end := time.Unix(1_800_000_000, 0)
	m.JanitorSweep("ok", 3*time.Second, end)
	m.JanitorSweep("skipped", 0, end.Add(time.Hour))
	checks := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"OKDeletedTokens", m.janitorDeleted.WithLabelValues("tokens"), 520},
		{"OKDeletedCodesZero", m.janitorDeleted.WithLabelValues("codes"), 0},
		{"OKSweepsOK", m.janitorSweeps.WithLabelValues("ok"), 1},
		{"OKSweepsSkipped", m.janitorSweeps.WithLabelValues("skipped"), 1},
		{"OKLastSuccess", m.janitorLast, 1_800_000_000},
		{"OKDuration", m.janitorDuration, 3},
	}
	for _, tt := range checks {
		t.Run(tt.name, func(t *testing.T) {
			if got := testutil.ToFloat64(tt.c); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestStore: the wrapper times every operation under its method's name and
// passes results and errors through unchanged.
func TestStore(t *testing.T) {
	m, reg := newMetrics(t)
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := m.Store(db)
	ctx := context.Background()
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken(ctx, 404); tokend.ErrorCode(err) != tokend.ENOTFOUND {
		t.Fatalf("GetToken of nothing = %v, want not_found passed through", err)
	}
	if _, err := s.GetToken(ctx, 405); tokend.ErrorCode(err) != tokend.ENOTFOUND {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "tokend_store_operation_duration_seconds" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			counts[mt.GetLabel()[0].GetValue()] = mt.GetHistogram().GetSampleCount()
		}
	}
	if counts["GetToken"] != 2 || counts["Ready"] != 1 {
		t.Fatalf("sample counts %v, want GetToken 2 and Ready 1", counts)
	}
	if len(counts) != len(storeOps) {
		t.Fatalf("%d operations have a series, want every one of %d from the start", len(counts), len(storeOps))
	}
}

// TestRuntimeMetrics: the registry carries the Go runtime's and the
// process's metrics too.
func TestRuntimeMetrics(t *testing.T) {
	_, reg := newMetrics(t)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	all := strings.Join(names, " ")
	for _, want := range []string{"go_goroutines", "go_gc_duration_seconds", "process_resident_memory_bytes", "go_memstats_heap_alloc_bytes"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %s among %s", want, all)
		}
	}
}

// TestStoreTimesEveryMethod: the wrapper lists every method of the Store
// interface, so that none passes through untimed.
func TestStoreTimesEveryMethod(t *testing.T) {
	st := reflect.TypeFor[tokend.Store]()
	var want []string
	for i := range st.NumMethod() {
		want = append(want, st.Method(i).Name)
	}
	got := append([]string(nil), storeOps[:]...)
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("timed operations %v; tokend.Store has %v", got, want)
	}
}
