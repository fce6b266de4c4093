package di

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
)

// Graph is a dependency graph: the registry of providers, the compiled
// resolution plan and the singletons. Create one with New, register
// providers (Provide, Value, Override, External…), call Build to validate,
// then create one Scope per request with NewScope.
//
// Registration and Build may be called from several goroutines; resolution
// is safe for any number of concurrent scopes.
type Graph struct {
	mu        sync.Mutex
	providers map[reflect.Type]providerI
	order     []reflect.Type // registration order, for deterministic errors
	regErrs   []error
	externals map[reflect.Type]bool
	extOrder  []reflect.Type
	extFuncs  []func(reflect.Type) bool

	plan   atomic.Pointer[plan] // nil: must (re)compile
	closed atomic.Bool
	sealed string // why registration is over (Seal); g.mu

	cmu      sync.Mutex
	cleanups []cleanup // singleton cleanups, in creation order

	pool sync.Pool // *Scope
}

type cleanup struct {
	typ reflect.Type
	fn  func()
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{
		providers: make(map[reflect.Type]providerI),
		externals: make(map[reflect.Type]bool),
	}
}

// External declares types whose values the scope supplies at request time
// (e.g. *http.Request, context.Context, a struct bound from request
// headers). Validation treats them as satisfied; scopes get them from their
// ExternalSource or from Scope.SetExternal. A provider registered for the
// same type takes precedence.
func (g *Graph) External(types ...reflect.Type) {
	site := callerSite()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range types {
		g.checkSealedLocked("external type "+typeName(t), site)
	}
	for _, t := range types {
		if t == nil || g.externals[t] {
			continue
		}
		g.externals[t] = true
		g.extOrder = append(g.extOrder, t)
	}
	g.plan.Store(nil)
}

// ExternalFunc declares every type for which pred returns true as external
// (see External), e.g. every struct type whose fields carry request tags.
// pred runs only at Build and setup time.
func (g *Graph) ExternalFunc(pred func(reflect.Type) bool) {
	if pred == nil {
		return
	}
	site := callerSite()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.checkSealedLocked("an external type predicate", site)
	g.extFuncs = append(g.extFuncs, pred)
	g.plan.Store(nil)
}

// isExternalLocked reports whether t is declared external; g.mu held.
func (g *Graph) isExternalLocked(t reflect.Type) bool {
	if g.externals[t] {
		return true
	}
	for _, f := range g.extFuncs {
		if f(t) {
			return true
		}
	}
	return false
}

// Seal ends registration: from now on Provide, Override, Value,
// OverrideValue, ProvideFunc, OverrideFunc, External and ExternalFunc
// panic with a message naming the type, the call site and reason. An owner
// that has compiled what it resolves (graft, once the app started) seals
// the graph so that a late registration, which would change nothing that
// was already resolved, fails instead of being ignored. Seal is idempotent;
// the first reason stays.
func (g *Graph) Seal(reason string) {
	if reason == "" {
		reason = "the graph was sealed"
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sealed == "" {
		g.sealed = reason
	}
}

// checkSealedLocked panics when registration is over; g.mu held.
func (g *Graph) checkSealedLocked(what, site string) {
	if g.sealed != "" {
		panic(fmt.Sprintf("di: %s at %s after registration ended: %s", what, site, g.sealed))
	}
}

func (g *Graph) register(p providerI, override bool) {
	m := p.info()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.checkSealedLocked("a provider of "+typeName(m.typ), m.site)
	g.plan.Store(nil)
	if m.err != "" {
		g.regErrs = append(g.regErrs, &RegistrationError{Site: m.site, Msg: m.err})
		if m.typ == nil {
			return
		}
	} else if !m.lt.valid() {
		g.regErrs = append(g.regErrs, &RegistrationError{Site: m.site,
			Msg: fmt.Sprintf("invalid lifetime %v for %s", m.lt, typeName(m.typ))})
		return
	}
	old, exists := g.providers[m.typ]
	switch {
	case !exists:
		g.order = append(g.order, m.typ)
	case !override:
		g.regErrs = append(g.regErrs, &DuplicateError{Type: m.typ, Sites: [2]string{old.info().site, m.site}})
		return
	}
	g.providers[m.typ] = p
}

// Build validates the graph and compiles the resolution plan. It reports,
// joined, every problem found: duplicate or invalid registrations, missing
// providers (naming who needs them), dependency cycles (with their path) and
// captive dependencies (a singleton needing a scoped or external value).
// Build is idempotent; registering after Build invalidates the plan and the
// next Build (or NewScope, Resolver…) recompiles it.
func (g *Graph) Build() error {
	return g.currentPlan().err
}

// currentPlan returns the compiled plan, compiling it if needed.
func (g *Graph) currentPlan() *plan {
	if p := g.plan.Load(); p != nil {
		return p
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if p := g.plan.Load(); p != nil {
		return p
	}
	p := g.compileLocked()
	g.plan.Store(p)
	return p
}

// Provides reports whether t has a registered provider.
func (g *Graph) Provides(t reflect.Type) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.providers[t]
	return ok
}

// IsExternal reports whether t is declared external (by External or an
// ExternalFunc predicate) and has no provider.
func (g *Graph) IsExternal(t reflect.Type) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.providers[t]; ok {
		return false
	}
	return g.isExternalLocked(t)
}

