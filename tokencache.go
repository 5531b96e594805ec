package tokend

import (
	"bytes"
	"sync"
	"time"
)

// Resource servers introspect the same tokens again and again, so the core
// keeps recently introspected access tokens in memory. It must never answer
// from a state older than a committed change made through this core, so
// entries are checked against generations:
//
//   - Every change to a token (revocation, update, rotation, deletion)
//     bumps a generation after its write commits: the generation of the
//     token's shard for a change to one token, every shard of the service
//     for a change to many (revoke by client or subject).
//   - A reader notes the generation before it reads the store and files the
//     entry under it; an entry whose generation moved on is ignored. A read
//     that raced a write therefore never outlives it.
//
// Expiry needs no invalidation: liveness is judged at every lookup. Changes
// made by another process are bounded by the TTL (and, with several nodes
// on one database, by the cross-node invalidation of the store).

// DefaultTokenCacheSize bounds the number of cached access tokens (about
// 400 bytes each, encoded, with the map's overhead: 25 MB in all): a
// resource-server fleet's working set of live tokens, not the whole table.
const DefaultTokenCacheSize = 64_000

// DefaultTokenCacheTTL is how long a cached token is trusted against
// changes from other processes. Longer than the service and client TTL:
// a resource server's working set should stay cached between its requests.
const DefaultTokenCacheTTL = 30 * time.Second

const tokenShards = 64 // per service: a rotation invalidates 1/64 of the service's entries

type tokenEntry struct {
	data          []byte // the token, encoded: see tokencodec.go
	serviceID, id int64
	gen           uint64
	loadedAt      time.Time
}

type tokenCache struct {
	ttl     time.Duration
	max     int
	mu      sync.Mutex
	entries map[Hash]tokenEntry
	gens    map[int64]*[tokenShards]uint64 // per service
}

func newTokenCache(size int, ttl time.Duration) *tokenCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultTokenCacheSize
	}
	return &tokenCache{ttl: ttl, max: size, entries: make(map[Hash]tokenEntry), gens: make(map[int64]*[tokenShards]uint64)}
}

func shardOf(tokenID int64) uint8 { return uint8(uint64(tokenID) % tokenShards) }

// serviceGenerations snapshots every shard's generation of a service. A
// reader that does not yet know which token it will find takes this.
func (c *tokenCache) serviceGenerations(sid int64) *[tokenShards]uint64 {
	if c == nil {
		return nil
	}
	var g [tokenShards]uint64
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur := c.gens[sid]; cur != nil {
		g = *cur
	}
	return &g
}

func (c *tokenCache) get(h Hash) (*Token, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.entries[h]
	if ok && (e.gen != c.gen(e.serviceID, e.id) || time.Since(e.loadedAt) >= c.ttl) {
		delete(c.entries, h)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	// Entries are never changed once filed, so decoding needs no lock.
	t, err := decodeToken(e.data)
	if err != nil {
		return nil, false // cannot happen short of a bug: the store answers instead
	}
	return t, true
}

// put files a token read from the store under the generations taken
// before the read; it is dropped if a change has committed since.
func (c *tokenCache) put(t *Token, before *[tokenShards]uint64) {
	if c == nil || before == nil {
		return
	}
	// Cloned to its exact length: the cache keeps it for long.
	var scratch [512]byte
	data := bytes.Clone(appendToken(scratch[:0], t))
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := before[shardOf(t.ID)]
	if c.gen(t.ServiceID, t.ID) != gen {
		return
	}
	if len(c.entries) >= c.max {
		// Evict an arbitrary eighth: map iteration order is random, which
		// is as good as LRU for a working set larger than the cache and
		// costs no bookkeeping on the hot path.
		n := c.max / 8
		for k := range c.entries {
			delete(c.entries, k)
			if n--; n <= 0 {
				break
			}
		}
	}
	c.entries[t.AccessHash] = tokenEntry{data: data, serviceID: t.ServiceID, id: t.ID, gen: gen, loadedAt: time.Now()}
}

// changedToken is called after a write to one token commits.
func (c *tokenCache) changedToken(sid, tokenID int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shards(sid)[shardOf(tokenID)]++
}

// changedService is called after a write to any number of a service's
// tokens commits.
func (c *tokenCache) changedService(sid int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.shards(sid)
	for i := range g {
		g[i]++
	}
}

// gen returns the generation of a token's shard; c.mu is held.
func (c *tokenCache) gen(sid, tokenID int64) uint64 {
	if g := c.gens[sid]; g != nil {
		return g[shardOf(tokenID)]
	}
	return 0
}

// shards returns a service's generations, creating them; c.mu is held.
func (c *tokenCache) shards(sid int64) *[tokenShards]uint64 {
	g := c.gens[sid]
	if g == nil {
		g = new([tokenShards]uint64)
		c.gens[sid] = g
	}
	return g
}
