package graft

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/graftgo/graft/config"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/internal/pool"
)

// HandlerFunc is the framework's own handler shape: it gets the request
// context and returns an error, which the app's error handler turns into a
// response.
type HandlerFunc func(c *Ctx) error

// Middleware wraps a handler. Middleware, plugin wrappers and the final
// handler are composed once per route at start-up, never per request.
type Middleware func(next HandlerFunc) HandlerFunc

// core is the part of an App that does not depend on the app's context
// type: the route tree, the pools, the lifecycle.
type core struct {
	cfg    Config
	logger *slog.Logger
	flags  *flag.FlagSet
	errH   ErrorHandler

	root   node               // every route: conflicts, 405 answers, unknown methods
	mtrees [numMethods]*fnode // one compiled tree per method, built at start
	routes []*route
	top    *scope

	ctxType reflect.Type
	newCtx  func() *Ctx
	mixins  *mixinLayout // the mixins of ctxType, nil for graft.Ctx itself
	pool    *pool.Pool[Ctx]

	graph *di.Graph // dependency graph of typed endpoints and plugins (endpoint.go)
	// conf loads cfg and the sections of extensions and plugins from the
	// TOML file, the environment and flags (configload.go).
	conf        *config.Loader
	confTargets []any
	printOut    io.Writer // where --print-config writes; nil: os.Stdout
	hooks       []Hook
	startSeq    []startStep
	exts        extensionSet
	codecs      *codecs // the app's mother codecs (JSON)
	topCodecs   *codecs // the top scope's codecs (404, 405), set by build
	groups      []*scope
	// groupCodecs are the codecs of the groups with codecs of their own,
	// longest prefix first: a 404 or 405 under a group's prefix answers
	// with them (set by build).
	groupCodecs []prefixCodecs

	// extending is set while extensions' Extend runs: they may add
	// routes then (Builder.Handle).
	extending bool
	// assembled are the Builder.OnAssembled hooks, run after every route
	// was assembled.
	assembled []assembledHook

	state     atomic.Int32 // stateNew, stateStarting, stateRunning, stateStopped
	buildOnce sync.Once
	buildErr  error
	started   []Hook // hooks whose OnStart succeeded, for rollback and stop

	topHooks         []func(*Ctx, int)
	notFound         HandlerFunc
	methodNotAllowed HandlerFunc
	shutdownFns      []func(context.Context)
	srv              server
	streams          streamSet // event streams, ended at shutdown (sse.go)
}

const (
	stateNew int32 = iota
	stateStarting
	stateRunning
	stateStopped
)

// startStep is one phase of start-up that other parts of the framework
// (extensions, endpoints, plugins) contribute.
type startStep struct {
	name string
	run  func(ctx context.Context) error
}

// App is a graft application: an http.Handler with a router, pooled request
// contexts of type C, extensions, plugins and a server lifecycle.
//
// C is the app's context type: Ctx itself, or a struct that embeds Ctx and
// the mixins of the extensions it uses, whose methods thereby become methods
// of the context handed to handlers.
type App[C any] struct {
	*core
	rootGroup[C]
}

// rootGroup names the App's embedded root group so that the embedded field
// does not hide the Group method.
type rootGroup[C any] = Group[C]

// New makes an App whose handlers receive *graft.Ctx: the common case.
//
//	app := graft.New(graft.Config{})
//	app.GET("/", func(c *graft.Ctx) error { return c.Text(200, "hi") })
func New(cfg Config) *App[Ctx] { return NewWithContext[Ctx](cfg) }

