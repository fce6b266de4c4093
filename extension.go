package graft

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Extension is a unit of added behaviour registered with Register, before
// routes: socketify's extension(request, response, ws) and webpp's unified
// extension pack in one Go interface.
//
// Extend is called once at start-up, in dependency order, with a Builder
// through which the extension contributes to the extension points of the
// scope it was registered on (the app, or a group and its sub-groups):
// context behaviour (middleware), response headers (OnWriteHeader), header
// fields, body encoders and decoders with their wrappers, properties, and
// router-level resources and configuration.
//
// Methods on the request context come from mixins embedded in the app's
// context type (see Mixin); an extension usually ships an Extension value
// and a mixin type together.
//
// An extension may also implement Requirer, Packer, Provisioner, Validator,
// Starter and Stopper.
type Extension interface {
	// ID names the extension with a dotted namespace, e.g.
	// "graft.ext.cookies". IDs are unique within a scope.
	ID() string
	// Extend contributes the extension's features.
	Extend(b *Builder) error
}

// Requirer is implemented by extensions that need others: Requires returns
// the IDs of extensions that must be registered on the same scope or an
// enclosing one. They are extended and started first.
type Requirer interface {
	Requires() []string
}

// Packer is implemented by extension packs that bring other extensions
// along. Packed extensions are registered with the pack; one registered
// twice through packs (the same value) is kept once.
type Packer interface {
	Pack() []Extension
}

// Provisioner is implemented by extensions that prepare themselves at
// start-up, after every extension was extended (e.g. read their config,
// open a file).
type Provisioner interface {
	Provision(ctx context.Context) error
}

// Validator is implemented by extensions that check their configuration
// after provisioning.
type Validator interface {
	Validate() error
}

// Starter is implemented by extensions that start resources (connect to a
// database) after every extension was provisioned and validated.
type Starter interface {
	Start(ctx context.Context) error
}

// Stopper is implemented by extensions that release resources at shutdown;
// Stop runs in reverse dependency order, and also when a later step of
// start-up fails (rollback).
type Stopper interface {
	Stop(ctx context.Context) error
}

// Cleaner is implemented by extensions that release what Provision
// prepared (Caddy's CleanerUpper). Cleanup runs for every extension whose
// Provision succeeded (or that has no Provision and was extended), in
// reverse dependency order, after Stop: at shutdown, and when a later step
// of start-up fails, so that nothing a failed start provisioned is left
// open.
type Cleaner interface {
	Cleanup() error
}

// LifecycleTimeout is implemented by extensions whose Provision, Start and
// Stop need a deadline other than DefaultHookTimeout; each call gets a
// context that ends after the returned duration.
type LifecycleTimeout interface {
	LifecycleTimeout() time.Duration
}

// Pack returns an extension pack: an extension with the given id that
// brings exts along (webpp's unified extension pack) and contributes
// nothing of its own. It is listed as a pack, with what it brought. A pack
// that also needs its own Extend implements Packer itself.
func Pack(id string, exts ...Extension) Extension {
	return &pack{id: id, exts: exts}
}

// ExtensionFunc returns an extension with the given id whose Extend is fn:
// the shortest way to write an extension that needs no configuration type
// of its own and no lifecycle.
func ExtensionFunc(id string, fn func(b *Builder) error) Extension {
	return &funcExtension{id: id, fn: fn}
}

type funcExtension struct {
	id string
	fn func(b *Builder) error
}

func (f *funcExtension) ID() string              { return f.id }
func (f *funcExtension) Extend(b *Builder) error { return f.fn(b) }

type pack struct {
	id   string
	exts []Extension
}

func (p *pack) ID() string            { return p.id }
func (p *pack) Extend(*Builder) error { return nil }
func (p *pack) Pack() []Extension     { return p.exts }
func (p *pack) String() string        { return "pack " + p.id }

