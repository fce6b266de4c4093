package di

import (
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// meta is what validation needs to know about a provider.
type meta struct {
	typ   reflect.Type
	lt    Lifetime
	deps  []reflect.Type
	site  string
	value bool   // registered with Value: already built
	err   string // registration problem, reported by Build
}

// providerI is a registered provider of some type, independent of plans.
type providerI interface {
	info() *meta
	newNode(pl *plan, slot int) nodeI
}

// provider holds a typed constructor and, for singletons, the instance.
// Singleton state lives here (not in the compiled node) so that recompiling
// the plan after a registration change keeps singletons already built.
type provider[T any] struct {
	meta
	ctor Ctor[T]

	mu   sync.Mutex
	done atomic.Bool
	val  T
}

func (p *provider[T]) info() *meta { return &p.meta }

func (p *provider[T]) newNode(pl *plan, slot int) nodeI {
	return &node[T]{typ: p.typ, lt: p.lt, slot: slot, plan: pl, p: p}
}

// nodeI is a compiled provider inside one plan, or an external slot.
type nodeI interface {
	getAny(s *Scope) (any, error)
	bind(deps []dep)
}

// getter resolves a T within a scope.
type getter[T any] interface {
	get(s *Scope) (T, error)
}

// dep is a resolved dependency edge: a compiled node or an external slot.
type dep struct {
	typ  reflect.Type
	node nodeI // nil for externals
	ext  int   // external slot index when node is nil
}

// getterFor returns the typed getter for a dependency edge. Compiled typed
// nodes are used directly; reflective providers (which only know their
// value as any) and externals are adapted.
func getterFor[A any](d dep) getter[A] {
	if d.node != nil {
		if g, ok := d.node.(getter[A]); ok {
			return g
		}
		return anyGetter[A]{d.node}
	}
	return &extNode[A]{typ: d.typ, slot: d.ext}
}

// node is the compiled provider of T within one plan.
type node[T any] struct {
	typ   reflect.Type
	lt    Lifetime
	slot  int // scoped slot index
	plan  *plan
	p     *provider[T]
	build buildFunc[T]
}

func (n *node[T]) bind(deps []dep) {
	if n.p.ctor.bind != nil {
		n.build = n.p.ctor.bind(n.typ, deps)
	}
}

func (n *node[T]) getAny(s *Scope) (any, error) {
	v, err := n.get(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (n *node[T]) get(s *Scope) (T, error) {
	switch n.lt {
	case Scoped:
		sl := &s.slots[n.slot]
		if sl.ok {
			v, _ := sl.v.(T)
			return v, nil
		}
		v, c, err := n.call(s)
		if err != nil {
			return v, err
		}
		*sl = slot{v: v, ok: true} // slots never move during a scope's life
		if c != nil {
			s.addCleanup(n.typ, c)
		}
		return v, nil
	case Singleton:
		if n.p.done.Load() {
			return n.p.val, nil
		}
		return n.singleton()
	default: // Transient
		v, c, err := n.call(s)
		if err != nil {
			return v, err
		}
		if c != nil {
			s.addCleanup(n.typ, c)
		}
		return v, nil
	}
}

// singleton builds the singleton once. Dependencies are resolved in the
// plan's root scope so that cleanups of transients built for it belong to
// the graph. Errors are not cached: the next resolution retries.
func (n *node[T]) singleton() (T, error) {
	p := n.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return p.val, nil
	}
	g := n.plan.g
	if g.closed.Load() {
		var z T
		return z, ErrClosed
	}
	v, c, err := n.call(n.plan.root)
	if err != nil {
		return v, err
	}
	if c != nil && !g.addCleanup(n.typ, c) {
		// The graph closed during the build; the value was cleaned up.
		var z T
		return z, ErrClosed
	}
	p.val = v
	p.done.Store(true)
	return v, nil
}

// call runs the constructor, turning a panic into a *BuildError.
func (n *node[T]) call(s *Scope) (v T, c func(), err error) {
	defer func() {
		if r := recover(); r != nil {
			var z T
			v, c, err = z, nil, &BuildError{Type: n.typ, Err: &PanicError{Value: r, Stack: debug.Stack()}}
		}
	}()
	return n.build(s)
}

// anyGetter adapts a node known only as nodeI to a typed getter.
type anyGetter[A any] struct{ n nodeI }

func (a anyGetter[A]) get(s *Scope) (A, error) {
	v, err := a.n.getAny(s)
	if err != nil {
		var z A
		return z, err
	}
	t, _ := v.(A)
	return t, nil
}

// extNode reads an external value of type A from the scope.
type extNode[A any] struct {
	typ  reflect.Type
	slot int
}

func (e *extNode[A]) get(s *Scope) (A, error) {
	v, err := s.external(e.slot, e.typ)
	t, _ := v.(A)
	return t, err
}

// extAny is the untyped form of extNode, used by Resolver.
type extAny struct {
	typ  reflect.Type
	slot int // -1: external by predicate, not cached in the scope
}

func (e *extAny) getAny(s *Scope) (any, error) { return s.external(e.slot, e.typ) }
func (e *extAny) bind([]dep)                   {}
