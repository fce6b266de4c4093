package graft

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"unsafe"

	"github.com/graftgo/graft/di"
)

// Handler is the shape of a typed endpoint: it gets the request's context
// and the bound, validated input, and returns the output to encode or an
// error for the app's error handler (an *HTTPError chooses the status).
type Handler[In, Out any] func(ctx context.Context, in *In) (*Out, error)

// Endpoint is the handler shape plugins wrap: the request context, the
// pooled Ctx and the bound input (a *In, boxed) in, the output (a *Out,
// boxed, or nil) out. A plugin that wraps next must pass in through (it may
// fill In's plugin fields first, see PluginField) and may return its own
// output instead of next's: a value that is not the endpoint's *Out is
// answered as JSON with the default status.
type Endpoint func(ctx context.Context, c *Ctx, in any) (any, error)

// Get registers a typed GET (and HEAD) endpoint on r (an App or a Group).
//
// In is a struct whose fields say where each value comes from: tags path,
// query, header, cookie and form (files as *multipart.FileHeader), a field
// named Body for the request body (JSON, or a body codec of the scope such
// as ext/msgpack's), inject for values from
// the app's dependency graph, and plugin for values only plugins fill.
// Validation tags (required, min, max, minLength, maxLength, pattern, enum,
// format) are compiled with the binding plan, once. Out is a struct with an
// optional Status int field (`default:"201"` sets the default status),
// header-tagged fields for response headers and a Body field, encoded as
// JSON or, when the Accept header prefers one, in a body codec of the
// scope (see BodyCodec).
//
// Setup mistakes (unknown tags, a path tag naming no wildcard, a wildcard
// without a field, a field type that cannot be bound) panic here with a
// message naming the route, the field and the fix. See docs/endpoints.md.
func Get[In, Out any](r Router, pattern string, h Handler[In, Out], opts ...Option) *Route {
	return register(r, http.MethodGet, pattern, h, opts)
}

// Post registers a typed POST endpoint on r; see Get.
func Post[In, Out any](r Router, pattern string, h Handler[In, Out], opts ...Option) *Route {
	return register(r, http.MethodPost, pattern, h, opts)
}

// Put registers a typed PUT endpoint on r; see Get.
func Put[In, Out any](r Router, pattern string, h Handler[In, Out], opts ...Option) *Route {
	return register(r, http.MethodPut, pattern, h, opts)
}

// Patch registers a typed PATCH endpoint on r; see Get.
func Patch[In, Out any](r Router, pattern string, h Handler[In, Out], opts ...Option) *Route {
	return register(r, http.MethodPatch, pattern, h, opts)
}

// Delete registers a typed DELETE endpoint on r; see Get.
func Delete[In, Out any](r Router, pattern string, h Handler[In, Out], opts ...Option) *Route {
	return register(r, http.MethodDelete, pattern, h, opts)
}

// endpoint is the compiled, non-generic part of a typed endpoint.
type endpoint struct {
	sig    *Signature
	in     *inPlan
	out    *outPlan
	app    *core
	graph  *di.Graph
	scoped bool
	static bool // nothing to bind or resolve: served without binding work
	// per dependency of in.deps: its resolver, and its value when it was
	// resolved once at start-up (singletons)
	resolvers []di.Resolver
	fixed     []any
	hasFixed  bool
	exts      []*extBinder       // request structs that providers take
	call      Endpoint           // plugin chain; nil when no plugin wrapped
	outcomes  []declared         // what Respond may answer, fixed at start-up
	preBind   []func(*Ctx) error // plugins' hooks run before binding (Signature.PreBind)
	mws       []Middleware       // plugins' endpoint middleware (Signature.Use), after the pre-bind hooks
	form      formLimits         // limits of a form body, fixed at start-up
	pbinds    []*pluginBind      // params plugins bind into plugin fields
	bodies    []typedBody        // the body codecs of the scope, compiled for the Body type
}

// extBinder binds a request struct a provider takes (a transitive param).
type extBinder struct {
	typ  reflect.Type // as the provider asks for it: T or *T
	elem reflect.Type // T
	plan *inPlan
}

// request is the per-request state of a typed endpoint, allocated with the
// input in one object; it is the scope's source of external values.
type request struct {
	c   *Ctx
	ep  *endpoint
	e   errs
	ext []any
	raw string // a plugin param's raw value while its constraints are checked
}