// ExtensionInfo describes a registered extension, for listings.
type ExtensionInfo struct {
	// ID is the extension's ID.
	ID string
	// Kind is "extension", "pack" (a Packer) or "property" (a property
	// registered directly).
	Kind string
	// Scope is the prefix of the group it was registered on, "" for the app.
	Scope string
	// Requires lists the IDs it requires.
	Requires []string
	// HeaderFields lists the typed header fields it declared (Builder.
	// HeaderField; a registered HeaderField lists itself), known once the
	// app started.
	HeaderFields []string
	// PackedBy is the ID of the pack that brought it, "" when it was
	// registered directly.
	PackedBy string
	// Packs lists, for a pack, the IDs of the extensions it brought.
	Packs []string
	// State is where the extension is in its lifecycle: "registered",
	// "extended", "provisioned", "started", "stopped" or "failed".
	State string
	// Contributes describes what the extension added through its Builder,
	// one entry per contribution, e.g. "middleware", "header hook",
	// "property cookies.pending", "body codec application/msgpack",
	// "scope value sqlite.db", "plugin bus", "ws open hook" (and what
	// other packages record with Builder.Contribute).
	Contributes []string
}

// String formats the extension as one line of a listing.
func (i ExtensionInfo) String() string {
	var b strings.Builder
	scope := i.Scope
	if scope == "" {
		scope = "app"
	}
	fmt.Fprintf(&b, "%-9s %-28s %-10s %-11s", i.Kind, i.ID, scope, i.State)
	if i.PackedBy != "" {
		b.WriteString(" packed-by=" + i.PackedBy)
	}
	if len(i.Requires) > 0 {
		b.WriteString(" requires=" + strings.Join(i.Requires, ","))
	}
	if len(i.Packs) > 0 {
		b.WriteString(" brings=" + strings.Join(i.Packs, ","))
	}
	if len(i.Contributes) > 0 {
		b.WriteString(" [" + strings.Join(i.Contributes, "; ") + "]")
	}
	return b.String()
}

// extRecord is one registered extension.
type extRecord struct {
	ext         Extension
	sc          *scope
	requires    []string
	packedBy    string
	packs       []string
	state       string
	contrib     []string
	builder     *Builder
	provisioned bool
	started     bool
	fields      []string // header fields declared by Extend
}

// kind names what the record is, for listings.
func (r *extRecord) kind() string {
	switch r.ext.(type) {
	case Packer:
		return "pack"
	case AnyProperty:
		return "property"
	}
	return "extension"
}

// timeout is the deadline of one lifecycle call of the extension.
func (r *extRecord) timeout() time.Duration {
	if lt, ok := r.ext.(LifecycleTimeout); ok {
		if d := lt.LifecycleTimeout(); d > 0 {
			return d
		}
	}
	return DefaultHookTimeout
}

// extensionSet is the registry of an app's extensions.
type extensionSet struct {
	recs  []*extRecord   // registration order, then dependency order after start
	errs  []error        // setup mistakes, reported by Start
	props map[string]any // property name → property value
	flags *flag.FlagSet  // the app's, for FlagDefiner
	// section adds a ConfigSectioner's section to the app's config.
	section func(id string, e ConfigSectioner) error
	// fields maps a header name to the field declared for it and who
	// declared it first.
	fields map[string]fieldDecl
}

type fieldDecl struct {
	f  AnyHeaderField
	by string
}

// Register adds extensions to the group (on the App: to the whole app).
// Call it before registering routes on the group; extensions then apply to
// the group's routes and sub-groups only. Mistakes (nil, duplicates,
// registration after routes) are reported by Start, naming the extension.
func (g *Group[C]) Register(exts ...Extension) {
	a := g.sc.core
	a.checkNotStarted("registering extensions")
	for i, e := range exts {
		if e == nil {
			a.exts.errs = append(a.exts.errs, fmt.Errorf("graft: Register on %s: extension #%d is nil", scopeName(g.sc), i+1))
			continue
		}
		if g.sc.sealed {
			a.exts.errs = append(a.exts.errs, fmt.Errorf("graft: extension %s registered on %s after its routes; register extensions before routes", e.ID(), scopeName(g.sc)))
			continue
		}
		a.exts.add(g.sc, e, "")
	}
}

