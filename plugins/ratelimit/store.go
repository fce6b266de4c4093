package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// Store keeps the counters of every key. Take applies one request of
// cost units for key under p at now and returns the decision; it must be
// atomic per key (concurrent Takes of one key see each other's counts)
// and safe for concurrent use. The memory store (NewMemoryStore) and the
// Redis store (module github.com/graftgo/graft/plugins/ratelimit/redis)
// implement it; a store keeps the keys of different policies apart by
// Policy.Name.
type Store interface {
	Take(ctx context.Context, p *Policy, key string, now time.Time, cost int) (Decision, error)
}

// MemoryConfig configures the memory store.
type MemoryConfig struct {
	// MaxKeys bounds the keys held (100 000 when zero). When a new key
	// finds the store full, expired keys are dropped first; if none has
	// expired, the key expiring soonest among a sample of eight goes.
	MaxKeys int
	// SweepInterval is how often each of the store's shards drops its
	// expired keys, checked on a Take (one minute when zero). There is no
	// background goroutine.
	SweepInterval time.Duration
}

const shards = 32

// MemoryStore is the in-process store: sharded maps of counters, bounded
// by MaxKeys, with expired keys dropped. Counters are per process; use the
// Redis store for a limit shared by several nodes.
type MemoryStore struct {
	seed     maphash.Seed
	perShard int
	sweep    int64 // µs
	shards   [shards]memShard
}

type memShard struct {
	mu        sync.Mutex
	m         map[memKey]memEntry
	nextSweep int64 // µs
}

type memKey struct{ policy, key string }

type memEntry struct {
	st      state
	expires int64 // µs
}

// NewMemoryStore returns a memory store; a negative MaxKeys or
// SweepInterval is an error.
func NewMemoryStore(cfg MemoryConfig) (*MemoryStore, error) {
	if cfg.MaxKeys < 0 {
		return nil, fmt.Errorf("MemoryConfig.MaxKeys is %d; give the keys to hold, or 0 for 100000", cfg.MaxKeys)
	}
	if cfg.SweepInterval < 0 {
		return nil, fmt.Errorf("MemoryConfig.SweepInterval is %v; give how often to drop expired keys, or 0 for a minute", cfg.SweepInterval)
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = 100_000
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = time.Minute
	}
	s := &MemoryStore{seed: maphash.MakeSeed(), perShard: max(1, (cfg.MaxKeys+shards-1)/shards), sweep: cfg.SweepInterval.Microseconds()}
	for i := range s.shards {
		s.shards[i].m = make(map[memKey]memEntry)
	}
	return s, nil
}

// Take implements Store.
func (s *MemoryStore) Take(_ context.Context, p *Policy, key string, now time.Time, cost int) (Decision, error) {
	sh := &s.shards[maphash.String(s.seed, key)%shards]
	t := now.UnixMicro()
	k := memKey{p.Name, key}
	sh.mu.Lock()
	if t >= sh.nextSweep {
		sh.dropExpired(t)
		sh.nextSweep = t + s.sweep
	}
	e, ok := sh.m[k]
	if ok && t >= e.expires {
		ok = false
	}
	if !ok && len(sh.m) >= s.perShard {
		if _, had := sh.m[k]; !had {
			sh.makeRoom(t)
		}
	}
	d, exp := p.take(&e.st, !ok, t, int64(cost))
	e.expires = exp
	sh.m[k] = e
	sh.mu.Unlock()
	return d, nil
}

// Len returns the number of keys held, expired ones not yet dropped
// included.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

func (sh *memShard) dropExpired(now int64) {
	for k, e := range sh.m {
		if now >= e.expires {
			delete(sh.m, k)
		}
	}
}

// makeRoom drops the expired keys or, when none has expired, the key
// expiring soonest among a sample (map iteration order is random).
func (sh *memShard) makeRoom(now int64) {
	n := len(sh.m)
	sh.dropExpired(now)
	if len(sh.m) < n {
		return
	}
	var victim memKey
	soonest, seen := int64(0), 0
	for k, e := range sh.m {
		if seen == 0 || e.expires < soonest {
			victim, soonest = k, e.expires
		}
		if seen++; seen == 8 {
			break
		}
	}
	delete(sh.m, victim)
}

var _ Store = (*MemoryStore)(nil)
