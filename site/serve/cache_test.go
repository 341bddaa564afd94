package serve

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCacheLoadsOnce: concurrent gets of a missing key run one load, and a
// failure is remembered like a value.
func TestCacheLoadsOnce(t *testing.T) {
	c := newCache[int](1 << 20)
	for _, fail := range []bool{false, true} {
		key := map[bool]string{false: "good", true: "bad"}[fail]
		var loads atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				v, err := c.get(key, func() (int, int64, error) {
					loads.Add(1)
					time.Sleep(20 * time.Millisecond)
					if fail {
						return 0, 0, errors.New("broken")
					}
					return 7, 100, nil
				})
				if fail != (err != nil) || (!fail && v != 7) {
					t.Errorf("%s: %v %v", key, v, err)
				}
			})
		}
		wg.Wait()
		c.get(key, func() (int, int64, error) { loads.Add(1); return 0, 0, nil })
		if n := loads.Load(); n != 1 {
			t.Errorf("%s: %d loads, want 1", key, n)
		}
	}
}

// TestCacheBounded: the sizes kept never add up to more than the budget,
// the least recently used entry goes first, and a value larger than the
// whole budget is returned but not kept.
func TestCacheBounded(t *testing.T) {
	c := newCache[string](300)
	load := func(v string, size int64) func() (string, int64, error) {
		return func() (string, int64, error) { return v, size, nil }
	}
	c.get("a", load("a", 100))
	c.get("b", load("b", 100))
	c.get("c", load("c", 100))
	c.get("a", load("a2", 100)) // a is now the most recent
	c.get("d", load("d", 100))  // b goes
	if c.size > c.max {
		t.Fatalf("size %d over %d", c.size, c.max)
	}
	if _, ok := c.entries["b"]; ok {
		t.Error("b, the least recently used, was kept")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.entries[k]; !ok {
			t.Errorf("%s was dropped", k)
		}
	}
	if v, _ := c.get("huge", load("huge", 1000)); v != "huge" {
		t.Errorf("huge value: %q", v)
	}
	if _, ok := c.entries["huge"]; ok || c.size > c.max {
		t.Errorf("a value over the budget was kept (size %d)", c.size)
	}
	if v, _ := c.get("a", load("a3", 100)); v != "a" {
		t.Errorf("a was loaded again: %q", v)
	}
}
