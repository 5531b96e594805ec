// Package pgtest gives tests a PostgreSQL database of their own, on the
// server the TOKEND_TEST_POSTGRES variable names: a URL of a role that may
// create databases, e.g.
//
//	TOKEND_TEST_POSTGRES=postgres://tokend@127.0.0.1:5432/postgres?sslmode=disable
//
// scripts/test.sh starts a throwaway server and sets it. Without one, tests
// that need PostgreSQL fail on CI (CI=true), where a skip would pass
// silently, and are skipped elsewhere.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the server's URL.
const EnvVar = "TOKEND_TEST_POSTGRES"

// Unavailable reports a missing server: a failure on CI, a skip elsewhere.
func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s: PostgreSQL is required on CI (scripts/test.sh starts a throwaway server and sets %s)", msg, EnvVar)
	}
	tb.Skipf("%s; skipping a test that needs PostgreSQL (set %s, or run scripts/test.sh, which starts a server)", msg, EnvVar)
}

// AdminURL returns the server's URL, or reports it unavailable.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		Unavailable(tb, "%s is not set", EnvVar)
	}
	return u
}

// NewDatabase creates an empty database, dropped when the test ends, and
// returns its URL.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	admin := AdminURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		Unavailable(tb, "cannot connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(context.Background())
	var b [6]byte
	rand.Read(b[:])
	name := "tokend_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("pgtest: %s is not a URL: %v", EnvVar, err)
	}
	u.Path = "/" + name
	return u.String()
}