// NewWithContext makes an App whose handlers receive *C, the app's own
// context type: a struct that embeds graft.Ctx and the mixins of its
// extensions, whose methods then are methods of C (see
// docs/extensions.md). Anything but Ctx or such a struct panics with a
// message saying so, as do mixin method clashes and mixins that cannot be
// bound.
//
//	type Ctx struct {
//		graft.Ctx
//		cookies.Jar
//	}
//	app := graft.NewWithContext[Ctx](graft.Config{})
func NewWithContext[C any](cfg Config) *App[C] {
	a := &App[C]{core: &core{cfg: cfg}}
	a.logger = cfg.Logger
	if a.logger == nil {
		a.logger = slog.Default()
	}
	a.errH = cfg.ErrorHandler
	if a.errH == nil {
		a.errH = DefaultErrorHandler
	}
	a.top = &scope{core: a.core}
	a.rootGroup = Group[C]{sc: a.top}
	a.root.prefix = ""
	a.ctxType = reflect.TypeFor[C]()
	mk, err := ctxMaker[C](a.core)
	if err != nil {
		panic(err)
	}
	a.newCtx = mk
	a.codecs = defaultCodecs()
	a.addStartStep("extensions", a.startExtensions)
	a.graph = newGraph(a.core)
	a.flags = flag.NewFlagSet(appName(), flag.ContinueOnError)
	a.exts.flags = a.flags
	a.newConfigLoader()
	return a
}

func appName() string {
	if len(os.Args) > 0 {
		return os.Args[0]
	}
	return "graft"
}

// Config returns the app's configuration, including values set by flags.
func (a *core) Config() Config { return a.cfg }

// Logger returns the app's logger.
func (a *core) Logger() *slog.Logger { return a.logger }

// Flags returns the app's command-line flag set, for extensions and apps to
// add their own flags before Run parses it.
func (a *core) Flags() *flag.FlagSet { return a.flags }

// Ctx returns the app's context type value that embeds c. c must come from
// this app.
func (a *App[C]) Ctx(c *Ctx) *C { return (*C)(c.self) }

// PoolStats reports on the pool of request contexts.
func (a *core) PoolStats() PoolStats {
	if a.pool == nil {
		return PoolStats{}
	}
	return PoolStats(a.pool.Stats())
}

// PoolStats describes a pool of request contexts or WebSocket connections.
type PoolStats struct {
	// Max is the number of objects kept (pre-allocated at start); 0 when
	// pooling is off.
	Max int
	// Idle is the number of objects waiting for reuse.
	Idle int
	// Created counts every object made since the app was built, pre-allocated
	// ones included; Created - Max is the overflow made under load.
	Created int64
}

// setupPanic reports a setup mistake. Setup runs before serving, so a panic
// with a message that names the route and the fix is the clearest answer.
func setupPanic(format string, args ...any) {
	panic(fmt.Sprintf("graft: "+format, args...))
}

func (a *core) checkNotStarted(what string) {
	if a.state.Load() != stateNew {
		setupPanic("%s after the app started; do it before Run, Start or the first request", what)
	}
}

// ServeHTTP routes the request and runs the matched handler with a pooled
// context. The first call builds the app if Start was not called.
func (a *core) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.state.Load() != stateRunning {
		// Start-up outlives this request: keep its values, not its
		// cancellation, or hooks that keep the context would stop with it.
		if err := a.ensureStarted(context.WithoutCancel(r.Context())); err != nil {
			WriteProblem(w, &HTTPError{Status: http.StatusInternalServerError, Detail: "the app failed to start"}, r.URL.Path)
			return
		}
	}
	path, raw := r.URL.Path, false
	if r.URL.RawPath != "" && hasEscapedSlash(r.URL.RawPath) {
		if p, ok := slashEscapedPath(r.URL.EscapedPath()); ok {
			path, raw = p, true
		}
	}
	c := a.pool.Get()
	c.reset(w, r)
	c.path = path
	mi := methodIndex(r.Method)
	var l *leaf
	if mi >= 0 {
		// The common case: the tree of the method has the route, and no
		// captured value is a dot segment.
		l = a.mtrees[mi].lookup(path, &c.params)
		if l != nil {
			if rt := l.lookupIndex(mi); rt != nil && !(c.params.dot && mi != connectIndex && dotParams(&c.params, rt.wild)) {
				c.route = rt
				c.pnames = rt.paramNames
				if raw {
					c.params.unescape()
				}
				c.rw.hooks = rt.headerHooks
				a.serve(c, rt.final)
				c.release()
				a.pool.Put(c)
				return
			}
		}
	}
	a.serveOther(c, r, path, raw, mi, l)
}

