package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/tokend/tokend/internal/testutil"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend"
)

type sample struct {
	Name   string     `json:"name"`
	Count  int        `json:"count"`
	At     *time.Time `json:"at,omitempty"`
	Nested *struct {
		On bool `json:"on"`
	} `json:"nested,omitempty"`
	Skipped string `json:"-"`
}

func decodeString(t *testing.T, body string) (sample, error) {
	t.Helper()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	var s sample
	err := DecodeJSON(httptest.NewRecorder(), r, &s)
	return s, err
}

func TestDecodeJSON(t *testing.T) {
	huge := `{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	tests := []struct {
		name      string
		body      string
		wantField string // "" means success
		wantMsg   string
	}{
		{"OK", `{"name":"a","count":2}`, "", ""},
		{"OKNull", `null`, "", ""},
		{"ErrEmpty", ``, "body", "empty"},
		{"ErrBlank", " \n\t", "body", "empty"},
		{"ErrMalformed", `{"name": x}`, "body", "offset 9"},
		{"ErrTruncated", `{"name":"a"`, "body", "offset 11"},
		{"ErrTrailing", `{"name":"a"} {}`, "body", "single JSON value"},
		{"ErrTrailingGarbage", `{"name":"a"}x`, "body", "single JSON value"},
		{"ErrUnknownField", `{"name":"a","colour":"red"}`, "colour", `unknown field "colour"`},
		{"ErrUnknownNested", `{"nested":{"off":true}}`, "off", "unknown field"},
		{"ErrWrongType", `{"count":"two"}`, "count", "must be an integer"},
		{"ErrWrongTypeNested", `{"nested":{"on":1}}`, "nested.on", "true or false"},
		{"ErrOutOfRange", `{"count":1e400}`, "count", "integer"},
		{"ErrNotObject", `[1,2]`, "body", "must be an object"},
		{"ErrBadTime", `{"name":"a","at":"yesterday"}`, "at", "RFC 3339"},
		{"ErrCaseMismatch", `{"Name":"a"}`, "Name", "case-sensitive"},
		{"ErrIgnoredField", `{"Skipped":"a"}`, "Skipped", "unknown field"},
		{"ErrDuplicate", `{"name":"a","name":"b"}`, "name", "more than once"},
		{"ErrTooLarge", huge, "body", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeString(t, tt.body)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("DecodeJSON(%.60q) = %v, want success", tt.body, err)
				}
				if tt.body != "null" && got.Name != "a" {
					t.Errorf("decoded %+v", got)
				}
				return
			}
			if tokend.ErrorCode(err) != tokend.EINVALID {
				t.Fatalf("DecodeJSON(%.60q) = %v, want an invalid error", tt.body, err)
			}
			if f := tokend.ErrorField(err); f != tt.wantField {
				t.Errorf("field = %q, want %q (%v)", f, tt.wantField, err)
			}
			if m := tokend.ErrorMessage(err); !strings.Contains(m, tt.wantMsg) {
				t.Errorf("message = %q, want it to mention %q", m, tt.wantMsg)
			}
		})
	}
}

func TestDecodeOptionalJSON(t *testing.T) {
	var s sample
	present, err := DecodeOptionalJSON(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), &s)
	if present || err != nil {
		t.Fatalf("no body: present=%v err=%v, want false, nil", present, err)
	}
	present, err = DecodeOptionalJSON(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(`{"name":"a"}`)), &s)
	if !present || err != nil || s.Name != "a" {
		t.Fatalf("with body: present=%v err=%v s=%+v", present, err, s)
	}
	_, err = DecodeOptionalJSON(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(`{"nam":"a"}`)), &s)
	if tokend.ErrorField(err) != "nam" {
		t.Fatalf("unknown field: err=%v", err)
	}
}

func TestQuery(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		want      map[string]string
		wantField string
	}{
		{"OK", "a=1&b=x%2Fy", map[string]string{"a": "1", "b": "x/y"}, ""},
		{"OKEmpty", "", map[string]string{}, ""},
		{"OKEmptyValue", "a=", map[string]string{"a": ""}, ""},
		{"ErrUnknown", "a=1&c=2", nil, "c"},
		{"ErrUnknownSeveral", "z=1&c=2", nil, "c"},
		{"ErrRepeated", "a=1&a=2", nil, "a"},
		{"ErrMalformed", "a=%zz", nil, "query"},
		{"ErrSemicolon", "a=1;b=2", nil, "query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x?"+tt.query, nil)
			got, err := Query(r, "a", "b")
			if tt.wantField != "" {
				if tokend.ErrorCode(err) != tokend.EINVALID || tokend.ErrorField(err) != tt.wantField {
					t.Fatalf("Query(%q) = %v, %v; want invalid %q", tt.query, got, err, tt.wantField)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("Query(%q) = %v, %v; want %v", tt.query, got, err, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("Query(%q)[%q] = %q, want %q", tt.query, k, got[k], v)
				}
			}
		})
	}
}

// logLines parses the JSON log lines written so far.
func logLines(t *testing.T, b *testutil.SyncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func testRender(w http.ResponseWriter, r *http.Request, err error) {
	msg := tokend.ErrorMessage(err)
	status := http.StatusBadRequest
	if tokend.ErrorCode(err) == tokend.EINTERNAL {
		status = http.StatusInternalServerError
	}
	WriteJSON(w, status, map[string]string{"error": tokend.ErrorCode(err), "message": msg})
}

func newTestServer(t *testing.T, wrapMux bool) (*httptest.Server, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	a := &Adapter{Logger: logger, Render: testRender}
	mux := http.NewServeMux()
	route := func(pattern string, h HandlerFunc) {
		mux.Handle(pattern, Middleware(logger, a.Handler(h)))
	}
	route("GET /ok/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return WriteJSON(w, http.StatusOK, map[string]string{"name": r.PathValue("name"), "id": RequestID(r.Context())})
	})
	route("GET /invalid", func(w http.ResponseWriter, r *http.Request) error {
		return tokend.Invalid("thing", "is wrong")
	})
	route("GET /internal", func(w http.ResponseWriter, r *http.Request) error {
		return errors.New("database password is hunter2")
	})
	route("GET /panic", func(w http.ResponseWriter, r *http.Request) error {
		panic("boom: hunter2")
	})
	route("GET /late", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusAccepted)
		return errors.New("failed after writing")
	})
	mux.Handle("GET /raw-panic", Middleware(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("raw")
	})))
	var h http.Handler = mux
	if wrapMux {
		h = Middleware(logger, mux)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, logs
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res, b.String()
}

func TestRequestIDs(t *testing.T) {
	srv, _ := newTestServer(t, false)
	res, body := get(t, srv.URL+"/ok/x", nil)
	gen := res.Header.Get(RequestIDHeader)
	if len(gen) < 16 || !strings.Contains(body, gen) {
		t.Fatalf("generated id %q not echoed to the handler: %s", gen, body)
	}
	res2, _ := get(t, srv.URL+"/ok/x", nil)
	if res2.Header.Get(RequestIDHeader) == gen {
		t.Fatalf("two requests got the same id %q", gen)
	}
	res, body = get(t, srv.URL+"/ok/x", map[string]string{RequestIDHeader: "caller-id-42"})
	if res.Header.Get(RequestIDHeader) != "caller-id-42" || !strings.Contains(body, "caller-id-42") {
		t.Fatalf("caller's id not kept: header %q body %s", res.Header.Get(RequestIDHeader), body)
	}
	for _, bad := range []string{`has space`, `quote"`, strings.Repeat("a", 200)} {
		res, _ = get(t, srv.URL+"/ok/x", map[string]string{RequestIDHeader: bad})
		if got := res.Header.Get(RequestIDHeader); got == bad || got == "" {
			t.Errorf("unsafe id %q: got %q, want a generated one", bad, got)
		}
	}
}

