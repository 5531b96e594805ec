package tokend

import (
	"context"
	"sync"
	"time"
)

// The OAuth endpoints look up a service and a client on every request;
// they change rarely, so the core keeps them in memory. Every write through
// this core drops the entry at once; CacheTTL bounds how long a change made
// by another process (another node on a shared database) can go unseen.

// DefaultCacheTTL is how long a cached service or client is trusted.
const DefaultCacheTTL = 5 * time.Second

type cacheEntry[T any] struct {
	value    T
	loadedAt time.Time
}

type cache struct {
	ttl      time.Duration
	mu       sync.RWMutex
	services map[int64]cacheEntry[*Service]
	clients  map[int64]cacheEntry[*Client]
	byWire   map[clientKey]int64 // (service, client_id) → numeric id

	issuers       map[string]int64 // custom issuer path → service id
	issuersLoaded time.Time
}

type clientKey struct {
	sid      int64
	clientID string
}

func newCache(ttl time.Duration) *cache {
	return &cache{ttl: ttl, services: map[int64]cacheEntry[*Service]{},
		clients: map[int64]cacheEntry[*Client]{}, byWire: map[clientKey]int64{}}
}

func (c *cache) fresh(loadedAt time.Time) bool { return time.Since(loadedAt) < c.ttl }

func (c *cache) service(id int64) (*Service, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.services[id]
	return e.value, ok && c.fresh(e.loadedAt)
}

func (c *cache) putService(s *Service) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.services[s.ID] = cacheEntry[*Service]{s, time.Now()}
}

func (c *cache) forgetService(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.services, id)
}

func (c *cache) client(id int64) (*Client, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.clients[id]
	return e.value, ok && c.fresh(e.loadedAt)
}

func (c *cache) clientByWire(sid int64, clientID string) (*Client, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.byWire[clientKey{sid, clientID}]
	if !ok {
		return nil, false
	}
	e, ok := c.clients[id]
	return e.value, ok && c.fresh(e.loadedAt)
}

func (c *cache) putClient(cl *Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clients[cl.ID] = cacheEntry[*Client]{cl, time.Now()}
	c.byWire[clientKey{cl.ServiceID, cl.ClientID}] = cl.ID
}

func (c *cache) forgetClient(cl *Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.clients, cl.ID)
	delete(c.byWire, clientKey{cl.ServiceID, cl.ClientID})
}

// forgetAll drops everything, e.g. after a service and its clients are deleted.
func (c *cache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.services)
	clear(c.clients)
	clear(c.byWire)
	c.issuers = nil
}

func (c *cache) forgetIssuers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.issuers = nil
}

// issuerPath resolves a custom issuer path, rebuilding the index with load
// when it is missing or stale. Unknown paths do not trigger a rebuild.
func (c *cache) issuerPath(path string, load func() (map[string]int64, error)) (int64, error) {
	c.mu.RLock()
	index, loadedAt := c.issuers, c.issuersLoaded
	c.mu.RUnlock()
	if index == nil || !c.fresh(loadedAt) {
		fresh, err := load()
		if err != nil {
			return 0, err
		}
		c.mu.Lock()
		c.issuers, c.issuersLoaded = fresh, time.Now()
		c.mu.Unlock()
		index = fresh
	}
	if id, ok := index[path]; ok {
		return id, nil
	}
	return 0, NotFound("service")
}

// cachedService returns service id, from memory when fresh. Callers must not
// modify the result: it is shared.
func (c *Core) cachedService(ctx context.Context, id int64) (*Service, error) {
	if s, ok := c.cache.service(id); ok {
		return s, nil
	}
	s, err := c.store.GetService(ctx, id)
	if err != nil {
		return nil, err
	}
	c.cache.putService(s)
	return s, nil
}

// cachedClient returns the client of service sid with OAuth client_id.
func (c *Core) cachedClient(ctx context.Context, sid int64, clientID string) (*Client, error) {
	if cl, ok := c.cache.clientByWire(sid, clientID); ok {
		return cl, nil
	}
	cl, err := c.store.GetClientByClientID(ctx, sid, clientID)
	if err != nil {
		return nil, err
	}
	c.cache.putClient(cl)
	return cl, nil
}

// cachedClientByID returns the client with numeric id.
func (c *Core) cachedClientByID(ctx context.Context, id int64) (*Client, error) {
	if cl, ok := c.cache.client(id); ok {
		return cl, nil
	}
	cl, err := c.store.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	c.cache.putClient(cl)
	return cl, nil
}