func scopeName(sc *scope) string {
	if sc.prefix == "" {
		return "the app"
	}
	return "group " + sc.prefix
}

// add records e on sc; packedBy is the ID of the pack that brought it,
// where the same value twice is deduplicated rather than an error.
func (s *extensionSet) add(sc *scope, e Extension, packedBy string) {
	id := e.ID()
	for _, r := range s.recs {
		if !related(r.sc, sc) {
			if sameExtension(r.ext, e) {
				s.errs = append(s.errs, fmt.Errorf("graft: extension %s: the same value is registered on %s and on %s; one value has one lifecycle: register it once on a scope that encloses both, or give each scope its own value", id, scopeName(r.sc), scopeName(sc)))
				return
			}
			continue
		}
		if r.ext.ID() != id {
			continue
		}
		if packedBy != "" && sameExtension(r.ext, e) {
			return
		}
		if p, ok := e.(AnyProperty); ok {
			s.errs = append(s.errs, fmt.Errorf("graft: property name %q is registered twice; register a property once and give different properties different names", p.Name()))
		} else if r.sc == sc {
			s.errs = append(s.errs, fmt.Errorf("graft: extension %s is registered twice on %s; register it once", id, scopeName(sc)))
		} else {
			s.errs = append(s.errs, fmt.Errorf("graft: extension %s is registered on both %s and %s; keep one", id, scopeName(r.sc), scopeName(sc)))
		}
		return
	}
	rec := &extRecord{ext: e, sc: sc, packedBy: packedBy, state: "registered"}
	if rq, ok := e.(Requirer); ok {
		rec.requires = rq.Requires()
	}
	s.recs = append(s.recs, rec)
	if fd, ok := e.(FlagDefiner); ok && s.flags != nil {
		fd.DefineFlags(s.flags)
		rec.contrib = append(rec.contrib, "flags")
	}
	if cs, ok := e.(ConfigSectioner); ok && s.section != nil {
		if err := s.section(id, cs); err != nil {
			s.errs = append(s.errs, err)
		} else {
			rec.contrib = append(rec.contrib, "config")
		}
	}
	if p, ok := e.(Packer); ok {
		for _, sub := range p.Pack() {
			if sub == nil {
				s.errs = append(s.errs, fmt.Errorf("graft: extension pack %s contains a nil extension", id))
				continue
			}
			rec.packs = append(rec.packs, sub.ID())
			s.add(sc, sub, id)
		}
	}
}

// sameExtension reports whether a and b are the same value; values of
// incomparable types are never the same.
func sameExtension(a, b Extension) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// related reports whether one scope encloses the other (or they are equal).
func related(a, b *scope) bool { return encloses(a, b) || encloses(b, a) }

// encloses reports whether outer is inner or one of its ancestors.
func encloses(outer, inner *scope) bool {
	for s := inner; s != nil; s = s.parent {
		if s == outer {
			return true
		}
	}
	return false
}

// Extensions lists the registered extensions: in dependency order once the
// app started, in registration order before.
func (a *core) Extensions() []ExtensionInfo {
	out := make([]ExtensionInfo, 0, len(a.exts.recs))
	for _, r := range a.exts.recs {
		out = append(out, ExtensionInfo{
			ID: r.ext.ID(), Kind: r.kind(), Scope: r.sc.prefix, Requires: slices.Clone(r.requires),
			PackedBy: r.packedBy, Packs: slices.Clone(r.packs), State: r.state, Contributes: slices.Clone(r.contrib),
			HeaderFields: slices.Clone(r.fields),
		})
	}
	return out
}

// WriteExtensions writes the extension listing for humans, one line per
// extension or pack (kind, id, scope, state, what it brought and
// contributed), as ExtensionInfo.String formats it.
func (a *core) WriteExtensions(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "%-9s %-28s %-10s %-11s %s\n", "KIND", "ID", "SCOPE", "STATE", "DETAILS"); err != nil {
		return err
	}
	for _, i := range a.Extensions() {
		if _, err := fmt.Fprintln(w, i.String()); err != nil {
			return err
		}
	}
	return nil
}