func TestLogging(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		name := "PerRoute"
		if wrap {
			name = "WrappedTwice"
		}
		t.Run(name, func(t *testing.T) {
			srv, logs := newTestServer(t, wrap)
			res, _ := get(t, srv.URL+"/ok/alice-secret-subject?q=tkk_secretvalue", map[string]string{
				"Authorization": "Bearer tkk_secretvalue", RequestIDHeader: "rid-1",
			})
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			lines := logLines(t, logs)
			if len(lines) != 1 {
				t.Fatalf("got %d log lines, want 1: %v", len(lines), lines)
			}
			l := lines[0]
			want := map[string]any{"msg": "request", "method": "GET", "route": "GET /ok/{name}", "status": 200.0, "request_id": "rid-1"}
			for k, v := range want {
				if l[k] != v {
					t.Errorf("log %s = %v, want %v", k, l[k], v)
				}
			}
			if _, ok := l["duration"]; !ok {
				t.Errorf("log line has no duration: %v", l)
			}
			for _, secret := range []string{"tkk_secretvalue", "alice-secret-subject", "Authorization"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("log contains %q: %s", secret, logs.String())
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	srv, logs := newTestServer(t, false)
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string // substring
		wantLogged bool   // an error line with the request id
	}{
		{"/invalid", 400, `"message":"is wrong"`, false},
		{"/internal", 500, `"message":"internal error"`, true},
		{"/panic", 500, `"message":"internal error"`, true},
		{"/late", 202, ``, true},
		{"/raw-panic", 500, `"error":"internal"`, true},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			rid := "rid" + strings.ReplaceAll(tt.path, "/", "-")
			res, body := get(t, srv.URL+tt.path, map[string]string{RequestIDHeader: rid})
			if res.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Fatalf("GET %s = %d %s, want %d with %s", tt.path, res.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if strings.Contains(body, "hunter2") || strings.Contains(body, "boom") {
				t.Errorf("body leaks the internal error: %s", body)
			}
			var logged, requestLine bool
			for _, l := range logLines(t, logs) {
				if l["request_id"] != rid {
					continue
				}
				if l["level"] == "ERROR" && l["msg"] != "request" {
					logged = true
				}
				if l["msg"] == "request" {
					requestLine = true
					if l["status"] != float64(tt.wantStatus) {
						t.Errorf("request line status %v, want %d", l["status"], tt.wantStatus)
					}
				}
			}
			if logged != tt.wantLogged {
				t.Errorf("error logged with request id: %v, want %v\n%s", logged, tt.wantLogged, logs.String())
			}
			if !requestLine {
				t.Errorf("no request line for %s", rid)
			}
		})
	}
	if !strings.Contains(logs.String(), "hunter2") {
		t.Errorf("the internal error's detail should be in the log for operators")
	}
}