// reqState is what one request of a typed endpoint uses: the input and the
// binder's state, taken from the endpoint's pool (see handlerFor).
type reqState[In any] struct {
	in  In
	req request
}

var (
	typeRequest = reflect.TypeFor[*http.Request]()
	typeContext = reflect.TypeFor[context.Context]()
	typeCtx     = reflect.TypeFor[*Ctx]()
)

// External supplies request-bound values to the dependency scope: the
// *http.Request, its context.Context, the *Ctx and the request structs
// bound for the endpoint's providers.
func (rq *request) External(t reflect.Type) (any, error) {
	switch t {
	case typeRequest:
		return rq.c.Request, nil
	case typeContext:
		return rq.c.Request.Context(), nil
	case typeCtx:
		return rq.c, nil
	}
	for i, x := range rq.ep.exts {
		if x.typ == t {
			return rq.ext[i], nil
		}
	}
	return nil, fmt.Errorf("graft cannot supply %s per request", t)
}

// newGraph makes the app's dependency graph: request-bound values
// (*http.Request, context.Context, *graft.Ctx and request structs) are
// declared external, and the graph is closed when the app stops.
func newGraph(a *core) *di.Graph {
	g := di.New()
	g.External(typeRequest, typeContext, typeCtx)
	g.ExternalFunc(isRequestStruct)
	a.OnShutdown(func(context.Context) {
		if err := g.Close(); err != nil {
			a.logger.Error("graft: closing the dependency graph", "err", err)
		}
	})
	return g
}

// isRequestStruct reports whether t (a struct or pointer to one) has
// fields tagged path, query, header or cookie: such types are bound from
// the request when a provider takes them.
func isRequestStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag
		for _, k := range [...]string{"path", "query", "header", "cookie"} {
			if _, ok := tag.Lookup(k); ok {
				return true
			}
		}
	}
	return false
}

// Graph returns the app's dependency graph. Register providers on it
// before Start; lifespan start hooks may register the resources they
// create (di.Value). Typed endpoints resolve their inject fields from it,
// plugins receive it, and it is closed when the app stops.
func (a *core) Graph() *di.Graph { return a.graph }

// register is what Get, Post… do: compile the plans, register the route
// and add the start-up step that resolves dependencies, applies plugins and
// installs the handler.
func register[In, Out any](r Router, method, pattern string, h Handler[In, Out], opts []Option) *Route {
	if h == nil {
		setupPanic("endpoint %s %s: handler is nil", method, r.routerScope().prefix+pattern)
	}
	ri, _ := registerPlan(r, method, pattern, h, handlerName(h), nil, opts)
	if ri.rt.hasKeepAlive {
		setupPanic("endpoint %s %s: graft.WithStreamKeepAlive applies to graft.SSE endpoints; give it to the SSE endpoint or its group", method, ri.Pattern())
	}
	return ri
}

// registerPlan is register with the route's listing name and, when out is
// not nil, a response plan built by the caller (SSE) instead of Out's.
func registerPlan[In, Out any](r Router, method, pattern string, h Handler[In, Out], name string, out *outPlan, opts []Option) (*Route, *endpoint) {
	sc := r.routerScope()
	full := sc.prefix + pattern
	_, names, err := parsePattern(full)
	if err != nil {
		setupPanic("route %s %s: %v", method, full, err)
	}
	in, err := compileIn(reflect.TypeFor[In](), names, false)
	if err != nil {
		setupPanic("endpoint %s %s: %v", method, full, err)
	}
	if out == nil {
		if out, err = compileOut(reflect.TypeFor[Out]()); err != nil {
			setupPanic("endpoint %s %s: %v", method, full, err)
		}
	}
	ep := &endpoint{in: in, out: out, app: sc.core}
	ep.sig = newSignature(method, full, in, out)
	ri := AddRoute(r, method, pattern, notAssembled, name, opts...)
	addOutcomes(ep.sig, ri)
	ri.SetMeta(sigKey{}, ep.sig)
	ri.OnAssemble(func(ri *Route) error {
		if err := ep.assemble(ri); err != nil {
			return err
		}
		base := func(ctx context.Context, _ *Ctx, in any) (any, error) { return h(ctx, in.(*In)) }
		call, err := applyPlugins(ri, ep, base)
		if err != nil {
			return err
		}
		if err := ep.finishPlugins(ri); err != nil {
			return err
		}
		if funcPtr(call) != funcPtr(Endpoint(base)) {
			ep.call = call
		}
		if err := ep.compileOutcomes(); err != nil {
			return fmt.Errorf("graft: endpoint %s %s: %w", methodLabel(ri.Method()), ri.Pattern(), err)
		}
		ri.SetHandler(ep.guarded(ep.withMiddleware(handlerFor(ep, h))))
		return nil
	})
	return ri, ep
}

