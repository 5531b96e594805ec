package httpx

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/testutil"
)

type seenRequest struct {
	route  string
	status int
}

type requestRecorder struct {
	mu   sync.Mutex
	seen []seenRequest
}

func (r *requestRecorder) ObserveRequest(route string, status int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d <= 0 {
		panic("a request took no time")
	}
	r.seen = append(r.seen, seenRequest{route, status})
}

// TestInstrument: the outer middleware tells its observer of every request,
// matched or not, by pattern; the log line names the service from the path
// or from what the surface recorded, and only when it is a numeric id.
func TestInstrument(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	rec := &requestRecorder{}
	mux := http.NewServeMux()
	mux.Handle("GET /v1/services/{sid}/tokens", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	mux.Handle("GET /api/{serviceId}/x", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	mux.Handle("POST /dialect", Middleware(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetService(r.Context(), 77)
		w.WriteHeader(http.StatusCreated)
	})))
	srv := httptest.NewServer(Instrument(logger, rec, mux))
	defer srv.Close()

	for _, req := range []struct{ method, path string }{
		{"GET", "/v1/services/42/tokens"},
		{"GET", "/v1/services/abc/tokens"},
		{"GET", "/api/9/x"},
		{"POST", "/dialect"},
		{"GET", "/no/such/path"},
	} {
		r, _ := http.NewRequest(req.method, srv.URL+req.path, nil)
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	want := []seenRequest{
		{"GET /v1/services/{sid}/tokens", 200},
		{"GET /v1/services/{sid}/tokens", 200},
		{"GET /api/{serviceId}/x", 429},
		{"POST /dialect", 201},
		{"", 404},
	}
	if !slices.Equal(rec.seen, want) {
		t.Fatalf("observed %v, want %v", rec.seen, want)
	}
	lines := logLines(t, logs)
	if len(lines) != len(want) {
		t.Fatalf("%d log lines for %d requests: %v", len(lines), len(want), lines)
	}
	wantService := []any{42.0, nil, 9.0, 77.0, nil}
	for i, l := range lines {
		if l["service"] != wantService[i] {
			t.Errorf("line %d (%v): service = %v, want %v", i, l["route"], l["service"], wantService[i])
		}
	}
}
