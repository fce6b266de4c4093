package graft

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// route is one registered endpoint.
type route struct {
	method     string // "" for any method
	pattern    string // full pattern, group prefixes included
	paramNames []string
	wild       bool   // the pattern ends with a catch-all
	name       string // handler name, for listings
	handler    HandlerFunc
	final      HandlerFunc // handler with middleware and plugins, built at start
	sc         *scope
	settings
	// assemblers run at start-up, in order, before middleware is applied;
	// typed endpoints and plugins use them to build the served handler.
	assemblers []func(rt *route) error
	// Meta holds what typed endpoints and plugins attach to the route
	// (its signature), keyed by their own types.
	meta map[any]any
	// headerHooks and codecs are the response-header hooks and body codecs
	// of the route's scopes, fixed at start.
	headerHooks []func(*Ctx, int)
	codecs      *codecs
}

// settings are the options shared by groups and routes.
type settings struct {
	mws       []Middleware
	bodyLimit int64
	label     string
	plugins   []Plugin      // typed-endpoint plugins (plugin.go)
	outcomes  []outcomeDecl // typed-endpoint outcomes (outcome.go)
	// keepAlive is the event streams' keep-alive interval (sse.go).
	keepAlive    time.Duration
	hasKeepAlive bool
	// formLimits are typed endpoints' form limits (form.go).
	formLimits *FormLimits
	// op describes the route in API documents (operation.go).
	op operation
}

// Option configures a route or a group.
type Option func(*settings)

// WithMiddleware adds middleware to a group or a single route.
func WithMiddleware(mw ...Middleware) Option {
	return func(s *settings) { s.mws = append(s.mws, mw...) }
}

// WithBodyLimit sets the request body limit of a group's routes or one route.
func WithBodyLimit(n int64) Option {
	return func(s *settings) { s.bodyLimit = n }
}

// WithName names a route for listings (Routes) instead of its handler's
// function name.
func WithName(name string) Option {
	return func(s *settings) { s.label = name }
}

// scope is one level of route grouping: the app itself or a group.
type scope struct {
	core   *core
	parent *scope
	prefix string // full prefix, parents included
	settings
	sealed      bool // a route was registered in the scope or below
	extMws      []extMiddleware
	headerHooks []func(c *Ctx, status int)
	codecs      *codecs
	values      []any // scope values by index (scopevalue.go)
}

// lineage returns the scopes from the app down to sc.
func (sc *scope) lineage() []*scope {
	var ls []*scope
	for s := sc; s != nil; s = s.parent {
		ls = append(ls, s)
	}
	for i, j := 0, len(ls)-1; i < j; i, j = i+1, j-1 {
		ls[i], ls[j] = ls[j], ls[i]
	}
	return ls
}

// middleware returns the middleware of every scope from the app down to
// sc, for route rt (nil for the 404 and 405 answers); in each scope,
// extension middleware wraps the scope's own.
func (sc *scope) middleware(rt *route) []Middleware {
	var mws []Middleware
	for _, s := range sc.lineage() {
		for _, m := range s.extMws {
			mws = append(mws, m.bind(rt))
		}
		mws = append(mws, s.mws...)
	}
	return mws
}

// hooks returns the response-header hooks of every scope from the app down.
func (sc *scope) hooks() []func(*Ctx, int) {
	var hs []func(*Ctx, int)
	for _, s := range sc.lineage() {
		hs = append(hs, s.headerHooks...)
	}
	return hs
}

// codecTable returns the body codecs in force in sc.
func (sc *scope) codecTable() *codecs {
	cd := sc.core.codecs
	for _, s := range sc.lineage() {
		cd = cd.merge(s.codecs)
	}
	return cd
}