func notAssembled(*Ctx) error {
	return errors.New("graft: typed endpoint served before start-up assembled it")
}

// funcPtr returns the identity of a func value (its closure pointer).
func funcPtr[F any](f F) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&f)) }

// assemble completes the endpoint at start-up, after the lifespan hooks:
// it resolves the dependency plan, fills the signature's dependencies,
// transitive params and scoped flag, and resolves singletons once.
func (ep *endpoint) assemble(ri *Route) error {
	a := ep.app
	ep.graph = a.graph
	g := ep.graph
	deps := ep.in.deps
	defer func() { ep.static = ep.sig.Static() }()
	name := methodLabel(ri.Method()) + " " + ri.Pattern()
	if b := ep.in.body; b != nil && b.raw == 0 {
		// Bodies beside JSON are read where a body codec is registered
		// (ext/msgpack): the signature says what the endpoint reads.
		var err error
		if ep.bodies, err = compileBodies(ri.rt.codecs, b.Type); err != nil {
			return fmt.Errorf("graft: endpoint %s: %w", name, err)
		}
		if ep.sig.Body != nil {
			ep.sig.Body.MediaTypes = bodyMediaTypes(ep.bodies)
		}
	}
	if ep.in.form {
		ep.form = resolveFormLimits(ri.rt, a.cfg.bodyLimit())
		ep.form.report(ep.sig.Form)
	} else if ri.rt.formLimits != nil {
		return fmt.Errorf("graft: endpoint %s: WithFormLimits on an endpoint that reads no form; add form fields to its input or drop the option", name)
	}
	if len(deps) == 0 {
		return nil
	}
	if err := g.Build(); err != nil {
		return fmt.Errorf("graft: endpoint %s: the dependency graph does not validate: %w", name, err)
	}
	ep.resolvers = make([]di.Resolver, len(deps))
	ep.fixed = make([]any, len(deps))
	seenExt := map[reflect.Type]bool{}
	for i, d := range deps {
		fail := func(err error) error {
			return fmt.Errorf("graft: endpoint %s: field %s (inject %s): %w", name, d.Field, d.Type, err)
		}
		if d.reqVal = requestValueOf(d.Type, a.ctxType); d.reqVal != noReqValue && !g.Provides(d.Type) {
			d.RequestBound = true
			ep.hasFixed = true // stored with the fixed values, no scope needed
			continue
		}
		d.reqVal = noReqValue
		res, err := g.Resolver(d.Type)
		if err != nil {
			return fail(err)
		}
		ep.resolvers[i] = res
		bound, err := g.RequestBound(d.Type)
		if err != nil {
			return fail(err)
		}
		lt, _ := g.LifetimeOf(d.Type)
		d.Lifetime, d.RequestBound = lt, bound
		exts, err := g.ExternalsOf(d.Type)
		if err != nil {
			return fail(err)
		}
		for _, t := range exts {
			if t == typeRequest || t == typeContext || t == typeCtx || seenExt[t] {
				continue
			}
			seenExt[t] = true
			if !isRequestStruct(t) {
				return fail(fmt.Errorf("it needs the external type %s, which graft cannot supply per request; provide it (di.Provide) or take a request struct with path, query, header or cookie fields", t))
			}
			elem := t
			if elem.Kind() == reflect.Pointer {
				elem = elem.Elem()
			}
			pl, err := compileIn(elem, ri.ParamNames(), true)
			if err != nil {
				return fail(fmt.Errorf("request struct %s: %w", t, err))
			}
			ep.exts = append(ep.exts, &extBinder{typ: t, elem: elem, plan: pl})
			for _, p := range pl.params {
				ep.sig.TransitiveParams = append(ep.sig.TransitiveParams, p.Param)
			}
		}
		if !bound && lt == di.Singleton {
			s := g.NewScope(nil)
			v, err := res.Resolve(s)
			_ = s.Close()
			if err != nil {
				return fail(err)
			}
			ep.fixed[i] = v
			ep.hasFixed = true
			continue
		}
		ep.scoped = true
	}
	ep.sig.Dependencies = ep.sig.Dependencies[:0]
	for _, d := range deps {
		ep.sig.Dependencies = append(ep.sig.Dependencies, d.Dependency)
	}
	ep.sig.Scoped = ep.scoped
	return nil
}

