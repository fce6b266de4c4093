package cache_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft/plugins/cache"
)

func newStore(t *testing.T, cfg cache.MemoryConfig) *cache.MemoryStore {
	t.Helper()
	s, err := cache.NewMemoryStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func has(t *testing.T, s cache.Store, key string) bool {
	t.Helper()
	e, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return e != nil
}

func entry(body string, expires time.Time) *cache.Entry {
	return &cache.Entry{Status: 200, Body: []byte(body), Expires: expires}
}

func TestMemoryStoreLRU(t *testing.T) {
	ctx := context.Background()
	far := time.Now().Add(time.Hour)
	s := newStore(t, cache.MemoryConfig{MaxEntries: 3, Shards: 1})
	for _, k := range []string{"a", "b", "c"} {
		s.Set(ctx, k, entry(k, far))
	}
	has(t, s, "a") // a is the most recent; b the least
	s.Set(ctx, "d", entry("d", far))
	if has(t, s, "b") || !has(t, s, "a") || !has(t, s, "c") || !has(t, s, "d") || s.Len() != 3 {
		t.Fatalf("after evicting: b %v, len %d", has(t, s, "b"), s.Len())
	}
	s.Set(ctx, "a", entry("a2", far)) // replacing is no eviction
	if e, _ := s.Get(ctx, "a"); string(e.Body) != "a2" || s.Len() != 3 {
		t.Fatalf("replaced: %q, len %d", e.Body, s.Len())
	}
}

func TestMemoryStoreBytes(t *testing.T) {
	ctx := context.Background()
	far := time.Now().Add(time.Hour)
	one := entry(strings.Repeat("x", 1000), far)
	size := one.Size("k0")
	s := newStore(t, cache.MemoryConfig{MaxBytes: 3 * size, Shards: 1})
	for i := range 5 {
		s.Set(ctx, "k"+strconv.Itoa(i), entry(strings.Repeat("x", 1000), far))
		if s.Bytes() > 3*size {
			t.Fatalf("%d bytes held, bound %d", s.Bytes(), 3*size)
		}
	}
	if s.Len() != 3 || has(t, s, "k0") || has(t, s, "k1") || !has(t, s, "k4") {
		t.Fatalf("len %d", s.Len())
	}
	// An entry bigger than the bound is not stored, and what the key held goes.
	s.Set(ctx, "k4", entry(strings.Repeat("x", int(4*size)), far))
	if has(t, s, "k4") || s.Len() != 2 {
		t.Fatalf("oversized entry: held %v, len %d", has(t, s, "k4"), s.Len())
	}
}

// Expired entries at the cold end are dropped when an entry is stored.
func TestMemoryStoreExpiry(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := newStore(t, cache.MemoryConfig{Shards: 1, Now: clk.Now})
	s.Set(ctx, "old", entry("o", clk.Now().Add(time.Second)))
	s.Set(ctx, "long", entry("l", clk.Now().Add(time.Hour)))
	s.Set(ctx, "old2", entry("o", clk.Now().Add(time.Second)))
	clk.Add(2 * time.Second)
	s.Set(ctx, "new", entry("n", clk.Now().Add(time.Hour)))
	if has(t, s, "old") || !has(t, s, "long") || !has(t, s, "new") || s.Len() != 3 {
		t.Fatalf("len %d", s.Len())
	}
}

func TestMemoryStoreDelete(t *testing.T) {
	ctx := context.Background()
	far := time.Now().Add(time.Hour)
	s := newStore(t, cache.MemoryConfig{})
	for _, k := range []string{"/a", "/a/1", "/a/2", "/b"} {
		s.Set(ctx, k, entry(k, far))
	}
	if n, err := s.DeletePrefix(ctx, "/a/"); n != 2 || err != nil {
		t.Fatalf("DeletePrefix: %d, %v", n, err)
	}
	s.Delete(ctx, "/a")
	s.Delete(ctx, "/missing")
	if has(t, s, "/a") || has(t, s, "/a/1") || !has(t, s, "/b") {
		t.Fatal("after deleting")
	}
	s.Clear(ctx)
	if s.Len() != 0 || s.Bytes() != 0 || has(t, s, "/b") {
		t.Fatalf("after Clear: len %d, bytes %d", s.Len(), s.Bytes())
	}
	if err := s.Set(ctx, "x", nil); err == nil {
		t.Error("Set(nil): no error")
	}
	for _, cfg := range []cache.MemoryConfig{{MaxEntries: -1}, {MaxBytes: -1}, {Shards: -1}} {
		if _, err := cache.NewMemoryStore(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	if n := newStore(t, cache.MemoryConfig{MaxEntries: 8, Shards: 16}).Shards(); n != 8 {
		t.Errorf("shards %d for 8 entries, want 8 (one entry each at least)", n)
	}
}

// Concurrent use keeps the bounds (run with -race).
func TestMemoryStoreConcurrent(t *testing.T) {
	ctx := context.Background()
	far := time.Now().Add(time.Hour)
	s := newStore(t, cache.MemoryConfig{MaxEntries: 64, Shards: 4})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := "/k/" + strconv.Itoa((i*7+g)%200)
				switch i % 5 {
				case 0:
					s.Delete(ctx, k)
				case 1, 2:
					s.Set(ctx, k, entry(k, far))
				default:
					if e, _ := s.Get(ctx, k); e != nil && string(e.Body) != k {
						t.Errorf("key %s holds %q", k, e.Body)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if s.Len() > 64 {
		t.Errorf("%d entries, bound 64", s.Len())
	}
}