// sortRecs orders extensions so that every extension comes after those it
// requires, keeping registration order otherwise. It reports missing
// requirements and cycles with their path.
func (s *extensionSet) sortRecs() error {
	find := func(sc *scope, id string) *extRecord {
		for _, r := range s.recs {
			if r.ext.ID() == id && encloses(r.sc, sc) {
				return r
			}
		}
		return nil
	}
	var errs []error
	state := map[*extRecord]int{} // 0 new, 1 visiting, 2 done
	var order []*extRecord
	var path []string
	var visit func(r *extRecord) bool
	visit = func(r *extRecord) bool {
		switch state[r] {
		case 1:
			i := slices.Index(path, r.ext.ID())
			cycle := append(slices.Clone(path[i:]), r.ext.ID())
			errs = append(errs, fmt.Errorf("graft: extension dependency cycle: %s; break it by removing one requirement", strings.Join(cycle, " -> ")))
			return false
		case 2:
			return true
		}
		state[r] = 1
		path = append(path, r.ext.ID())
		ok := true
		for _, id := range r.requires {
			dep := find(r.sc, id)
			if dep == nil {
				errs = append(errs, fmt.Errorf("graft: extension %s requires %s, which is not registered on %s or an enclosing scope; register it first", r.ext.ID(), id, scopeName(r.sc)))
				ok = false
				continue
			}
			if !visit(dep) {
				ok = false
				break
			}
		}
		path = path[:len(path)-1]
		state[r] = 2
		order = append(order, r)
		return ok
	}
	for _, r := range s.recs {
		if state[r] == 0 {
			visit(r)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	s.recs = order
	return nil
}

// startExtensions is the first start-up step: it reports setup mistakes,
// sorts extensions, calls Extend, then Provision, Validate and Start of each
// in dependency order. A failure leaves nothing started.
func (a *core) startExtensions(ctx context.Context) error {
	s := &a.exts
	if len(s.errs) > 0 {
		return errors.Join(s.errs...)
	}
	if err := s.sortRecs(); err != nil {
		return err
	}
	a.extending = true
	defer func() { a.extending = false }()
	for _, r := range s.recs {
		b := &Builder{core: a, sc: r.sc, rec: r}
		r.builder = b
		if err := guard(func() error { return r.ext.Extend(b) }); err != nil {
			r.state = "failed"
			return fmt.Errorf("graft: extension %s: Extend: %w", r.ext.ID(), err)
		}
		r.state = "extended"
		if _, ok := r.ext.(Provisioner); !ok {
			r.provisioned = true
		}
	}
	if len(s.errs) > 0 {
		return errors.Join(s.errs...)
	}
	if err := a.resolveOwners(); err != nil {
		return err
	}
	for _, r := range s.recs {
		if p, ok := r.ext.(Provisioner); ok {
			if err := callHook(ctx, r.timeout(), p.Provision); err != nil {
				r.state = "failed"
				return fmt.Errorf("graft: extension %s: Provision: %w", r.ext.ID(), err)
			}
			r.provisioned, r.state = true, "provisioned"
		}
	}
	for _, r := range s.recs {
		if v, ok := r.ext.(Validator); ok {
			if err := guard(v.Validate); err != nil {
				r.state = "failed"
				return fmt.Errorf("graft: extension %s: Validate: %w", r.ext.ID(), err)
			}
		}
	}
	for _, r := range s.recs {
		if st, ok := r.ext.(Starter); ok {
			if err := callHook(ctx, r.timeout(), st.Start); err != nil {
				r.state = "failed"
				return fmt.Errorf("graft: extension %s: Start: %w", r.ext.ID(), err)
			}
		}
		r.started, r.state = true, "started"
	}
	return nil
}

// guard runs fn, turning a panic into an error.
func guard(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return fn()
}

// stopAll stops started extensions in reverse order, then cleans up those
// that provisioned, logging failures. It runs at shutdown and when start-up
// fails part way.
func (s *extensionSet) stopAll(ctx context.Context, l *slog.Logger) {
	for i := len(s.recs) - 1; i >= 0; i-- {
		r := s.recs[i]
		if r.started {
			r.started = false
			if st, ok := r.ext.(Stopper); ok {
				if err := callHook(ctx, r.timeout(), st.Stop); err != nil {
					l.Error("graft: extension stop failed", "extension", r.ext.ID(), "err", err)
				}
			}
			r.state = "stopped"
		}
		if r.provisioned {
			r.provisioned = false
			if cl, ok := r.ext.(Cleaner); ok {
				if err := guard(cl.Cleanup); err != nil {
					l.Error("graft: extension cleanup failed", "extension", r.ext.ID(), "err", err)
				}
			}
			if r.state != "failed" {
				r.state = "stopped"
			}
		}
	}
}

// Builder is what an extension's Extend receives: the extension points of
// the scope the extension was registered on.
type Builder struct {
	core *core
	sc   *scope
	rec  *extRecord
}

// ID returns the ID of the extension being extended.
func (b *Builder) ID() string { return b.rec.ext.ID() }

// Scope returns the prefix of the group the extension applies to, "" for
// the whole app.
func (b *Builder) Scope() string { return b.sc.prefix }

// Logger returns the app's logger.
func (b *Builder) Logger() *slog.Logger { return b.core.logger.With("extension", b.rec.ext.ID()) }

// Config returns the app's configuration.
func (b *Builder) Config() Config { return b.core.cfg }

// Flags returns the app's flag set. Flags must be defined before Run parses
// them, so extensions that take command-line configuration define their
// flags in their constructor through App.Flags; Builder.Flags is for reading
// them back (Lookup).
func (b *Builder) Flags() *flag.FlagSet { return b.core.flags }

// Use adds context behaviour: middleware around every handler of the scope
// (in the app scope also around the 404 and 405 answers). Extension
// middleware runs outside the scope's own middleware, dependencies first
// (outermost).
//
// When the next handler an extension middleware calls returns, the response
// is finished: an error or panic from inside was answered by the error
// handler, and a handler that wrote nothing had its 200 written. So the
// middleware reads the final c.StatusCode() and c.BytesWritten() after next
// (an access log, metrics), and next returns nil. Middleware outside an
// extension's (the app's own Use around a group's extension) sees that nil
// too; middleware inside it still gets the handler's error.
func (b *Builder) Use(mw ...Middleware) {
	for i, m := range mw {
		if m == nil {
			b.core.exts.errs = append(b.core.exts.errs, fmt.Errorf("graft: extension %s: Use: middleware #%d is nil", b.ID(), i+1))
			continue
		}
		b.sc.extMws = append(b.sc.extMws, extMiddleware{mw: answering(m)})
	}
	b.note("middleware")
}

// RouteMiddleware is extension middleware told which route it wraps:
// start-up calls it once per route of the extension's scope, with the
// route and the rest of the chain, and the route serves the handler it
// returns. What the middleware needs per route (a metric's label values,
// a span name, a logger with the route's attributes) it computes there,
// once, instead of per request. r is nil for the chains of the app's 404
// and 405 answers, which no route matched. Like Middleware registered
// with Builder.Use, its next finishes the answer (final status) before it
// returns.
type RouteMiddleware func(r *Route, next HandlerFunc) HandlerFunc

// UseRoute adds route-aware middleware to the extension's scope: it wraps
// the same routes, in the same place of the chain, as Builder.Use, and is
// told each route it wraps (see RouteMiddleware).
func (b *Builder) UseRoute(mw ...RouteMiddleware) {
	for i, m := range mw {
		if m == nil {
			b.core.exts.errs = append(b.core.exts.errs, fmt.Errorf("graft: extension %s: UseRoute: middleware #%d is nil", b.ID(), i+1))
			continue
		}
		b.sc.extMws = append(b.sc.extMws, extMiddleware{route: m})
	}
	b.note("middleware")
}

// extMiddleware is one extension middleware of a scope: plain (Use) or
// route-aware (UseRoute).
type extMiddleware struct {
	mw    Middleware
	route RouteMiddleware
}

// bind returns the middleware for route rt (nil: the 404 and 405 chains).
func (m extMiddleware) bind(rt *route) Middleware {
	if m.route == nil {
		return m.mw
	}
	var r *Route
	if rt != nil {
		r = &Route{rt: rt}
	}
	return answering(func(next HandlerFunc) HandlerFunc { return m.route(r, next) })
}

// answering gives mw a next that finishes the response (serve) before it
// returns.
func answering(mw Middleware) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return mw(func(c *Ctx) error {
			c.app.serve(c, next)
			return nil
		})
	}
}

