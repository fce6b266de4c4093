package cache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Entry is a stored answer, or a Vary record.
//
// An entry is immutable once stored: the cache and the memory store share
// it between the requests it answers (its header slices are handed to
// their responses as they are), so nothing may change it after Store.Set.
type Entry struct {
	// Status is the answer's status code; 0 in a Vary record.
	Status int
	// Header holds the headers the endpoint set (those already present
	// when the cache's middleware ran are left out: they are set again on
	// every request), with a Content-Length and a Date added.
	Header http.Header
	// Body is the answer's body, as the endpoint wrote it.
	Body []byte
	// Created is when the answer was made: the time it was stored, less
	// the Age it arrived with. The Age header of a replay counts from it.
	Created time.Time
	// Expires is when the entry stops being fresh; the cache does not
	// serve it afterwards, and stores may drop it.
	Expires time.Time
	// Shared reports that the answer had public, s-maxage or
	// must-revalidate: it may answer requests that carry Authorization
	// (RFC 9111 §3.5).
	Shared bool
	// Vary, in a Vary record (the entry stored under an answer's primary
	// key when it had a Vary header), lists the canonical names of the
	// request headers the answer varies on; the answers themselves are
	// stored under the primary key extended with those headers' values.
	Vary []string
}

// Size returns the bytes an entry is counted for in a store's MaxBytes:
// its body, its header names and values, key and bookkeeping.
func (e *Entry) Size(key string) int64 {
	n := int64(len(key) + len(e.Body) + entryOverhead)
	for k, vs := range e.Header {
		n += int64(len(k)) + 16
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	for _, v := range e.Vary {
		n += int64(len(v)) + 16
	}
	return n
}

// entryOverhead approximates an entry's struct, map slot and list links.
const entryOverhead = 256

// Store keeps the cache's entries. Get returns nil, nil for a key it does
// not hold; it may return an expired entry (the cache checks Expires)
// but should drop expired entries in time. Set replaces what the key
// held. A store
// needs no locking by its caller and must not keep the key string of Get
// past the call. Stores other than MemoryStore (a Redis store) serialize
// the Entry's exported fields.
type Store interface {
	Get(ctx context.Context, key string) (*Entry, error)
	Set(ctx context.Context, key string, e *Entry) error
	// Delete removes key (no error when it is absent).
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every key that starts with prefix and returns
	// how many it removed.
	DeletePrefix(ctx context.Context, prefix string) (int, error)
	// Clear removes every entry.
	Clear(ctx context.Context) error
}

// MemoryConfig bounds a MemoryStore.
type MemoryConfig struct {
	// MaxEntries is the most entries held (DefaultMaxEntries when 0).
	MaxEntries int
	// MaxBytes is the most bytes held, counted by Entry.Size
	// (DefaultMaxBytes when 0).
	MaxBytes int64
	// Shards splits the store into independently locked LRU lists, the
	// bounds divided evenly between them. 0 chooses: up to 16, with at
	// least 64 entries each. 1 gives an exact LRU.
	Shards int
	// Now is the clock expired entries are dropped by (time.Now when
	// nil); the cache gives its Config.Now to the store it makes.
	Now func() time.Time
}

// Defaults of MemoryConfig.
const (
	DefaultMaxEntries       = 10_000
	DefaultMaxBytes   int64 = 64 << 20
)

// MemoryStore is an in-memory Store: sharded LRU lists bounded in entries
// and bytes. An entry too big for its shard is not stored. Expired
// entries are dropped at the cold end of a list when an entry is stored,
// and by eviction. DeletePrefix walks every entry.
type MemoryStore struct {
	shards []memShard
	now    func() time.Time
}

type memShard struct {
	mu         sync.Mutex
	m          map[string]*memNode
	head       memNode // sentinel: head.next is the most recently used
	n          int
	bytes      int64
	maxEntries int
	maxBytes   int64
}

type memNode struct {
	key        string
	e          *Entry
	size       int64
	prev, next *memNode
}

// NewMemoryStore returns a memory store bounded by cfg; a negative bound
// or shard count is an error.
func NewMemoryStore(cfg MemoryConfig) (*MemoryStore, error) {
	switch {
	case cfg.MaxEntries < 0:
		return nil, fmt.Errorf("MemoryConfig.MaxEntries is %d; give the most entries held, or 0 for %d", cfg.MaxEntries, DefaultMaxEntries)
	case cfg.MaxBytes < 0:
		return nil, fmt.Errorf("MemoryConfig.MaxBytes is %d; give the most bytes held, or 0 for %d", cfg.MaxBytes, DefaultMaxBytes)
	case cfg.Shards < 0:
		return nil, fmt.Errorf("MemoryConfig.Shards is %d; give the number of shards, or 0 to choose", cfg.Shards)
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	n := cfg.Shards
	if n == 0 {
		n = min(16, max(1, cfg.MaxEntries/64))
	}
	n = min(n, cfg.MaxEntries)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &MemoryStore{shards: make([]memShard, n), now: cfg.Now}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.m = map[string]*memNode{}
		sh.head.next, sh.head.prev = &sh.head, &sh.head
		// The bounds are split evenly; the first shards take the
		// remainders.
		sh.maxEntries = cfg.MaxEntries / n
		if i < cfg.MaxEntries%n {
			sh.maxEntries++
		}
		sh.maxBytes = cfg.MaxBytes / int64(n)
		if int64(i) < cfg.MaxBytes%int64(n) {
			sh.maxBytes++
		}
	}
	return s, nil
}

func (s *MemoryStore) shard(key string) *memShard {
	if len(s.shards) == 1 {
		return &s.shards[0]
	}
	// FNV-1a, inline: no allocation for the key.
	h := uint32(2166136261)
	for i := range len(key) {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return &s.shards[h%uint32(len(s.shards))]
}

// Get returns the entry of key and marks it recently used. An expired
// entry is returned as it is (the cache checks freshness with the time it
// already read; reading the clock again would cost every hit): it stays
// until the next answer for its key replaces it, a Set drops it from the
// cold end of the list, or eviction.
func (s *MemoryStore) Get(_ context.Context, key string) (*Entry, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	nd := sh.m[key]
	if nd == nil {
		sh.mu.Unlock()
		return nil, nil
	}
	sh.unlink(nd)
	sh.pushFront(nd)
	e := nd.e
	sh.mu.Unlock()
	return e, nil
}

// Set stores e under key, evicting the least recently used entries of its
// shard until the bounds hold. An entry bigger than the shard's share of
// MaxBytes is not stored (and what key held is removed).
func (s *MemoryStore) Set(_ context.Context, key string, e *Entry) error {
	if e == nil {
		return errors.New("cache: MemoryStore.Set: nil entry")
	}
	size := e.Size(key)
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old := sh.m[key]; old != nil {
		sh.remove(old)
	}
	if size > sh.maxBytes {
		return nil
	}
	now := s.now()
	for sh.n >= sh.maxEntries || sh.bytes+size > sh.maxBytes {
		sh.remove(sh.head.prev) // the least recently used
	}
	// Expired entries at the cold end go too: they would only wait there
	// for eviction.
	for sh.n > 0 && !now.Before(sh.head.prev.e.Expires) {
		sh.remove(sh.head.prev)
	}
	nd := &memNode{key: strings.Clone(key), e: e, size: size}
	sh.m[nd.key] = nd
	sh.pushFront(nd)
	sh.n++
	sh.bytes += size
	return nil
}

// Delete removes key.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	sh := s.shard(key)
	sh.mu.Lock()
	if nd := sh.m[key]; nd != nil {
		sh.remove(nd)
	}
	sh.mu.Unlock()
	return nil
}

// DeletePrefix removes every key starting with prefix, walking all
// entries.
func (s *MemoryStore) DeletePrefix(_ context.Context, prefix string) (int, error) {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, nd := range sh.m {
			if strings.HasPrefix(k, prefix) {
				sh.remove(nd)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n, nil
}

// Clear removes every entry.
func (s *MemoryStore) Clear(context.Context) error {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.head.next, sh.head.prev = &sh.head, &sh.head
		sh.n, sh.bytes = 0, 0
		sh.mu.Unlock()
	}
	return nil
}

// Len returns the number of entries held.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}

// Bytes returns the bytes held, counted by Entry.Size.
func (s *MemoryStore) Bytes() int64 {
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.bytes
		sh.mu.Unlock()
	}
	return n
}

// Shards returns the number of shards.
func (s *MemoryStore) Shards() int { return len(s.shards) }

func (sh *memShard) unlink(nd *memNode) {
	nd.prev.next = nd.next
	nd.next.prev = nd.prev
}

func (sh *memShard) pushFront(nd *memNode) {
	nd.prev = &sh.head
	nd.next = sh.head.next
	sh.head.next.prev = nd
	sh.head.next = nd
}

func (sh *memShard) remove(nd *memNode) {
	sh.unlink(nd)
	delete(sh.m, nd.key)
	sh.n--
	sh.bytes -= nd.size
	nd.prev, nd.next, nd.e = nil, nil, nil
}

var _ Store = (*MemoryStore)(nil)
