// Package di is graft's typed dependency graph (the Go counterpart of
// lihil's ididi Graph).
//
// Register typed providers on a Graph, each with a Lifetime:
//
//	g := di.New()
//	di.Provide(g, di.Singleton, di.Func1C(OpenDB))   // func(Config) (*DB, func(), error)
//	di.Provide(g, di.Scoped, di.Func2(NewRepo))      // func(*DB, *http.Request) (*Repo, error)
//	di.Value(g, cfg)                                 // an existing instance
//	g.External(reflect.TypeFor[*http.Request]())     // supplied per request
//	if err := g.Build(); err != nil { … }            // missing, cycles, captives
//
// Constructors are wrapped by Func0…Func4 (result (T, error)) and
// Func0C…Func4C (result (T, func(), error), the func being a cleanup). The
// wrappers capture the parameter types with generics, so dependencies are
// known at registration and Build validates the whole graph: a missing
// provider names who needs it, a cycle is reported with its path
// (`di: dependency cycle: *app.A -> *app.B -> *app.A`) and a singleton that
// needs a scoped or external value is a captive-dependency error. ProvideFunc
// registers an arbitrary func through reflection, as a convenience off the
// hot path.
//
// Lifetimes: a Singleton is built once per graph on first use (safely under
// concurrency) and cleaned up by Graph.Close; a Scoped value is built once
// per Scope (one HTTP request) and cleaned up by Scope.Close; a Transient is
// built on every resolution. Cleanups run in reverse creation order, each
// protected from the others' panics. Override and OverrideValue replace a
// provider, e.g. a real database by a fake in tests.
//
// External (request-bound) types are declared with Graph.External or
// Graph.ExternalFunc; a scope gets them from its ExternalSource, once per
// type, or from Scope.SetExternal. Graph.ExternalsOf lists the external
// types a type transitively needs (an endpoint's transitive parameters).
//
// Build compiles a plan once: every provider gets a node bound directly to
// its dependencies' nodes, and every scoped type a slot index in the scope.
// Resolution follows those pointers and slots; it does no map lookup, no
// reflection and no reflect.Value.Call. Per request, a binder does:
//
//	r, _ := g.Resolver(t)          // at setup, for each dependency type
//	…
//	s := g.NewScope(src)           // per request (pooled)
//	defer s.Close()
//	v, err := r.Resolve(s)
//
// Generic code can use ResolverFor[T] at setup and Resolve[T](s) anywhere.
// An owner that has compiled what it resolves calls Graph.Seal: later
// registrations panic naming the type and call site instead of being
// silently ignored (graft seals the app's graph when start-up ends).
// A provider's error comes back as a *BuildError naming the type being
// built; a provider's panic is recovered into one as well.
package di