// OnWriteHeader adds a response-headers hook: fn runs right before the
// status line of a response in the scope is sent, and may still set
// headers (e.g. Set-Cookie for a cookie jar that changed). Hooks run
// exactly once per response: also when the handler writes nothing (graft
// then writes its 200), for error and panic answers, and, for hooks of the
// app scope, for 404 and 405 answers.
func (b *Builder) OnWriteHeader(fn func(c *Ctx, status int)) {
	b.sc.headerHooks = append(b.sc.headerHooks, fn)
	b.note("header hook")
}

// Property declares that the extension uses these properties. Each
// property's name must be unique in the app; declaring the same property
// from several extensions is fine.
func (b *Builder) Property(ps ...AnyProperty) {
	for _, p := range ps {
		b.core.exts.declareProperty(p, b.rec.ext.ID())
		if any(p) != any(b.rec.ext) {
			b.note("property " + p.Name())
		}
	}
}

// HeaderField declares the typed header fields (NewHeaderField) the
// extension reads or writes; App.Extensions lists them with it. One header
// name has one field in an app: two different fields for it are a start-up
// error naming both declarers (share one *HeaderField value instead).
func (b *Builder) HeaderField(fs ...AnyHeaderField) {
	for i, f := range fs {
		if f == nil {
			b.core.exts.errs = append(b.core.exts.errs, fmt.Errorf("graft: extension %s: HeaderField: field #%d is nil", b.ID(), i+1))
			continue
		}
		name := f.HeaderName()
		if !b.core.exts.declareField(f, b.ID()) || slices.Contains(b.rec.fields, name) {
			continue
		}
		b.rec.fields = append(b.rec.fields, name)
	}
}

