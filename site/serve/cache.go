package serve

import "sync"

// cache holds values computed from files, bounded in total size: each key
// is computed once (concurrent requests for a missing key wait for the one
// computation instead of each reading the file), failures are remembered
// like values (a broken file is not read again until its key changes), and
// the least recently used entries are dropped once the sizes add up to
// more than max. Keys include the file's stamp, so a replaced file gets a
// new entry.
type cache[V any] struct {
	mu      sync.Mutex
	max     int64
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

func newCache[V any](max int64) *cache[V] {
	return &cache[V]{max: max, entries: map[string]*cacheEntry[V]{}}
}

// failureSize is what a remembered failure counts against the budget.
const failureSize = 256

// get returns the value of key, computing it with load (which also returns
// the value's size in bytes) if the cache does not hold it.
func (c *cache[V]) get(key string, load func() (V, int64, error)) (V, error) {
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
	if e.err != nil {
		e.size = failureSize
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	close(e.ready) // under c.mu: a ready entry in the map is counted in c.size
	if e.size > c.max {
		delete(c.entries, key) // too big to keep: the caller uses it once
		return e.v, e.err
	}
	c.size += e.size
	for c.size > c.max {
		c.evictOldest(e)
	}
	return e.v, e.err
}

// evictOldest drops the least recently used finished entry other than
// keep. c.mu is held.
func (c *cache[V]) evictOldest(keep *cacheEntry[V]) {
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
