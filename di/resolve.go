package di

import "reflect"

// Resolver resolves one type in a scope along a plan compiled once. Get it
// at setup time with Graph.Resolver (binders that work with reflect.Type);
// calling Resolve per request is a pointer compare plus the work of
// building what is not built yet.
type Resolver struct {
	plan *plan
	n    nodeI
	typ  reflect.Type
}

// Resolver returns a Resolver for t, which may be a provided or an external
// type. It compiles the plan if needed and returns its error, or a
// *MissingError if t is neither provided nor external.
func (g *Graph) Resolver(t reflect.Type) (Resolver, error) {
	p := g.currentPlan()
	if p.err != nil {
		return Resolver{}, p.err
	}
	n, ok := p.lookup(t)
	if !ok {
		return Resolver{}, &MissingError{Type: t}
	}
	return Resolver{plan: p, n: n, typ: t}, nil
}

// Type returns the type the resolver produces.
func (r Resolver) Type() reflect.Type { return r.typ }

// Resolve returns the value of the resolver's type in s (boxed in an any;
// pointer types box without allocating). If the graph changed after the
// resolver was made, it falls back to a lookup in the scope's plan.
func (r Resolver) Resolve(s *Scope) (any, error) {
	if s.plan == r.plan {
		return r.n.getAny(s)
	}
	if s.plan == nil {
		return nil, ErrScopeClosed
	}
	if s.plan.err != nil {
		return nil, s.plan.err
	}
	n, ok := s.plan.lookup(r.typ)
	if !ok {
		return nil, &MissingError{Type: r.typ}
	}
	return n.getAny(s)
}

// ResolverOf is the typed form of Resolver: Resolve returns a T without
// boxing. Get one at setup time with ResolverFor.
type ResolverOf[T any] struct {
	plan *plan
	g    getter[T]
}

// ResolverFor returns a typed resolver for T (provided or external). It
// compiles the plan if needed and returns its error, or a *MissingError.
func ResolverFor[T any](g *Graph) (ResolverOf[T], error) {
	p := g.currentPlan()
	if p.err != nil {
		return ResolverOf[T]{}, p.err
	}
	gt, err := typedGetter[T](p)
	if err != nil {
		return ResolverOf[T]{}, err
	}
	return ResolverOf[T]{plan: p, g: gt}, nil
}

// Resolve returns the T of scope s.
func (r ResolverOf[T]) Resolve(s *Scope) (T, error) {
	if s.plan == r.plan {
		return r.g.get(s)
	}
	return Resolve[T](s)
}

// Resolve returns the T of scope s. It looks T up in the plan (a map lookup
// by reflect.Type); per-request code that knows its types at setup should
// use a Resolver or ResolverOf instead.
func Resolve[T any](s *Scope) (T, error) {
	var z T
	if s.plan == nil {
		return z, ErrScopeClosed
	}
	if s.plan.err != nil {
		return z, s.plan.err
	}
	gt, err := typedGetter[T](s.plan)
	if err != nil {
		return z, err
	}
	return gt.get(s)
}

// Get resolves T outside any request, in the graph's own scope: meant for
// start-up code and plugins that need singletons (a transient that needs
// nothing request-bound also works; its cleanup runs at Graph.Close). It
// returns an error wrapping ErrRequestBound for scoped or external types.
func Get[T any](g *Graph) (T, error) {
	var z T
	p := g.currentPlan()
	if p.err != nil {
		return z, p.err
	}
	if g.closed.Load() {
		return z, ErrClosed
	}
	t := reflect.TypeFor[T]()
	if b, ok := p.bound[t]; !ok || b {
		if _, provided := p.nodes[t]; !provided && !g.IsExternal(t) {
			return z, &MissingError{Type: t}
		}
		return z, &BuildError{Type: t, Err: ErrRequestBound}
	}
	gt, err := typedGetter[T](p)
	if err != nil {
		return z, err
	}
	return gt.get(p.root)
}

func typedGetter[T any](p *plan) (getter[T], error) {
	t := reflect.TypeFor[T]()
	n, ok := p.lookup(t)
	if !ok {
		return nil, &MissingError{Type: t}
	}
	if e, ok := n.(*extAny); ok {
		return &extNode[T]{typ: t, slot: e.slot}, nil
	}
	return getterFor[T](dep{typ: t, node: n}), nil
}
