package graft

import "sync"

// ScopeValue is a typed value that a router-level extension publishes for
// the scope it was registered on (the app, or a group and everything below
// it): webpp's router-level extension resources (`router.sqlite`), reached
// without a per-request copy. Declare one at package level, publish it from
// the extension with Set, read it from handlers, mixins, middleware and
// plugins with Get:
//
//	var DB = graft.NewScopeValue[*sql.DB]("sqlite.db")
//
//	func (e *ext) Extend(b *graft.Builder) error { e.b = b; return nil }
//	func (e *ext) Start(ctx context.Context) error {
//		db, err := sql.Open("sqlite3", e.file)
//		…
//		DB.Set(e.b, db)
//	}
//
//	db := DB.Get(c) // the nearest enclosing scope's value
//
// A value is stored once per scope; Get walks from the request's route
// scope up to the app and returns the first value set, without allocating.
type ScopeValue[T any] struct {
	name string
	idx  int
}

var scopeValues struct {
	sync.Mutex
	n int
}

// NewScopeValue declares a scope value; name is for listings and messages.
func NewScopeValue[T any](name string) *ScopeValue[T] {
	scopeValues.Lock()
	defer scopeValues.Unlock()
	k := &ScopeValue[T]{name: name, idx: scopeValues.n}
	scopeValues.n++
	return k
}

// Name returns the value's name.
func (k *ScopeValue[T]) Name() string { return k.name }

// Set publishes v for the scope of the extension that b was given to. Call
// it from Extend, or later in the extension's lifecycle (Provision, Start)
// with the Builder kept from Extend; requests are served only after every
// extension started, so they see the value. Setting again replaces it.
func (k *ScopeValue[T]) Set(b *Builder, v T) {
	sc := b.sc
	if len(sc.values) <= k.idx {
		sc.values = append(sc.values, make([]any, k.idx+1-len(sc.values))...)
	}
	if sc.values[k.idx] == nil {
		b.note("scope value " + k.name)
	}
	sc.values[k.idx] = v
}

// Get returns the value published by the nearest scope enclosing the
// request's route, or the zero T when none published it.
func (k *ScopeValue[T]) Get(c *Ctx) T {
	v, _ := k.Lookup(c)
	return v
}

// Lookup is Get that also reports whether a value was found.
func (k *ScopeValue[T]) Lookup(c *Ctx) (T, bool) {
	for sc := c.scope(); sc != nil; sc = sc.parent {
		if k.idx < len(sc.values) {
			if v, ok := sc.values[k.idx].(T); ok {
				return v, true
			}
		}
	}
	var zero T
	return zero, false
}

// scope returns the innermost scope of the request: its route's, or the
// app's for a request no route matched.
func (c *Ctx) scope() *scope {
	if c.route != nil {
		return c.route.sc
	}
	return c.app.top
}