// handlerFor builds the HandlerFunc of a typed endpoint: the only generic
// code on the request path, so the user's handler is called directly.
func handlerFor[In, Out any](ep *endpoint, h Handler[In, Out]) HandlerFunc {
	if ep.static && ep.call == nil {
		return func(c *Ctx) error {
			if err := ep.runPreBind(c); err != nil {
				return ep.answer(c, err)
			}
			out, err := h(c.Request.Context(), new(In))
			if err != nil {
				return ep.answer(c, err)
			}
			return ep.out.write(c, unsafe.Pointer(out))
		}
	}
	// The input and the request state come from a pool per endpoint: the
	// input is valid until the handler returns (as the *Ctx is), which is
	// what docs/endpoints.md promises. A state goes back only after a
	// request that ended without error or panic, and only zeroed, so the
	// next request starts from a zero In whatever the handler did to it;
	// after a failure it is left to the collector (a 422's errors may still
	// be on their way to the client).
	var pool sync.Pool
	serve := func(c *Ctx, st *reqState[In]) error {
		rq := &st.req
		rq.c, rq.ep = c, ep
		p := unsafe.Pointer(&st.in)
		if err := ep.bind(c, p, rq); err != nil {
			return ep.answer(c, err) // a plugin param's decoder may answer an outcome
		}
		if ep.scoped {
			s := ep.graph.NewScope(rq)
			defer ep.closeScope(c, s)
			if err := ep.resolve(c, s, p); err != nil {
				var pe *di.PanicError
				if errors.As(err, &pe) {
					// A provider panicked (di recovered it): a panic
					// of the endpoint, answered as one.
					c.app.handlePanic(c, pe.Value, pe.Stack)
					return nil
				}
				return err
			}
		} else if ep.hasFixed {
			ep.storeFixed(c, p)
		}
		ctx := c.Request.Context()
		if ep.call != nil {
			o, err := ep.call(ctx, c, &st.in)
			if err != nil {
				return ep.answer(c, err)
			}
			switch o := o.(type) {
			case *Out:
				return ep.out.write(c, unsafe.Pointer(o))
			case nil:
				return ep.out.write(c, nil)
			default:
				return c.JSON(ep.out.defStatus, o)
			}
		}
		out, err := h(ctx, &st.in)
		if err != nil {
			return ep.answer(c, err)
		}
		return ep.out.write(c, unsafe.Pointer(out))
	}
	return func(c *Ctx) error {
		if err := ep.runPreBind(c); err != nil {
			return ep.answer(c, err)
		}
		st, _ := pool.Get().(*reqState[In])
		if st == nil {
			st = new(reqState[In])
		}
		if err := serve(c, st); err != nil {
			return err
		}
		*st = reqState[In]{}
		pool.Put(st)
		return nil
	}
}

// bind fills the input at p from the request: the params plugins bind,
// the form, params, the request structs providers take, the body. Media type, size and syntax problems end
// it at once (415, 413, 400); every field problem is collected into one 422.
func (ep *endpoint) bind(c *Ctx, p unsafe.Pointer, rq *request) error {
	pl := ep.in
	e := &rq.e
	for _, b := range ep.pbinds {
		if err := b.bind(c, p, rq); err != nil {
			return err
		}
	}
	if pl.form {
		if err := pl.parseForm(c, &ep.form); err != nil {
			return err
		}
	}
	pl.bindParams(c, p, e)
	if len(ep.exts) > 0 {
		rq.ext = make([]any, len(ep.exts))
		for i, x := range ep.exts {
			v := reflect.New(x.elem)
			x.plan.bindParams(c, v.UnsafePointer(), e)
			if x.typ.Kind() == reflect.Pointer {
				rq.ext[i] = v.Interface()
			} else {
				rq.ext[i] = v.Elem().Interface()
			}
		}
	}
	if pl.body != nil {
		if err := pl.body.bind(c, p, e, ep.app.cfg.DisallowUnknownFields, ep.bodies); err != nil {
			return err
		}
	}
	if len(e.list) > 0 {
		return &HTTPError{Status: http.StatusUnprocessableEntity, Detail: "the request has invalid fields; see errors", Errors: e.list, ErrorsTruncated: e.truncated}
	}
	return nil
}

