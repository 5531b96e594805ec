package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"
)

// ErrExhausted, returned by a Source's Next, stops that worker before the
// deadline: the scenario has used up what it was given (tokens to revoke,
// say). The result says so instead of counting an error.
var ErrExhausted = errors.New("bench: scenario exhausted")

// Source produces one worker's requests. A worker calls Next, sends the
// request, reads the whole body and calls Result, one request at a time,
// so a Source needs no locking of its own state.
type Source interface {
	// Next builds the next request.
	Next() (*http.Request, error)
	// Result sees the status and body of the answer to the last request
	// (for a transport error, status 0 and a nil body). A stateful scenario
	// carries state forward here; an error it returns counts as an error of
	// kind "check: …" (the answer was 2xx but not what was expected).
	Result(status int, body []byte) error
}

// Scenario is one kind of request.
type Scenario struct {
	Name string
	// Worker returns worker i's source; called for every worker before
	// the clock starts, so set-up cost stays out of the figures.
	Worker func(i int) Source
}

// Stateless makes a Source from a request builder whose answers need no
// reading beyond their status; check, if not nil, vets each 2xx body.
func Stateless(next func() (*http.Request, error), check func(body []byte) error) Source {
	return &stateless{next, check}
}

type stateless struct {
	next  func() (*http.Request, error)
	check func([]byte) error
}

func (s *stateless) Next() (*http.Request, error) { return s.next() }
func (s *stateless) Result(status int, body []byte) error {
	if s.check == nil || status < 200 || status > 299 {
		return nil
	}
	return s.check(body)
}

// Config says how hard and how long to drive a scenario.
type Config struct {
	Connections int           // workers, each with one keep-alive connection
	Duration    time.Duration // how long workers start new requests
	// Timeout bounds one request; a scenario therefore ends by
	// Duration+Timeout at the latest. Zero: 10 s.
	Timeout time.Duration
}

// Result is what one scenario measured. Rates and latencies count
// successful (2xx) requests only, so fast failures cannot flatter them;
// errors are counted apart, by kind.
type Result struct {
	Scenario    string            `json:"scenario"`
	Connections int               `json:"connections"`
	Elapsed     time.Duration     `json:"elapsed_ns"`
	Requests    uint64            `json:"requests"`
	RPS         float64           `json:"requests_per_second"`
	P50         time.Duration     `json:"p50_ns"`
	P99         time.Duration     `json:"p99_ns"`
	Max         time.Duration     `json:"max_ns"`
	Mean        time.Duration     `json:"mean_ns"`
	Errors      uint64            `json:"errors"`
	ErrorKinds  map[string]uint64 `json:"error_kinds,omitempty"`
	Ratio       float64           `json:"ratio_to_ceiling,omitempty"`
	// ServerCPU is the CPU time (user and system) the server process
	// used during the scenario, when the bench could read it: divided by
	// the requests it is what a request costs, a figure that shared,
	// noisy machines disturb far less than requests per second.
	ServerCPU time.Duration `json:"server_cpu_ns,omitempty"`
	// Note says why a scenario stopped early or was skipped.
	Note string `json:"note,omitempty"`
	// Hist holds the merged latencies, for callers that want more
	// quantiles; it is not part of the JSON output.
	Hist *Histogram `json:"-"`
}

// NewClient returns an HTTP client for one worker: its own Transport, so
// its keep-alive connection is its own and workers never queue on a shared
// pool, and a dialer that refuses anything but a loopback address, so a
// mistyped target can never send load over a network.
func NewClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("bench: refusing to connect to %s: only loopback addresses are allowed", address)
			}
			return nil
		}}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        1,
			MaxIdleConnsPerHost: 1,
			MaxConnsPerHost:     1,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
		// A redirect would be a bug in the scenario; measure it as an answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// workerStats is one worker's tally; merged after every worker stops.
type workerStats struct {
	hist      Histogram
	errors    map[string]uint64
	stopped   time.Time
	exhausted bool
	fatal     error
}

