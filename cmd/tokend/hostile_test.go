package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/testutil"
)

// startShortTimeouts starts the real server with short client timeouts.
func startShortTimeouts(t *testing.T) *server {
	t.Helper()
	stderr := &testutil.SyncBuffer{}
	cfg, err := parseServeFlags("serve", []string{"--addr", "127.0.0.1:0", "--store", "sqlite:" + filepath.Join(t.TempDir(), "h.db")}, stderr, mapEnv(map[string]string{"TOKEND_BOOTSTRAP_KEY": testKey}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.timeouts = serverTimeouts{ReadHeader: 200 * time.Millisecond, Read: 500 * time.Millisecond}
	s, err := startServer(context.Background(), cfg, stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.shutdown(context.Background()) })
	return s
}

// closedByServer reads from conn until the server ends the connection,
// failing the test if it is still open after a generous guard.
func closedByServer(t *testing.T, conn net.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a stalled connection open")
	}
	return string(got)
}

// TestSlowClients: a client that never finishes its headers, or trickles
// its body, is cut off by the server's timeouts instead of holding a
// connection (and a goroutine) forever.
func TestSlowClients(t *testing.T) {
	s := startShortTimeouts(t)
	addr := strings.TrimPrefix(s.url, "http://")
	t.Run("HeadersNeverEnd", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "POST /oauth/1/token HTTP/1.1\r\nHost: tokend\r\nX-Slow: ")
		closedByServer(t, conn)
	})
	t.Run("BodyTrickles", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "POST /v1/services HTTP/1.1\r\nHost: tokend\r\nAuthorization: Bearer "+testKey+
			"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
		done := make(chan struct{})
		go func() { // one byte now and then, until the server gives up
			defer close(done)
			for range 100 {
				if _, err := io.WriteString(conn, " "); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		answer := closedByServer(t, conn)
		<-done
		if answer != "" && !strings.HasPrefix(answer, "HTTP/1.1 400") {
			t.Fatalf("answer to a trickled body: %q", answer)
		}
	})
	t.Run("OKNormalClientMeanwhile", func(t *testing.T) {
		res, err := http.Get(s.url + "/healthz")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%v %v", res, err)
		}
		res.Body.Close()
	})
}

// TestOversizedRequests: headers and bodies beyond the bounds are refused
// without being buffered whole.
func TestOversizedRequests(t *testing.T) {
	s := startShortTimeouts(t)
	t.Run("Headers", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.url+"/v1/services", nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("X-Padding", strings.Repeat("p", maxHeaderBytes+4096))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("%d, want 431", res.StatusCode)
		}
	})
	for _, tt := range []struct {
		name, path, ctype string
		size              int
	}{
		{"JSONBody", "/v1/services", "application/json", httpx.MaxBodyBytes + 1},
		{"FormBody", "/oauth/1/token", "application/x-www-form-urlencoded", 64<<10 + 1},
		{"AuthleteBody", "/api/1/auth/introspection", "application/json", httpx.MaxBodyBytes + 1},
		{"KustvaktBody", "/api/v1.0/oauth2/revoke", "application/x-www-form-urlencoded", 64<<10 + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Streamed, so the test itself does not hold it either.
			pr, pw := io.Pipe()
			go func() {
				w := bufio.NewWriter(pw)
				w.WriteString("a=")
				for range tt.size {
					if w.WriteByte('x') != nil {
						break
					}
				}
				w.Flush()
				pw.Close()
			}()
			req, _ := http.NewRequest("POST", s.url+tt.path, pr)
			req.Header.Set("Content-Type", tt.ctype)
			req.Header.Set("Authorization", "Bearer "+testKey)
			res, err := http.DefaultClient.Do(req)
			pr.CloseWithError(os.ErrClosed)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "larger than") {
				t.Fatalf("%d %s, want 400 naming the size", res.StatusCode, body)
			}
		})
	}
}