// declareField records the field of a header name, reporting a different
// field for the same name.
func (s *extensionSet) declareField(f AnyHeaderField, by string) bool {
	if s.fields == nil {
		s.fields = map[string]fieldDecl{}
	}
	name := f.HeaderName()
	if old, ok := s.fields[name]; ok {
		if old.f != f {
			s.errs = append(s.errs, fmt.Errorf("graft: header field %s is declared by %s and, as a different field, by %s; declare it once and share the *HeaderField value", name, old.by, by))
			return false
		}
		return true
	}
	s.fields[name] = fieldDecl{f: f, by: by}
	return true
}

// Encoder sets the body encoder (the mother behaviour) for a media type in
// the scope; Ctx.Render picks one by the request's Accept header. An
// application/json encoder also encodes what Ctx.JSON, typed endpoints
// (outputs and declared outcomes) and problem+json error answers (the
// default error handler, 404 and 405) write in the scope; problem answers
// keep Content-Type application/problem+json.
func (b *Builder) Encoder(mediaType string, enc EncodeFunc) {
	b.codecs().setEncoder(mediaType, plainEncoder(enc))
	b.note("encoder " + mediaType)
}

// RequestEncoder is Encoder for an encoder that sees the request it
// answers, e.g. to pretty-print when the query asks for it.
func (b *Builder) RequestEncoder(mediaType string, enc RequestEncodeFunc) {
	b.codecs().setEncoder(mediaType, encoder{req: enc, custom: true})
	b.note("encoder " + mediaType)
}