// LifetimeOf returns the lifetime of t's provider, and false when t has no
// provider.
func (g *Graph) LifetimeOf(t reflect.Type) (Lifetime, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	p, ok := g.providers[t]
	if !ok {
		return 0, false
	}
	return p.info().lt, true
}

// ExternalsOf returns the external types that resolving t needs, directly
// or transitively, in first-use (depth-first) order; t itself if it is
// external. Binders list them as the endpoint's transitive parameters. It
// compiles the plan if needed and returns its error, or a *MissingError if
// t is neither provided nor external.
func (g *Graph) ExternalsOf(t reflect.Type) ([]reflect.Type, error) {
	p := g.currentPlan()
	if p.err != nil {
		return nil, p.err
	}
	if _, ok := p.metas[t]; !ok {
		if _, ok := p.ext[t]; ok || g.IsExternal(t) {
			return []reflect.Type{t}, nil
		}
		return nil, &MissingError{Type: t}
	}
	var out []reflect.Type
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		m, ok := p.metas[t]
		if !ok {
			out = append(out, t)
			return
		}
		for _, d := range m.deps {
			walk(d)
		}
	}
	walk(t)
	return out, nil
}

// RequestBound reports whether resolving t needs a request scope: t is
// scoped or external, or a transient that (transitively) needs one.
func (g *Graph) RequestBound(t reflect.Type) (bool, error) {
	p := g.currentPlan()
	if p.err != nil {
		return false, p.err
	}
	if b, ok := p.bound[t]; ok {
		return b, nil
	}
	if _, ok := p.ext[t]; ok || g.IsExternal(t) {
		return true, nil
	}
	return false, &MissingError{Type: t}
}

// Close runs the cleanups of every singleton built so far, in reverse
// creation order, and closes the graph: singletons can no longer be built.
// A panicking cleanup does not stop the others; the panics are returned
// joined as *CleanupError. Close is idempotent. Scopes still open must be
// closed by their owners.
func (g *Graph) Close() error {
	// closed is set under cmu, so that a singleton finishing its build
	// while the graph closes either hands its cleanup to this Close or
	// sees the graph closed (addCleanup).
	g.cmu.Lock()
	if g.closed.Load() {
		g.cmu.Unlock()
		return nil
	}
	g.closed.Store(true)
	cs := g.cleanups
	g.cleanups = nil
	g.cmu.Unlock()
	return runCleanups(cs)
}

// addCleanup records the cleanup of a value owned by the graph. When the
// graph closed while the value was being built, no Close will run it: it
// runs now, and addCleanup reports false.
func (g *Graph) addCleanup(t reflect.Type, fn func()) bool {
	g.cmu.Lock()
	if g.closed.Load() {
		g.cmu.Unlock()
		_ = runCleanup(cleanup{typ: t, fn: fn})
		return false
	}
	g.cleanups = append(g.cleanups, cleanup{typ: t, fn: fn})
	g.cmu.Unlock()
	return true
}

// runCleanups runs cs in reverse order, recovering panics.
func runCleanups(cs []cleanup) error {
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		if err := runCleanup(cs[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrors(errs)
}

func runCleanup(c cleanup) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &CleanupError{Type: c.typ, Err: &PanicError{Value: r}}
		}
	}()
	c.fn()
	return nil
}
