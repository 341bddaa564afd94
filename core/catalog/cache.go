package catalog

import "sync"

// Cache holds values loaded from model folders by key (a file name, or a
// name with the file's stamp so that a replaced file gets a new entry):
// loaded models, and the server's files and manifests. It is safe for
// concurrent use. Each key is loaded once: concurrent gets of a missing
// key wait for the one load instead of each reading the file. A failed
// load is returned to the gets that waited for it and then forgotten, so
// the next get tries again (a fetch that failed once, or a file repaired
// since, is not an error forever). With a budget, the least recently used
// values are dropped once their sizes add up to more than it.
type Cache[V any] struct {
	mu      sync.Mutex
	budget  int64 // 0: no bound
	size    int64
	clock   uint64
	entries map[string]*cacheEntry[V]
}

type cacheEntry[V any] struct {
	ready chan struct{} // closed once v and err are set
	v     V
	err   error
	size  int64
	used  uint64
}

// NewCache returns an empty cache that keeps values of sizes adding up to
// at most budget bytes (0: no bound).
func NewCache[V any](budget int64) *Cache[V] {
	return &Cache[V]{budget: budget, entries: map[string]*cacheEntry[V]{}}
}

// Get returns the value of key, loading it with load (which also returns
// the value's size in bytes) if the cache does not hold it.
func (c *Cache[V]) Get(key string, load func() (V, int64, error)) (V, error) {
	c.mu.Lock()
	c.clock++
	e, ok := c.entries[key]
	if ok {
		e.used = c.clock
		c.mu.Unlock()
		<-e.ready
		return e.v, e.err
	}
	e = &cacheEntry[V]{ready: make(chan struct{}), used: c.clock}
	c.entries[key] = e
	c.mu.Unlock()

	e.v, e.size, e.err = load()
	c.mu.Lock()
	defer c.mu.Unlock()
	close(e.ready) // under c.mu: a ready entry in the map is counted in c.size
	if e.err != nil || (c.budget > 0 && e.size > c.budget) {
		// A failure is not kept; nor is a value too big to keep: the
		// caller uses it once.
		delete(c.entries, key)
		return e.v, e.err
	}
	c.size += e.size
	for c.budget > 0 && c.size > c.budget {
		c.evictOldest(e)
	}
	return e.v, e.err
}

// Loaded returns the value of key if it is loaded, without loading it or
// waiting for a load that is under way.
func (c *Cache[V]) Loaded(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && isReady(e) {
		return e.v, true
	}
	var zero V
	return zero, false
}

// evictOldest drops the least recently used loaded entry other than keep.
// c.mu is held.
func (c *Cache[V]) evictOldest(keep *cacheEntry[V]) {
	var oldKey string
	var old *cacheEntry[V]
	for k, e := range c.entries {
		if e == keep || !isReady(e) {
			continue
		}
		if old == nil || e.used < old.used {
			oldKey, old = k, e
		}
	}
	if old == nil {
		c.size = keep.size // only entries still loading are left
		return
	}
	delete(c.entries, oldKey)
	c.size -= old.size
}

func isReady[V any](e *cacheEntry[V]) bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}