// WrapEncoder wraps the scope's encoder for a media type (a child
// extension): wrap receives the encoder it wraps. It fails when no encoder
// for the media type exists yet; require the extension that provides it.
// For application/json the wrapped encoder also reaches Ctx.JSON, typed
// endpoints and problem answers (see Encoder).
//
// wrap is called once, here, unless the encoder it wraps sees the request
// (one set with RequestEncoder or wrapped with WrapRequestEncoder): then
// wrap is called for every response, with an inner bound to the request.
// Use WrapRequestEncoder to wrap such an encoder once.
func (b *Builder) WrapEncoder(mediaType string, wrap func(inner EncodeFunc) EncodeFunc) error {
	inner, ok := b.sc.codecTable().encoder(mediaType)
	if !ok {
		return fmt.Errorf("no encoder for %s to wrap in %s; require the extension that provides it", mediaType, scopeName(b.sc))
	}
	if inner.plain != nil {
		b.codecs().setEncoder(mediaType, plainEncoder(wrap(inner.plain)))
	} else {
		in := inner.req
		b.codecs().setEncoder(mediaType, encoder{req: func(c *Ctx, v any) ([]byte, error) {
			return wrap(func(v any) ([]byte, error) { return in(c, v) })(v)
		}, custom: true})
	}
	b.note("encoder wrapper " + mediaType)
	return nil
}

// WrapRequestEncoder is WrapEncoder for a wrapper that sees the request:
// wrap is called once, here, and receives the encoder it wraps (its
// request-aware form); the result encodes every response of the media type
// in the scope. It fails when no encoder for the media type exists yet.
func (b *Builder) WrapRequestEncoder(mediaType string, wrap func(inner RequestEncodeFunc) RequestEncodeFunc) error {
	inner, ok := b.sc.codecTable().encoder(mediaType)
	if !ok {
		return fmt.Errorf("no encoder for %s to wrap in %s; require the extension that provides it", mediaType, scopeName(b.sc))
	}
	b.codecs().setEncoder(mediaType, encoder{req: wrap(inner.req), custom: true})
	b.note("encoder wrapper " + mediaType)
	return nil
}

// Decoder sets the body decoder for a media type in the scope; Ctx.Bind
// picks one by the request's Content-Type.
func (b *Builder) Decoder(mediaType string, dec DecodeFunc) {
	b.codecs().setDecoder(mediaType, dec)
	b.note("decoder " + mediaType)
}

// WrapResponse adds a response-body child extension: wrap receives the
// response writer of each request in the scope (the one it wraps) and
// returns the writer handlers write through, e.g. a compressing writer, or
// inner itself to leave this request alone.
//
// The finish step: when the returned writer implements io.Closer, Close is
// called once the response is complete, after the handler, the error
// handler (errors and panics included) and the default status, so a
// compressor ends its stream on every answer. Its error is dropped: the
// only one to tell would be the client it failed to reach.
//
// The writer sits below the Ctx's own: response-header hooks have run when
// its WriteHeader is called, and Ctx.BytesWritten counts the bytes handlers
// wrote, before the writer transforms them. For http.ResponseController
// (Flush, Hijack) to reach the connection, give the writer an Unwrap method
// returning inner. A writer that may send another status than the one
// handlers wrote implements ResponseFinisher.
func (b *Builder) WrapResponse(wrap func(c *Ctx, inner http.ResponseWriter) http.ResponseWriter) {
	if wrap == nil {
		b.core.exts.errs = append(b.core.exts.errs, fmt.Errorf("graft: extension %s: WrapResponse: the wrap function is nil", b.ID()))
		return
	}
	b.Use(func(next HandlerFunc) HandlerFunc {
		return func(c *Ctx) error {
			inner := c.rw.w
			w := wrap(c, inner)
			if w == nil || w == inner {
				return next(c)
			}
			c.rw.w = w
			err := next(c) // the response is complete when next returns (Use)
			if f, ok := w.(ResponseFinisher); ok {
				if st := f.Finish(); st != 0 {
					c.rw.status = st
				}
			} else if cl, ok := w.(io.Closer); ok {
				_ = cl.Close()
			}
			c.rw.w = inner
			return err
		}
	})
}

