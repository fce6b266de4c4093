// Package pool is the bounded object pool shared by request contexts (package
// graft) and WebSocket connections (package ws).
package pool

import (
	"sync"
	"sync/atomic"
)

// Pool keeps up to max idle objects of one kind (request contexts or
// WebSocket connections), socketify's factory with max items: max objects
// are made up front, reset on release and reused; under load past max,
// more are made and dropped on release. With max < 0 nothing is kept and
// every acquire makes a new object.
//
// A mutex-guarded stack rather than sync.Pool: sync.Pool may drop objects at
// any GC, so it can neither keep N objects ready nor promise reuse. In front
// of the stack sits one atomic slot: under light load a request takes and
// returns its object with one atomic swap each instead of two lock round
// trips, and the slot counts as one of the max objects kept.
type Pool[T any] struct {
	hot     atomic.Pointer[T]
	mu      sync.Mutex
	free    []*T
	max     int
	make    func() *T
	created atomic.Int64
}

// New makes a pool keeping max objects made by mk, made up front.
func New[T any](max int, mk func() *T) *Pool[T] {
	p := &Pool[T]{max: max}
	p.make = func() *T {
		p.created.Add(1)
		return mk()
	}
	if max > 0 {
		p.hot.Store(p.make())
		p.free = make([]*T, 0, max-1)
		for range max - 1 {
			p.free = append(p.free, p.make())
		}
	}
	return p
}

// Get takes an object from the pool, or makes one.
func (p *Pool[T]) Get() *T {
	if p.max > 0 {
		if x := p.hot.Swap(nil); x != nil {
			return x
		}
		p.mu.Lock()
		if n := len(p.free); n > 0 {
			x := p.free[n-1]
			p.free[n-1] = nil
			p.free = p.free[:n-1]
			p.mu.Unlock()
			return x
		}
		p.mu.Unlock()
	}
	return p.make()
}

// Put returns a reset object to the pool (or drops it when the pool is full).
func (p *Pool[T]) Put(x *T) {
	if p.max <= 0 || p.hot.CompareAndSwap(nil, x) {
		return
	}
	p.mu.Lock()
	if len(p.free) < p.max-1 {
		p.free = append(p.free, x)
	}
	p.mu.Unlock()
}

// idle returns the number of objects waiting in the pool.
func (p *Pool[T]) idle() int {
	p.mu.Lock()
	n := len(p.free)
	p.mu.Unlock()
	if p.hot.Load() != nil {
		n++
	}
	return n
}

// Stats describes a pool (graft.PoolStats has the same fields).
type Stats struct {
	// Max is the number of objects kept (pre-allocated at start); 0 when
	// pooling is off.
	Max int
	// Idle is the number of objects waiting for reuse.
	Idle int
	// Created counts every object made since the app was built, pre-allocated
	// ones included; Created - Max is the overflow made under load.
	Created int64
}

// Stats reports the pool's size, idle objects and objects made.
func (p *Pool[T]) Stats() Stats {
	m := p.max
	if m < 0 {
		m = 0
	}
	return Stats{Max: m, Idle: p.idle(), Created: p.created.Load()}
}