// resolve stores the endpoint's dependencies, resolved in scope s, into
// the input at p.
func (ep *endpoint) resolve(c *Ctx, s *di.Scope, p unsafe.Pointer) error {
	for i, d := range ep.in.deps {
		if d.reqVal != noReqValue {
			d.storeRequestValue(c, unsafe.Add(p, d.off))
			continue
		}
		v := ep.fixed[i]
		if v == nil {
			var err error
			if v, err = ep.resolvers[i].Resolve(s); err != nil {
				return depError(d, err)
			}
		}
		d.store(unsafe.Add(p, d.off), v)
	}
	return nil
}

// storeFixed stores the dependencies resolved at start-up and the
// request values (*Ctx, *http.Request…) inject fields take.
func (ep *endpoint) storeFixed(c *Ctx, p unsafe.Pointer) {
	for i, d := range ep.in.deps {
		if d.reqVal != noReqValue {
			d.storeRequestValue(c, unsafe.Add(p, d.off))
			continue
		}
		d.store(unsafe.Add(p, d.off), ep.fixed[i])
	}
}

// reqValue names a request value an inject field may take without the
// graph: stored from the Ctx per request, no scope, no allocation.
type reqValue uint8

const (
	noReqValue reqValue = iota
	reqCtx              // *graft.Ctx
	reqAppCtx           // *C, the app's own context type
	reqRequest          // *http.Request
	reqContext          // context.Context
)

// requestValueOf reports which request value an inject field of type t
// takes, if any; appCtx is the app's context type.
func requestValueOf(t, appCtx reflect.Type) reqValue {
	switch t {
	case typeCtx:
		return reqCtx
	case typeRequest:
		return reqRequest
	case typeContext:
		return reqContext
	}
	if appCtx != nil && t == reflect.PointerTo(appCtx) {
		return reqAppCtx
	}
	return noReqValue
}

func (d *depField) storeRequestValue(c *Ctx, fp unsafe.Pointer) {
	switch d.reqVal {
	case reqCtx:
		*(**Ctx)(fp) = c
	case reqAppCtx:
		*(*unsafe.Pointer)(fp) = c.self
	case reqRequest:
		*(**http.Request)(fp) = c.Request
	case reqContext:
		*(*context.Context)(fp) = c.Request.Context()
	}
}

// depError turns a resolution error into the error to answer: an
// *HTTPError a provider returned keeps its status; anything else is a 500.
func depError(d *depField, err error) error {
	var he *HTTPError
	if errors.As(err, &he) {
		return he
	}
	return &HTTPError{Status: http.StatusInternalServerError, Err: fmt.Errorf("resolving %s for field %s: %w", d.Type, d.Field, err)}
}

// guarded puts h behind the endpoint's panic handler (Signature.OnPanic):
// the panics of its pre-bind hooks, plugin middleware, binding,
// providers, wrappers and handler go to it; the code around the endpoint
// keeps its own.
func (ep *endpoint) guarded(h HandlerFunc) HandlerFunc {
	ph := ep.sig.plug.panicH
	if ph == nil {
		return h
	}
	return func(c *Ctx) error {
		outer := c.panicH
		c.panicH = ph
		defer c.app.guardEndpoint(c, outer)
		return h(c)
	}
}

// closeScope closes a request's dependency scope, cleaning up its values;
// deferred, so it runs when the handler panics too.
func (ep *endpoint) closeScope(c *Ctx, s *di.Scope) {
	if err := s.Close(); err != nil {
		c.app.logger.Error("graft: dependency cleanup failed", "route", ep.sig.Route, "err", err)
	}
}