// connectIndex is methodIndex("CONNECT"): CONNECT paths are not cleaned.
const connectIndex = 7

// serveOther is ServeHTTP past the common case: any-method routes of
// unknown methods, 404, 405 and the redirect of paths with dot segments.
// l is the leaf the method's tree found, if any.
func (a *core) serveOther(c *Ctx, r *http.Request, path string, raw bool, mi int, l *leaf) {
	h := a.notFound
	c.rw.hooks = a.topHooks
	var s search
	if l == nil {
		// Unknown methods (any-method routes) and the 405 answer need the
		// tree of every route.
		c.params.n = 0
		s = search{ps: &c.params, mi: mi}
		l = a.root.find(path, &s)
		c.params.dot = true // find does not track dots: check what it captured
	}
	var rt *route
	if l != nil {
		rt = l.lookupIndex(mi)
	}
	// Paths with dot segments are redirected to their clean form before
	// any handler or middleware sees them (see redirectClean).
	if r.Method != http.MethodConnect && (rt == nil && strings.IndexByte(path, '.') >= 0 && hasDotSegment(path) ||
		rt != nil && c.params.dot && dotParams(&c.params, rt.wild)) {
		// Through the Ctx's writer, so the app's header hooks run once
		// here too, as for a 404.
		redirectClean(&c.rw, r, path, raw)
		c.release()
		a.pool.Put(c)
		return
	}
	if rt != nil {
		c.route = rt
		c.pnames = rt.paramNames
		if raw {
			c.params.unescape()
		}
		h = rt.final
		c.rw.hooks = rt.headerHooks
	} else if s.miss != nil {
		c.rw.Header()["Allow"] = s.allowHeader()
		h = a.methodNotAllowed
	}
	a.serve(c, h)
	c.release()
	a.pool.Put(c)
}

// serve runs h and finishes the response: an error becomes the error
// handler's answer, a panic a 500 answer logged with the route and stack,
// and a handler that wrote nothing gets its status (200) written, so the
// response-header hooks run exactly once on every path. The app serves every
// request through it, and extension middleware gets a next that does (see
// Builder.Use), so such middleware sees the final status.
func (a *core) serve(c *Ctx, h HandlerFunc) {
	defer a.recoverPanic(c)
	if err := h(c); err != nil && !c.rw.hijacked {
		a.errH(c, err)
	}
	if !c.rw.wrote {
		c.rw.WriteHeader(http.StatusOK)
	}
}

// recoverPanic is serve's deferred call: a method value rather than a
// closure, so the defer captures nothing.
func (a *core) recoverPanic(c *Ctx) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
		panic(v)
	}
	a.handlePanic(c, v, debug.Stack())
}

// guardEndpoint is the deferred call of an endpoint with a panic handler
// (Signature.OnPanic): it recovers the endpoint's panics and restores the
// handler of the code around the endpoint.
func (a *core) guardEndpoint(c *Ctx, outer PanicHandler) {
	v := recover()
	if v == nil {
		c.panicH = outer
		return
	}
	if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
		c.panicH = outer
		panic(v)
	}
	a.handlePanic(c, v, debug.Stack())
	c.panicH = outer
}