// Run drives sc with cfg.Connections workers until cfg.Duration has passed
// (or every worker is exhausted, or ctx ends) and returns what it measured.
// Workers stop starting requests at the deadline and finish the one in
// flight, bounded by the request timeout, so Run always returns.
func Run(ctx context.Context, cfg Config, sc Scenario) Result {
	conns := max(cfg.Connections, 1)
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	sources := make([]Source, conns)
	clients := make([]*http.Client, conns)
	for i := range conns {
		sources[i] = sc.Worker(i)
		clients[i] = NewClient(timeout)
	}
	stats := make([]*workerStats, conns)
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for i := range conns {
		st := &workerStats{errors: map[string]uint64{}}
		stats[i] = st
		wg.Go(func() { work(ctx, deadline, clients[i], sources[i], st) })
	}
	wg.Wait()
	for _, c := range clients {
		c.CloseIdleConnections()
	}

	res := Result{Scenario: sc.Name, Connections: conns, ErrorKinds: map[string]uint64{}, Hist: &Histogram{}}
	var last time.Time
	exhausted := 0
	for _, st := range stats {
		res.Hist.Merge(&st.hist)
		for k, n := range st.errors {
			res.ErrorKinds[k] += n
			res.Errors += n
		}
		if st.stopped.After(last) {
			last = st.stopped
		}
		if st.exhausted {
			exhausted++
		}
		if st.fatal != nil && res.Note == "" {
			res.Note = st.fatal.Error()
		}
	}
	if len(res.ErrorKinds) == 0 {
		res.ErrorKinds = nil
	}
	// The rate is over the time the workers actually ran: a scenario that
	// ran out of work early is not diluted by idle time.
	res.Elapsed = last.Sub(start)
	res.Requests = res.Hist.Count()
	if res.Elapsed > 0 {
		res.RPS = float64(res.Requests) / res.Elapsed.Seconds()
	}
	res.P50, res.P99, res.Max, res.Mean = res.Hist.Quantile(0.50), res.Hist.Quantile(0.99), res.Hist.Max(), res.Hist.Mean()
	if exhausted > 0 && res.Note == "" {
		res.Note = fmt.Sprintf("%d of %d workers ran out of work after %v", exhausted, conns, res.Elapsed.Round(time.Millisecond))
	}
	if ctx.Err() != nil && res.Note == "" {
		res.Note = "interrupted"
	}
	return res
}

// maxBody bounds what a worker reads of one answer; the scenarios' answers
// are a few KiB at most, and a runaway body must not grow memory.
const maxBody = 4 << 20

func work(ctx context.Context, deadline time.Time, client *http.Client, src Source, st *workerStats) {
	defer func() { st.stopped = time.Now() }()
	buf := make([]byte, 0, 16<<10)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		req, err := src.Next()
		if errors.Is(err, ErrExhausted) {
			st.exhausted = true
			return
		}
		if err != nil {
			// A request that cannot even be built will not build next
			// time either: stop this worker and say why.
			st.fatal = err
			return
		}
		req = req.WithContext(ctx)
		t0 := time.Now()
		resp, err := client.Do(req)
		var status int
		if err == nil {
			status = resp.StatusCode
			buf, err = readBody(buf[:0], resp.Body)
			resp.Body.Close()
		}
		lat := time.Since(t0)
		if err != nil {
			if ctx.Err() != nil {
				return // interrupted: not the server's error
			}
			st.errors[transportKind(err)]++
			src.Result(0, nil)
			continue
		}
		if status < 200 || status > 299 {
			st.errors[fmt.Sprintf("HTTP %d", status)]++
			src.Result(status, buf)
			continue
		}
		if err := src.Result(status, buf); err != nil {
			st.errors["check: "+err.Error()]++
			continue
		}
		st.hist.Record(lat)
	}
}

func readBody(buf []byte, r io.Reader) ([]byte, error) {
	lr := io.LimitReader(r, maxBody+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if len(buf) > maxBody {
				return buf, fmt.Errorf("body larger than %d bytes", maxBody)
			}
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// transportKind names a transport error by its cause, so a table of
// errors reads "timeout: 3, connection reset: 1" rather than raw text.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	default:
		return "transport"
	}
}

// SortedKinds lists error kinds, most frequent first.
func SortedKinds(kinds map[string]uint64) []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if kinds[out[i]] != kinds[out[j]] {
			return kinds[out[i]] > kinds[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}