// chain wraps h with mws; the first middleware is the outermost.
func chain(mws []Middleware, h HandlerFunc) HandlerFunc {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// assemble builds the handler the route serves: its assemblers (typed
// binding, plugins) first, then middleware of the app, its groups and the
// route itself, outermost first.
func (rt *route) assemble() error {
	rt.codecs = rt.sc.codecTable() // before the assemblers: endpoints read it
	for _, as := range rt.assemblers {
		if err := as(rt); err != nil {
			return err
		}
	}
	mws := append(rt.sc.middleware(rt), rt.mws...)
	rt.final = chain(mws, rt.handler)
	rt.headerHooks = rt.sc.hooks()
	if rt.bodyLimit == 0 {
		for s := rt.sc; s != nil; s = s.parent {
			if s.bodyLimit != 0 {
				rt.bodyLimit = s.bodyLimit
				break
			}
		}
	}
	return nil
}

// Group is a set of routes under a common path prefix with its own
// middleware, extensions and plugins; groups nest. App embeds the root
// group, so every Group method is also an App method.
type Group[C any] struct {
	sc *scope
}

// routerScope gives package functions (typed endpoints, WebSocket routes)
// access to where a Router registers.
func (g *Group[C]) routerScope() *scope { return g.sc }

// Router is implemented by *App[C] and *Group[C]: the places typed
// endpoints (Get, Post, …) and WebSocket routes register on.
type Router interface {
	routerScope() *scope
}

// Group returns a sub-group whose routes are registered under prefix.
func (g *Group[C]) Group(prefix string, opts ...Option) *Group[C] {
	g.sc.core.checkNotStarted("adding group " + prefix)
	if prefix == "" || prefix[0] != '/' || strings.ContainsAny(prefix, "{}") {
		setupPanic("group prefix %q must begin with '/' and have no wildcards", prefix)
	}
	sc := &scope{core: g.sc.core, parent: g.sc, prefix: g.sc.prefix + strings.TrimSuffix(prefix, "/")}
	for _, o := range opts {
		o(&sc.settings)
	}
	sc.core.groups = append(sc.core.groups, sc)
	return &Group[C]{sc: sc}
}

// Use adds middleware to the group: it wraps every route of the group and
// its sub-groups, whenever they were registered. On the App it also wraps
// the 404 and 405 answers.
func (g *Group[C]) Use(mw ...Middleware) {
	g.sc.core.checkNotStarted("adding middleware")
	g.sc.mws = append(g.sc.mws, mw...)
}

// UseHTTP adds standard net/http middleware to the group (see HTTPMiddleware).
func (g *Group[C]) UseHTTP(mw ...func(http.Handler) http.Handler) {
	for _, m := range mw {
		g.Use(HTTPMiddleware(m))
	}
}

// adapt turns a handler on the app's context type into a HandlerFunc.
func adapt[C any](h func(*C) error) HandlerFunc {
	if f, ok := any(h).(func(*Ctx) error); ok {
		return f
	}
	return func(c *Ctx) error { return h((*C)(c.self)) }
}

// Handle registers h for method and pattern ("" method: any method).
func (g *Group[C]) Handle(method, pattern string, h func(*C) error, opts ...Option) {
	if h == nil {
		setupPanic("route %s %s: handler is nil", method, pattern)
	}
	checkPlainOptions(method, g.sc.prefix+pattern, opts)
	addRoute(g.sc, method, pattern, adapt(h), handlerName(h), opts)
}

// GET registers a handler for GET (and HEAD) requests.
func (g *Group[C]) GET(pattern string, h func(*C) error, opts ...Option) {
	g.Handle(http.MethodGet, pattern, h, opts...)
}

// HEAD registers a handler for HEAD requests.
func (g *Group[C]) HEAD(pattern string, h func(*C) error, opts ...Option) {
	g.Handle(http.MethodHead, pattern, h, opts...)
}

// POST registers a handler for POST requests.
func (g *Group[C]) POST(pattern string, h func(*C) error, opts ...Option) {
	g.Handle(http.MethodPost, pattern, h, opts...)
}

// PUT registers a handler for PUT requests.
func (g *Group[C]) PUT(pattern string, h func(*C) error, opts ...Option) {
	g.Handle(http.MethodPut, pattern, h, opts...)
}

// PATCH registers a handler for PATCH requests.
func (g *Group[C]) PATCH(pattern string, h func(*C) error, opts ...Option) {
	g.Handle(http.MethodPatch, pattern, h, opts...)
}

// DELETE registers a handler for DELETE requests.
func (g *Group[C]) DELETE(pattern string, h func(*C) error, opts ...Option) {
	g.Handle(http.MethodDelete, pattern, h, opts...)
}

// OPTIONS registers a handler for OPTIONS requests.
func (g *Group[C]) OPTIONS(pattern string, h func(*C) error, opts ...Option) {
	g.Handle(http.MethodOptions, pattern, h, opts...)
}

// Any registers a handler for every method not registered otherwise on the
// same pattern.
func (g *Group[C]) Any(pattern string, h func(*C) error, opts ...Option) {
	g.Handle("", pattern, h, opts...)
}

// HandleHTTP registers a standard http.Handler for method and pattern ("":
// any method).
func (g *Group[C]) HandleHTTP(method, pattern string, h http.Handler, opts ...Option) {
	if h == nil {
		setupPanic("route %s %s: handler is nil", method, pattern)
	}
	checkPlainOptions(method, g.sc.prefix+pattern, opts)
	addRoute(g.sc, method, pattern, fromHTTP(h), handlerName(h), opts)
}

// Mount serves h for every request whose path is prefix or starts with
// prefix + "/", for all methods. h sees the full request path; wrap it in
// http.StripPrefix to remove the prefix.
func (g *Group[C]) Mount(prefix string, h http.Handler, opts ...Option) {
	prefix = strings.TrimSuffix(prefix, "/")
	hf := fromHTTP(h)
	name := handlerName(h)
	checkPlainOptions("", g.sc.prefix+prefix, opts)
	if prefix != "" {
		addRoute(g.sc, "", prefix, hf, name, opts)
	}
	addRoute(g.sc, "", prefix+"/{mount...}", hf, name, opts)
}

// fromHTTP adapts a standard handler.
func fromHTTP(h http.Handler) HandlerFunc {
	return func(c *Ctx) error {
		h.ServeHTTP(&c.rw, c.Request)
		return nil
	}
}

// AddRoute registers a HandlerFunc on r: the entry point for packages that
// build handlers of their own (typed endpoints, WebSocket routes). It
// returns a Route through which they attach start-up assembly steps.
func AddRoute(r Router, method, pattern string, h HandlerFunc, name string, opts ...Option) *Route {
	return &Route{rt: addRoute(r.routerScope(), method, pattern, h, name, opts)}
}

// addRoute validates and inserts a route; setup mistakes panic with a
// message naming the route.
func addRoute(sc *scope, method, pattern string, h HandlerFunc, name string, opts []Option) *route {
	a := sc.core
	full := sc.prefix + pattern
	if !a.extending {
		a.checkNotStarted("registering route " + method + " " + full)
	}
	for s := sc; s != nil; s = s.parent {
		s.sealed = true
	}
	if method != "" {
		if methodIndex(method) < 0 {
			setupPanic("route %s %s: unknown method %q; use GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, CONNECT, TRACE or Any", method, full, method)
		}
	}
	segs, names, err := parsePattern(full)
	if err != nil {
		setupPanic("route %s %s: %v", methodLabel(method), full, err)
	}
	if len(names) > maxParams {
		setupPanic("route %s %s: more than %d wildcards", methodLabel(method), full, maxParams)
	}
	rt := &route{method: method, pattern: full, paramNames: names, name: name, handler: h, sc: sc, wild: segs[len(segs)-1].kind == 'w'}
	for _, o := range opts {
		o(&rt.settings)
	}
	if rt.label != "" {
		rt.name = rt.label
	}
	l := a.root.insert(segs, full)
	var slot **route
	if method == "" {
		slot = &l.any
	} else {
		slot = &l.byMethod[methodIndex(method)]
	}
	if old := *slot; old != nil {
		what := "is registered twice"
		if old.pattern != full {
			what = fmt.Sprintf("conflicts with %s %s (same shape %s)", methodLabel(old.method), old.pattern, shape(segs))
		}
		setupPanic("route %s %s %s; remove one or change its path", methodLabel(method), full, what)
	}
	*slot = rt
	a.routes = append(a.routes, rt)
	return rt
}

func methodLabel(m string) string {
	if m == "" {
		return "ANY"
	}
	return m
}

// Route is the handle of a registered route, returned by the registration
// functions (GET, Handle, graft.Get, ws.Route…): it names the route,
// carries what typed endpoints and plugins attach to it, and reaches the
// endpoint's Signature. RouteInfo is the read-only line of a listing.
type Route struct {
	rt *route
}

// Method returns the route's method, "" for any method.
func (ri *Route) Method() string { return ri.rt.method }

// Pattern returns the route's full pattern.
func (ri *Route) Pattern() string { return ri.rt.pattern }

// Handler returns the name of the route's handler.
func (ri *Route) Handler() string { return ri.rt.name }

// ParamNames returns the names of the pattern's wildcards, in order.
func (ri *Route) ParamNames() []string { return ri.rt.paramNames }

// Meta returns the value attached to the route under key, if any.
func (ri *Route) Meta(key any) (any, bool) {
	v, ok := ri.rt.meta[key]
	return v, ok
}

// SetMeta attaches v to the route under key (e.g. an endpoint signature).
func (ri *Route) SetMeta(key, v any) {
	if ri.rt.meta == nil {
		ri.rt.meta = map[any]any{}
	}
	ri.rt.meta[key] = v
}

// OnAssemble adds a start-up step that may replace the route's handler
// (SetHandler) before middleware is applied. Steps run in the order added.
func (ri *Route) OnAssemble(fn func(ri *Route) error) {
	ri.rt.assemblers = append(ri.rt.assemblers, func(rt *route) error { return fn(ri) })
}

// HandlerFunc returns the handler the route serves before middleware.
func (ri *Route) HandlerFunc() HandlerFunc { return ri.rt.handler }

// SetHandler replaces the handler the route serves before middleware.
func (ri *Route) SetHandler(h HandlerFunc) { ri.rt.handler = h }

// RouteInfo is one line of App.Routes: a description, for listings.
type RouteInfo struct {
	Method  string // "" for any method
	Pattern string
	Handler string
}

// Routes lists the registered routes sorted by pattern, then method.
func (a *core) Routes() []RouteInfo {
	rs := make([]RouteInfo, 0, len(a.routes))
	for _, rt := range a.routes {
		rs = append(rs, RouteInfo{Method: rt.method, Pattern: rt.pattern, Handler: rt.name})
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Pattern != rs[j].Pattern {
			return rs[i].Pattern < rs[j].Pattern
		}
		return rs[i].Method < rs[j].Method
	})
	return rs
}