// handlePanic answers a recovered panic (v, with the stack where it
// happened): through the running endpoint's panic handler
// (Signature.OnPanic), else the app's (Config.PanicHandler), else the
// default: logged with the route and stack, a 500 through the error
// handler. A panic handler that panics with anything but
// http.ErrAbortHandler is logged and the default answers, so a user panic
// always ends in a 500 (or the answer already started).
func (a *core) handlePanic(c *Ctx, v any, stack []byte) {
	h := c.panicH
	if h == nil {
		h = a.cfg.PanicHandler
	}
	if h != nil {
		if err, ok := a.callPanicHandler(h, c, v, stack); ok {
			if err != nil && !c.rw.hijacked {
				a.answerPanic(c, v, err)
			}
			if !c.rw.wrote && !c.rw.hijacked {
				c.rw.WriteHeader(http.StatusInternalServerError)
			}
			return
		}
	}
	logPanic(a.logger, c.Request.Method, c.RoutePattern(), c.Request.URL.Path, v, stack)
	if c.rw.wrote && !c.rw.hijacked {
		// The answer started: a 500 can no longer be sent, and ending the
		// answer normally would pass a truncated body off as complete.
		// Abort the connection as net/http does for a panic (it logs
		// nothing for ErrAbortHandler: the panic was logged above), so the
		// client sees the answer fail. The Ctx is not returned to the pool.
		panic(http.ErrAbortHandler)
	}
	if !c.rw.hijacked {
		a.answerPanic(c, v, &HTTPError{Status: http.StatusInternalServerError, Err: PanicError{Value: v}})
	}
	if !c.rw.wrote {
		// An error handler that wrote nothing: the status still goes out
		// through the hooks.
		c.rw.WriteHeader(http.StatusInternalServerError)
	}
}

// answerPanic runs the error handler with err for a recovered panic v
// (the default's 500, or a panic handler's error). An error handler that
// panics in turn (the one that panicked in the first place, say) is
// contained too: its panic is logged unless it repeats v, and the answer
// is the default one.
func (a *core) answerPanic(c *Ctx, v any, err error) {
	defer func() {
		v2 := recover()
		if v2 == nil {
			return
		}
		if v2 == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
			panic(v2)
		}
		if fmt.Sprint(v2) != fmt.Sprint(v) {
			a.logger.Error("graft: panic in the error handler", "method", c.Request.Method, "route", c.RoutePattern(), "path", c.Request.URL.Path, "panic", fmt.Sprint(v2), "stack", string(debug.Stack()))
		}
		if !c.rw.wrote && !c.rw.hijacked {
			DefaultErrorHandler(c, &HTTPError{Status: http.StatusInternalServerError, Err: PanicError{Value: v}})
		}
	}()
	a.errH(c, err)
}

// callPanicHandler runs h; ok is false when h itself panicked (logged).
// http.ErrAbortHandler from h goes on up: the documented way for h to
// abort the connection.
func (a *core) callPanicHandler(h PanicHandler, c *Ctx, v any, stack []byte) (err error, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(r)
			}
			a.logger.Error("graft: the panic handler panicked; the default answers the first panic", "method", c.Request.Method, "route", c.RoutePattern(), "path", c.Request.URL.Path, "panic", fmt.Sprint(r))
			err, ok = nil, false
		}
	}()
	return h(c, v, stack), true
}

// HandleError runs the app's error handler for err on c; middleware that
// must finish the response itself (e.g. before a standard middleware reads
// the status) calls it.
func (a *core) HandleError(c *Ctx, err error) { a.errH(c, err) }

var (
	errNotFound = &HTTPError{Status: http.StatusNotFound, Detail: "no route matches this path"}
	errMethod   = &HTTPError{Status: http.StatusMethodNotAllowed, Detail: "the route does not accept this method; see the Allow header"}
)

// ensureStarted builds the app on first use when Start was not called.
func (a *core) ensureStarted(ctx context.Context) error {
	a.buildOnce.Do(func() {
		if a.state.Load() == stateNew {
			a.buildErr = a.start(ctx)
			if a.buildErr != nil {
				a.logger.Error("graft: the app failed to start; every request answers 500", "err", a.buildErr)
			}
		}
	})
	if a.buildErr != nil {
		return a.buildErr
	}
	if a.state.Load() != stateRunning {
		return errors.New("graft: the app is not running")
	}
	return nil
}