// ResponseFinisher is implemented by a WrapResponse writer whose finish
// step may send another status than the one handlers wrote, e.g. an
// entity-tag writer that holds a 200 back and answers 304 Not Modified
// (ext/etag). graft calls Finish instead of Close once the response is
// complete; a non-zero result is the status that was sent, and from then
// on Ctx.StatusCode reports it, so access logs and metrics see what went
// out.
type ResponseFinisher interface {
	Finish() (sentStatus int)
}

// codecs returns the scope's own codec table, made on first use.
func (b *Builder) codecs() *codecs {
	if b.sc.codecs == nil {
		b.sc.codecs = newCodecs()
	}
	return b.sc.codecs
}

// declareProperty records a property name, reporting a different property
// with the same name.
func (s *extensionSet) declareProperty(p AnyProperty, by string) {
	if s.props == nil {
		s.props = map[string]any{}
	}
	name := p.Name()
	if old, ok := s.props[name]; ok {
		if old != any(p) {
			s.errs = append(s.errs, fmt.Errorf("graft: property name %q is registered twice (second time by %s); give one property another name", name, by))
		}
		return
	}
	s.props[name] = p
}

// AnyProperty is what Builder.Property needs of a property; *Property[T]
// implements it.
type AnyProperty interface {
	Name() string
}

// Extend registers the property itself, so that a property can be passed to
// Register directly: app.Register(Cart).
func (p *Property[T]) Extend(b *Builder) error {
	b.Property(p)
	return nil
}

// assembledHook is one Builder.OnAssembled function and who added it.
type assembledHook struct {
	ext string
	fn  func(routes []*Route) error
}

// Handle registers a plain route served by the extension in its scope,
// under the scope's prefix: how an extension serves endpoints of its own
// (a document, a health check). It may only be called from Extend; setup
// mistakes (a route registered twice, a bad pattern) stop start-up naming
// the route.
func (b *Builder) Handle(method, pattern string, h HandlerFunc, opts ...Option) *Route {
	if h == nil {
		setupPanic("extension %s: Handle %s %s: handler is nil", b.ID(), method, pattern)
	}
	if !b.core.extending {
		setupPanic("extension %s: Handle %s %s outside Extend; register the extension's routes from Extend", b.ID(), method, pattern)
	}
	b.rec.contrib = append(b.rec.contrib, "route "+methodLabel(method)+" "+b.sc.prefix+pattern)
	return &Route{rt: addRoute(b.sc, method, pattern, h, b.ID(), opts)}
}

// OnAssembled adds fn to run once start-up has assembled every route: the
// typed endpoints' signatures are final then (plugins applied) and no route
// can be added, so fn sees the app as it will serve. It gets every route in
// registration order (SignatureOf, OperationOf read them). Document
// generators (OpenAPI) build their documents here. An error stops start-up
// naming the extension, and what started is stopped again.
func (b *Builder) OnAssembled(fn func(routes []*Route) error) {
	b.core.assembled = append(b.core.assembled, assembledHook{ext: b.ID(), fn: fn})
	b.rec.contrib = append(b.rec.contrib, "on assembled")
}

// runAssembled runs the OnAssembled hooks in the order extensions added
// them.
func (a *core) runAssembled() error {
	if len(a.assembled) == 0 {
		return nil
	}
	routes := make([]*Route, len(a.routes))
	for i, rt := range a.routes {
		routes[i] = &Route{rt: rt}
	}
	for _, h := range a.assembled {
		if err := guard(func() error { return h.fn(routes) }); err != nil {
			return fmt.Errorf("graft: extension %s: OnAssembled: %w", h.ext, err)
		}
	}
	return nil
}
