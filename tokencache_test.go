package tokend

import (
	"testing"
	"time"
)

func TestTokenCachePutAfterChangeIsDropped(t *testing.T) {
	c := newTokenCache(10, time.Minute)
	tok := &Token{ID: 7, ServiceID: 1, AccessHash: HashSecret("a")}
	before := c.serviceGenerations(1) // a reader starts…
	c.changedToken(1, 7)              // …a write to the token commits…
	c.put(tok, before)                // …and the reader files what it read before
	if _, ok := c.get(tok.AccessHash); ok {
		t.Fatal("an entry read before a committed change was served")
	}
	c.put(tok, c.serviceGenerations(1))
	if _, ok := c.get(tok.AccessHash); !ok {
		t.Fatal("a fresh entry was not served")
	}
	c.changedService(1)
	if _, ok := c.get(tok.AccessHash); ok {
		t.Fatal("a service-wide change left the entry in place")
	}
}

func TestTokenCacheShardsAndBounds(t *testing.T) {
	c := newTokenCache(16, time.Minute)
	a := &Token{ID: 1, ServiceID: 1, AccessHash: HashSecret("a")}
	b := &Token{ID: 2, ServiceID: 1, AccessHash: HashSecret("b")}
	other := &Token{ID: 1, ServiceID: 2, AccessHash: HashSecret("c")}
	for _, tok := range []*Token{a, b, other} {
		c.put(tok, c.serviceGenerations(tok.ServiceID))
	}
	c.changedToken(1, a.ID)
	if _, ok := c.get(a.AccessHash); ok {
		t.Fatal("the changed token is still served")
	}
	if _, ok := c.get(b.AccessHash); !ok {
		t.Fatal("a token in another shard was dropped")
	}
	if _, ok := c.get(other.AccessHash); !ok {
		t.Fatal("another service's token was dropped")
	}
	for i := range 100 {
		tok := &Token{ID: int64(i + 10), ServiceID: 3, AccessHash: HashSecret(string(rune(i)))}
		c.put(tok, c.serviceGenerations(3))
	}
	if len(c.entries) > 16 {
		t.Fatalf("cache holds %d entries, bound is 16", len(c.entries))
	}
	var off *tokenCache = newTokenCache(-1, time.Minute)
	off.put(a, off.serviceGenerations(1))
	if _, ok := off.get(a.AccessHash); ok || off != nil {
		t.Fatal("a disabled cache served an entry")
	}
}

func TestTokenCacheTTL(t *testing.T) {
	c := newTokenCache(10, time.Millisecond)
	tok := &Token{ID: 1, ServiceID: 1, AccessHash: HashSecret("a")}
	c.put(tok, c.serviceGenerations(1))
	time.Sleep(5 * time.Millisecond)
	if _, ok := c.get(tok.AccessHash); ok {
		t.Fatal("an entry older than the TTL was served")
	}
}