// Start runs the start-up sequence: extension lifecycles in dependency order,
// lifespan hooks, plugin application and the assembly of every route's
// handler chain. On failure, what was started is stopped again in reverse
// order and the error names the culprit. Run calls Start; tests that serve
// the app through httptest may call it to see start-up errors.
func (a *core) Start(ctx context.Context) error {
	var err error
	ran := false
	a.buildOnce.Do(func() {
		ran = true
		a.buildErr = a.start(ctx)
		err = a.buildErr
	})
	if !ran {
		if a.buildErr != nil {
			return a.buildErr
		}
		return errors.New("graft: Start called twice")
	}
	return err
}

func (a *core) start(ctx context.Context) (err error) {
	if !a.state.CompareAndSwap(stateNew, stateStarting) {
		return errors.New("graft: the app was already started")
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("graft: start-up panicked: %v", v)
		}
		a.graph.Seal("the app started: register providers before Start, in a lifespan start hook or in a plugin's Apply")
		if err != nil {
			// Singletons resolved so far (by endpoints, plugins, hooks)
			// hold resources: close the graph as Stop would, before the
			// stop hooks of what started.
			if cerr := a.graph.Close(); cerr != nil {
				a.logger.Error("graft: closing the dependency graph after a failed start", "err", cerr)
			}
			a.rollback(ctx)
			a.state.Store(stateStopped)
		}
	}()
	a.provideConfig()
	for _, st := range a.startSeq {
		if err := st.run(ctx); err != nil {
			return err
		}
	}
	for _, h := range a.hooks {
		if h.OnStart != nil {
			if err := callHook(ctx, h.timeout(), h.OnStart); err != nil {
				return fmt.Errorf("graft: start hook %q failed: %w", h.Name, err)
			}
		}
		a.started = append(a.started, h)
	}
	if err := a.build(); err != nil {
		return err
	}
	if err := a.runAssembled(); err != nil {
		return err
	}
	a.state.Store(stateRunning)
	return nil
}

// callHook runs a lifecycle function with a deadline, turning a panic into
// an error.
func callHook(ctx context.Context, d time.Duration, fn func(context.Context) error) (err error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return fn(ctx)
}

// rollback stops, in reverse order, the hooks and extensions that started.
func (a *core) rollback(ctx context.Context) {
	for i := len(a.started) - 1; i >= 0; i-- {
		h := a.started[i]
		if h.OnStop != nil {
			if err := callHook(ctx, h.timeout(), h.OnStop); err != nil {
				a.logger.Error("graft: stop hook failed", "hook", h.Name, "err", err)
			}
		}
	}
	a.started = nil
	a.exts.stopAll(ctx, a.logger)
}

// Stop runs the stop hooks in reverse order of start, then stops extensions
// in reverse dependency order. Run calls it after the server shut down.
func (a *core) Stop(ctx context.Context) error {
	if !a.state.CompareAndSwap(stateRunning, stateStopped) {
		return nil
	}
	a.streams.endAll()
	for _, fn := range a.shutdownFns {
		fn(ctx)
	}
	a.rollback(ctx)
	return nil
}

// build assembles the handler chain of every route, the not-found and
// method-not-allowed answers, and the context pool.
func (a *core) build() error {
	for _, rt := range a.routes {
		if err := rt.assemble(); err != nil {
			return err
		}
	}
	a.root.walk(func(l *leaf) { l.computeAllow() })
	a.mtrees = methodTrees(a.routes)
	a.topHooks = a.top.hooks()
	a.topCodecs = a.top.codecTable()
	a.groupCodecs = a.groupCodecs[:0]
	for _, sc := range a.groups {
		if sc.codecs != nil {
			a.groupCodecs = append(a.groupCodecs, prefixCodecs{sc.prefix, sc.codecTable()})
		}
	}
	slices.SortStableFunc(a.groupCodecs, func(x, y prefixCodecs) int { return len(y.prefix) - len(x.prefix) })
	a.notFound = chain(a.top.middleware(nil), func(*Ctx) error { return errNotFound })
	a.methodNotAllowed = chain(a.top.middleware(nil), func(*Ctx) error { return errMethod })
	a.pool = pool.New(poolSize(a.cfg.RequestPoolMaxItems), a.newCtx)
	return nil
}

