package bench

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunAgainstTestServer(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		switch r.URL.Path {
		case "/fail":
			http.Error(w, "no", http.StatusTeapot)
		default:
			CeilingHandler().ServeHTTP(w, r)
		}
	}))
	defer srv.Close()

	start := time.Now()
	res := Run(context.Background(), Config{Connections: 3, Duration: 200 * time.Millisecond}, CeilingScenario(srv.URL))
	if took := time.Since(start); took > time.Second {
		t.Fatalf("a 200 ms run took %v", took)
	}
	if res.Requests == 0 || res.Errors != 0 || res.RPS <= 0 {
		t.Fatalf("result %+v: want requests, no errors", res)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
		t.Fatalf("latencies out of order: p50 %v p99 %v max %v", res.P50, res.P99, res.Max)
	}
	if uint64(served.Load()) < res.Requests {
		t.Fatalf("counted %d requests, server saw %d", res.Requests, served.Load())
	}

	// Non-2xx answers are errors, by kind, and stay out of the latencies.
	fail := Scenario{Name: "fail", Worker: func(int) Source {
		return Stateless(func() (*http.Request, error) { return http.NewRequest("GET", srv.URL+"/fail", nil) }, nil)
	}}
	res = Run(context.Background(), Config{Connections: 2, Duration: 50 * time.Millisecond}, fail)
	if res.Requests != 0 || res.Errors == 0 || res.ErrorKinds["HTTP 418"] != res.Errors {
		t.Fatalf("failing scenario: %+v", res)
	}

	// A check that rejects the body is an error of kind "check: …".
	check := Scenario{Name: "check", Worker: func(int) Source {
		return Stateless(func() (*http.Request, error) { return http.NewRequest("GET", srv.URL, nil) },
			func(body []byte) error {
				if !bytes.Contains(body, []byte(`"active":false`)) {
					return errors.New("token not inactive")
				}
				return nil
			})
	}}
	res = Run(context.Background(), Config{Connections: 1, Duration: 30 * time.Millisecond}, check)
	if res.Errors == 0 || res.ErrorKinds["check: token not inactive"] != res.Errors {
		t.Fatalf("check scenario: %+v", res)
	}
}

// countdown is a stateful source that runs out after n requests.
type countdown struct {
	url     string
	left    int
	results int
}

func (c *countdown) Next() (*http.Request, error) {
	if c.left == 0 {
		return nil, ErrExhausted
	}
	c.left--
	return http.NewRequest("GET", c.url, nil)
}

func (c *countdown) Result(int, []byte) error { c.results++; return nil }

func TestExhaustedStopsEarly(t *testing.T) {
	srv := httptest.NewServer(CeilingHandler())
	defer srv.Close()
	sources := []*countdown{{url: srv.URL, left: 5}, {url: srv.URL, left: 7}}
	start := time.Now()
	res := Run(context.Background(), Config{Connections: 2, Duration: 5 * time.Second},
		Scenario{Name: "countdown", Worker: func(i int) Source { return sources[i] }})
	if took := time.Since(start); took > time.Second {
		t.Fatalf("exhausted workers should stop at once; took %v", took)
	}
	if res.Requests != 12 || res.Errors != 0 {
		t.Fatalf("requests %d errors %d, want 12 and 0", res.Requests, res.Errors)
	}
	if !strings.Contains(res.Note, "ran out of work") {
		t.Fatalf("note %q should say the scenario ran out", res.Note)
	}
	if sources[0].results != 5 || sources[1].results != 7 {
		t.Fatal("Result must be called once per request")
	}
}

func TestTransportErrorsAndInterrupt(t *testing.T) {
	srv := httptest.NewServer(CeilingHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	res := Run(context.Background(), Config{Connections: 1, Duration: 30 * time.Millisecond}, CeilingScenario(url))
	if res.Errors == 0 || res.ErrorKinds["connection refused"] == 0 {
		t.Fatalf("want connection refused errors, got %+v", res.ErrorKinds)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res = Run(ctx, Config{Connections: 2, Duration: time.Minute}, CeilingScenario(url))
	if res.Note != "interrupted" || res.Errors != 0 {
		t.Fatalf("a cancelled run should stop at once without errors: %+v", res)
	}
}

func TestLoopbackOnly(t *testing.T) {
	c := NewClient(time.Second)
	// 192.0.2.0/24 is TEST-NET-1: refused before any packet is sent.
	_, err := c.Get("http://192.0.2.1:9/")
	if err == nil || !strings.Contains(err.Error(), "only loopback") {
		t.Fatalf("want a refusal, got %v", err)
	}
}

func TestTable(t *testing.T) {
	results := []Result{
		{Scenario: "ceiling", RPS: 40000, P50: 300 * time.Microsecond, P99: 2 * time.Millisecond, Max: 9 * time.Millisecond},
		{Scenario: "revoke", RPS: 1500, P50: time.Millisecond, Errors: 2, ErrorKinds: map[string]uint64{"HTTP 500": 2}, Note: "2 of 2 workers ran out of work after 1s"},
	}
	SetRatios(results, 40000)
	var b strings.Builder
	if err := WriteTable(&b, results); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"40,000", "1.000", "0.037", "HTTP 500 ×2", "ran out of work"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
