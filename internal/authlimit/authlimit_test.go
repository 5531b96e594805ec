package authlimit

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokend/tokend"
	"github.com/tokend/tokend/internal/testutil"
	"github.com/tokend/tokend/sqlite"
)

func TestBucketsBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newBuckets(Limit{Burst: 2, Every: time.Hour}, 100)
	for i := range 10_000 {
		f.fail(fmt.Sprint("guess-", i), now.Add(time.Duration(i)*time.Millisecond))
		if n := f.len(); n > 100 {
			t.Fatalf("after %d keys the limiter holds %d entries, more than its bound", i+1, n)
		}
	}
	later := now.Add(20 * time.Second)
	f.fail("victim", later)
	f.fail("victim", later)
	if f.wait("victim", later) == 0 {
		t.Fatal("an exhausted key is not limited")
	}
	for i := range 50 {
		f.fail(fmt.Sprint("more-", i), later)
	}
	if f.wait("victim", later) == 0 {
		t.Fatal("the most recent offender was evicted before older ones")
	}
	// Entries whose bucket refilled are the first to go.
	refilled := later.Add(3 * time.Hour)
	for i := range 100 {
		f.fail(fmt.Sprint("fresh-", i), refilled)
	}
	if n := f.len(); n > 100 {
		t.Fatalf("%d entries", n)
	}
	if f.wait("fresh-99", refilled) != 0 {
		t.Fatal("one failure of a burst of 2 must not limit")
	}
}

func TestRemoteHost(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7:5555", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:5555", "192.0.2.7"},
		{"[2001:db8:1:2::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::9]:80", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:443", "2001:db8:1:3::/64"},
		{"[fe80::1%eth0]:22", "fe80::/64"},
		{"not an address", "not an address"},
	} {
		if got := RemoteHost(&http.Request{RemoteAddr: tc.addr}); got != tc.want {
			t.Errorf("RemoteHost(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

func from(addr string) *http.Request {
	r, _ := http.NewRequest("POST", "http://x/", nil)
	r.RemoteAddr = addr + ":1234"
	return r
}

// TestLimiter checks the two buckets, the refusal and that the event is
// recorded once per exhaustion.
func TestLimiter(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	core := tokend.New(store, tokend.Config{Now: clk.Now})
	l := New(Options{Credential: Limit{Burst: 2, Every: time.Minute}, Address: Limit{Burst: 3, Every: 10 * time.Second}, Now: clk.Now})
	audit := func() []*tokend.AuditEntry {
		p, err := store.ListAudit(context.Background(), tokend.AuditFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return p.Entries
	}
	fail := func(addr, cred string) {
		t.Helper()
		if err := l.Failed(from(addr), core, Failure{ServiceID: 7, Credential: cred, Actor: "client_id:" + cred, Surface: "test"}); err != nil {
			t.Fatal(err)
		}
	}

	fail("192.0.2.1", "a")
	if err := l.Check(from("192.0.2.1"), "a"); err != nil || len(audit()) != 0 {
		t.Fatalf("one failure: %v, %d entries; want neither", err, len(audit()))
	}
	fail("192.0.2.1", "a")
	t.Run("ErrCredentialLimited", func(t *testing.T) {
		err := l.Check(from("192.0.2.9"), "a") // from anywhere
		ref, ok := err.(*Refused)
		if !ok || ref.RetryAfter != 60 || tokend.ErrorCode(err) != tokend.EUNAUTHORIZED {
			t.Fatalf("Check = %v, want a refusal for 60 s", err)
		}
		es := audit()
		if len(es) != 1 || es[0].Actor != "client_id:a" || es[0].Action != tokend.AuditAuthFailures || es[0].ServiceID != 7 {
			t.Fatalf("audit %+v, want one entry for client_id:a", es)
		}
	})
	t.Run("OKOtherCredentialSameAddress", func(t *testing.T) {
		if err := l.Check(from("192.0.2.1"), "b"); err != nil {
			t.Fatalf("another client from the same address: %v", err)
		}
	})
	fail("192.0.2.1", "b")
	t.Run("ErrAddressLimited", func(t *testing.T) {
		if err := l.Check(from("192.0.2.1"), "c"); err == nil {
			t.Fatal("a third failure from the address did not limit it")
		}
		if err := l.Check(from("192.0.2.2"), "c"); err != nil {
			t.Fatalf("another address: %v", err)
		}
		es := audit()
		if len(es) != 2 || es[0].Actor != "address:192.0.2.1" {
			t.Fatalf("audit %+v, want the address recorded", es)
		}
	})
	t.Run("RecordedOncePerExhaustion", func(t *testing.T) {
		l.Fail(from("192.0.2.1"), "a") // refused callers are not counted, but if they were...
		if n := len(audit()); n != 2 {
			t.Fatalf("%d entries", n)
		}
	})
	t.Run("OKAfterRefill", func(t *testing.T) {
		clk.Advance(time.Minute)
		if err := l.Check(from("192.0.2.1"), "a"); err != nil {
			t.Fatalf("after a minute: %v", err)
		}
	})
}