// Hook is a named pair of lifecycle functions (a lifespan hook): OnStart
// runs at start-up before plugins are applied, OnStop at shutdown in reverse
// order. Either may be nil. Each gets a context whose deadline is Timeout
// from its call. OnStart may create resources and register them in the
// app's dependency graph (di.Value(app.Graph(), db)): endpoints and plugins
// are assembled after every OnStart ran, so they find them there.
type Hook struct {
	Name    string
	OnStart func(ctx context.Context) error
	OnStop  func(ctx context.Context) error
	// Timeout bounds each call; 0 means DefaultHookTimeout.
	Timeout time.Duration
}

// DefaultHookTimeout bounds a lifespan hook call when Hook.Timeout is 0.
const DefaultHookTimeout = 15 * time.Second

func (h Hook) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultHookTimeout
}

// OnLifecycle adds a lifespan hook. A failing OnStart stops start-up with
// the hook's name; hooks already started are stopped in reverse order.
func (a *core) OnLifecycle(h Hook) {
	a.checkNotStarted("adding lifecycle hook " + h.Name)
	if h.Name == "" {
		h.Name = fmt.Sprintf("hook#%d", len(a.hooks)+1)
	}
	a.hooks = append(a.hooks, h)
}

// OnShutdown registers fn to run when the app stops, before the stop hooks;
// the WebSocket layer (package ws) uses it, through Builder.OnShutdown, to
// close connections with 1001.
func (a *core) OnShutdown(fn func(context.Context)) {
	a.shutdownFns = append(a.shutdownFns, fn)
}

// addStartStep adds a phase to start-up, run before the lifespan hooks.
func (a *core) addStartStep(name string, run func(context.Context) error) {
	a.startSeq = append(a.startSeq, startStep{name: name, run: run})
}

// ctxMaker checks that C embeds Ctx and returns a function that makes a new
// C, with its mixins bound, and returns the Ctx inside it.
func ctxMaker[C any](a *core) (func() *Ctx, error) {
	t := reflect.TypeFor[C]()
	if t == reflect.TypeFor[Ctx]() {
		return func() *Ctx {
			c := &Ctx{app: a}
			c.self = unsafe.Pointer(c)
			c.rw.c = c
			c.props.Init()
			return c
		}, nil
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("graft: context type %s must be graft.Ctx or a struct that embeds graft.Ctx", t)
	}
	f, ok := t.FieldByName("Ctx")
	if !ok || !f.Anonymous || f.Type != reflect.TypeFor[Ctx]() || len(f.Index) != 1 {
		return nil, fmt.Errorf("graft: context type %s must embed graft.Ctx (by value, as a direct field): add `graft.Ctx` as its first field", t)
	}
	off := f.Offset
	layout, err := mixinPlan(t, off)
	if err != nil {
		return nil, err
	}
	a.mixins = layout
	return func() *Ctx {
		v := new(C)
		p := unsafe.Pointer(v)
		c := (*Ctx)(unsafe.Add(p, off))
		c.app = a
		c.self = p
		c.rw.c = c
		c.props.Init()
		layout.bind(p, c)
		return c
	}, nil
}

// handlerName returns the function name of h for route listings.
func handlerName(h any) string {
	v := reflect.ValueOf(h)
	if v.Kind() != reflect.Func {
		return fmt.Sprintf("%T", h)
	}
	if fn := runtime.FuncForPC(v.Pointer()); fn != nil {
		return fn.Name()
	}
	return v.Type().String()
}
