package di

import (
	"fmt"
	"reflect"
)

// ExternalSource produces the external values of a scope (see
// Graph.External). It is asked at most once per type per scope, when a
// resolution first needs the type. A binder typically implements it on its
// pooled request context, so creating a scope allocates nothing.
type ExternalSource interface {
	External(t reflect.Type) (any, error)
}

// SourceFunc adapts a function to ExternalSource.
type SourceFunc func(t reflect.Type) (any, error)

// External calls f(t).
func (f SourceFunc) External(t reflect.Type) (any, error) { return f(t) }

// Scope is one unit of work, typically one HTTP request: it holds the scoped
// values built in it and their cleanups, and reaches request-bound external
// values through its source. Get one from Graph.NewScope and always
// `defer scope.Close()`.
//
// A Scope is meant to be used by one goroutine at a time (like an
// http.ResponseWriter). Scopes are pooled: after Close, the Scope must not be
// used again.
type Scope struct {
	g        *Graph
	plan     *plan
	slots    []slot // scoped values, by slot index
	ext      []slot // external values, by external slot index
	src      ExternalSource
	cleanups []cleanup
	root     bool // the graph's scope for building singletons
}

type slot struct {
	v  any
	ok bool
}

// NewScope returns a scope over the current plan, compiling it if needed.
// src supplies external values and may be nil. If the graph does not
// validate (or is closed), the scope is still returned and every resolution
// in it returns that error: request-time code never panics.
func (g *Graph) NewScope(src ExternalSource) *Scope {
	p := g.currentPlan()
	if g.closed.Load() {
		p = closedPlan(g)
	}
	s, _ := g.pool.Get().(*Scope)
	if s == nil {
		s = &Scope{g: g}
	}
	s.plan = p
	s.src = src
	s.slots = resize(s.slots, p.nScoped)
	s.ext = resize(s.ext, p.nExt)
	return s
}

func resize(s []slot, n int) []slot {
	if cap(s) < n {
		return make([]slot, n)
	}
	return s[:n]
}

func closedPlan(g *Graph) *plan {
	return &plan{g: g, err: ErrClosed}
}

// Err returns the plan error the scope was created with (nil when the graph
// validated), or ErrScopeClosed after Close.
func (s *Scope) Err() error {
	if s.plan == nil {
		return ErrScopeClosed
	}
	return s.plan.err
}

// SetExternal sets the value of the external type t in this scope, before
// (or instead of) asking the scope's source. It fails if t is not an
// external type of the graph or v is not assignable to t. It costs a map
// lookup; binders on the hot path should prefer an ExternalSource.
func (s *Scope) SetExternal(t reflect.Type, v any) error {
	if s.plan == nil {
		return ErrScopeClosed
	}
	if s.plan.err != nil {
		return s.plan.err
	}
	e, ok := s.plan.ext[t]
	if !ok {
		return &ExternalError{Type: t, Err: fmt.Errorf("not an external type the graph depends on or declared")}
	}
	if v != nil && !reflect.TypeOf(v).AssignableTo(t) {
		return &ExternalError{Type: t, Err: fmt.Errorf("value of type %s is not assignable", reflect.TypeOf(v))}
	}
	s.ext[e.slot] = slot{v: v, ok: true}
	return nil
}

// external returns the external value of t, cached in ext slot i (i < 0:
// not cached).
func (s *Scope) external(i int, t reflect.Type) (any, error) {
	if i >= 0 && i < len(s.ext) && s.ext[i].ok {
		return s.ext[i].v, nil
	}
	if s.src == nil {
		return nil, &ExternalError{Type: t, Err: ErrNoSource}
	}
	v, err := s.src.External(t)
	if err != nil {
		return nil, &ExternalError{Type: t, Err: err}
	}
	if v != nil {
		if vt := reflect.TypeOf(v); vt != t && !vt.AssignableTo(t) {
			return nil, &ExternalError{Type: t, Err: fmt.Errorf("source returned a %s", vt)}
		}
	}
	if i >= 0 && i < len(s.ext) {
		s.ext[i] = slot{v: v, ok: true}
	}
	return v, nil
}

func (s *Scope) addCleanup(t reflect.Type, fn func()) {
	if s.root {
		s.g.addCleanup(t, fn)
		return
	}
	s.cleanups = append(s.cleanups, cleanup{typ: t, fn: fn})
}

// Close runs the cleanups of the values built in the scope, in reverse
// creation order, then returns the scope to the pool. Every cleanup runs
// even if an earlier one panics; the panics are returned joined as
// *CleanupError. Call it with defer so cleanups also run when the request
// panics. Closing a closed scope is a no-op until the scope is reused.
func (s *Scope) Close() error {
	if s.plan == nil || s.root {
		return nil
	}
	var err error
	if len(s.cleanups) > 0 {
		err = runCleanups(s.cleanups)
		clear(s.cleanups)
		s.cleanups = s.cleanups[:0]
	}
	clear(s.slots)
	clear(s.ext)
	s.plan = nil
	s.src = nil
	s.g.pool.Put(s)
	return err
}
