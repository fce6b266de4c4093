package graft

import (
	"errors"
	"fmt"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"unsafe"
)

// pluginState is what plugins add to a Signature at start-up, beyond its
// exported lists: the pre-bind hooks, the params bound into plugin fields
// and the plugin fields some plugin declared it fills.
type pluginState struct {
	preBind []func(c *Ctx) error
	mws     []Middleware // endpoint middleware (Use)
	binds   []*pluginBind
	claimed []uintptr    // offsets of the plugin fields claimed through PluginField
	panicH  PanicHandler // OnPanic
	sealed  bool         // the endpoint is assembled: late additions would be ignored
}

// PreBind adds a hook that runs per request before anything is read from
// the request: before the form or body is parsed, before params are bound
// and before a dependency scope is created or any provider is called. A
// hook that returns an error ends the request with it (an *HTTPError
// chooses the status, e.g. 401; a Respond answers an outcome the plugin
// declared with AddReturn); nil lets the request through.
//
// Plugins call PreBind from Apply. The hooks of the outermost plugin run
// first, in the order it added them. An endpoint without hooks pays
// nothing for the phase. PreBind panics once the endpoint is assembled.
func (s *Signature) PreBind(h func(c *Ctx) error) {
	s.checkOpen("PreBind")
	if h == nil {
		setupPanic("endpoint %s %s: PreBind(nil); pass the hook to run before binding", methodLabel(s.Method), s.Route)
	}
	s.plug.preBind = append(s.plug.preBind, h)
}

// Use adds endpoint middleware: mw wraps this endpoint's binding, its
// dependencies, the plugins' wrappers, the handler and its answer, and
// runs after the pre-bind hooks (so an auth plugin's check comes first).
// As with an extension's middleware (Builder.Use), the next handler mw
// calls finishes the answer before it returns (errors and panics
// answered, a status written), so mw sees the final c.StatusCode() and
// may capture what was written through a writer of its own
// (Ctx.SwapWriter): a response cache, stored answers for idempotent
// retries. mw may also answer itself without calling next.
//
// Plugins call Use from Apply; the middleware of the outermost plugin
// runs first, in the order it added them. An endpoint without endpoint
// middleware pays nothing for it. Use panics once the endpoint is
// assembled.
func (s *Signature) Use(mw ...Middleware) {
	s.checkOpen("Use")
	for i, m := range mw {
		if m == nil {
			setupPanic("endpoint %s %s: Use: middleware #%d is nil", methodLabel(s.Method), s.Route, i+1)
		}
	}
	s.plug.mws = append(s.plug.mws, mw...)
}

// withMiddleware puts the endpoint middleware plugins added (Use) around
// the endpoint's handler, with the pre-bind hooks moved in front of it.
func (ep *endpoint) withMiddleware(h HandlerFunc) HandlerFunc {
	if len(ep.mws) == 0 {
		return h
	}
	pre := ep.preBind
	ep.preBind = nil // h runs them no more: they run before the middleware
	mws := make([]Middleware, len(ep.mws))
	for i, m := range ep.mws {
		mws[i] = answering(m)
	}
	h = chain(mws, h)
	if len(pre) == 0 {
		return h
	}
	return func(c *Ctx) error {
		for _, hook := range pre {
			if err := hook(c); err != nil {
				return ep.answer(c, err)
			}
		}
		return h(c)
	}
}

// OnPanic gives the endpoint a panic handler of its own, in place of the
// app's (Config.PanicHandler) or graft's default: it gets the panics of
// the endpoint's pre-bind hooks, its plugins' middleware and wrappers, its
// binding, its dependency providers and its handler (not those of the
// app's or groups' middleware around it). graft still does the
// recovering, so the guarantees of PanicHandler hold: http.ErrAbortHandler
// passes through, h's error is answered by the error handler, a panic of
// h itself falls back to the default. A recover plugin (plugins/recover)
// is OnPanic from Apply.
//
// An endpoint has one panic handler: a second OnPanic panics (a setup
// mistake naming the endpoint), as does OnPanic(nil) or a call after
// start-up assembled the endpoint. An endpoint without one pays nothing.
func (s *Signature) OnPanic(h PanicHandler) {
	s.checkOpen("OnPanic")
	if h == nil {
		setupPanic("endpoint %s %s: OnPanic(nil); pass the panic handler", methodLabel(s.Method), s.Route)
	}
	if s.plug.panicH != nil {
		setupPanic("endpoint %s %s: OnPanic: the endpoint has a panic handler already; apply one recover plugin to it", methodLabel(s.Method), s.Route)
	}
	s.plug.panicH = h
}

func (s *Signature) checkOpen(what string) {
	if s.plug.sealed {
		setupPanic("endpoint %s %s: %s after start-up assembled the endpoint; call it from Plugin.Apply", methodLabel(s.Method), s.Route, what)
	}
}

// PluginFieldRef is a plugin field of an endpoint's input, found by type
// with PluginField: a plugin sets it per request (Set) or binds a request
// value into it with its own decoder (Bind). Both write through the
// field's offset, without reflection.
type PluginFieldRef[T any] struct {
	param PluginParam
	sig   *Signature
}

// PluginField finds the endpoint's plugin field of type T (the In field
// tagged `plugin:""`) and returns it, or nil when In has none, in which
// case a plugin returns next unchanged. Finding the field declares that
// the calling plugin fills it: a plugin field that no plugin found stops
// start-up with an error naming the endpoint and the field. Two plugin
// fields of type T are ambiguous (a panic, reported as the plugin's
// start-up error): tell them apart with PluginFieldTagged.
//
//	bus := graft.PluginField[*EventBus](sig)
//	if bus == nil {
//		return next, nil
//	}
//	return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
//		bus.Set(in, b)
//		return next(ctx, c, in)
//	}, nil
func PluginField[T any](sig *Signature) *PluginFieldRef[T] {
	return findPluginField[T](sig, func(PluginParam) bool { return true }, "")
}

// PluginFieldTagged is PluginField for the plugin field of type T whose
// tag has the value tag (`plugin:"tag"`).
func PluginFieldTagged[T any](sig *Signature, tag string) *PluginFieldRef[T] {
	return findPluginField[T](sig, func(p PluginParam) bool { return p.Tag == tag }, fmt.Sprintf(" tagged plugin:%q", tag))
}

// ReadPluginField finds the endpoint's plugin field of type T as
// PluginField does, without declaring that the caller fills it: for a
// plugin that reads, in its wrapper, what another plugin fills (a rate
// limit keyed by the claims an auth plugin binds). The field still needs
// a plugin that fills it, or start-up stops as for any plugin field; the
// reader only uses Get.
func ReadPluginField[T any](sig *Signature) *PluginFieldRef[T] {
	return lookupPluginField[T](sig, func(PluginParam) bool { return true }, "", false)
}

func findPluginField[T any](sig *Signature, match func(PluginParam) bool, what string) *PluginFieldRef[T] {
	return lookupPluginField[T](sig, match, what, true)
}

func lookupPluginField[T any](sig *Signature, match func(PluginParam) bool, what string, claim bool) *PluginFieldRef[T] {
	t := reflect.TypeFor[T]()
	var found []PluginParam
	for _, p := range sig.Plugins {
		if p.Type == t && match(p) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil
	case 1:
	default:
		var names []string
		for _, p := range found {
			names = append(names, p.Name)
		}
		setupPanic("endpoint %s %s: %d plugin fields of type %s%s (%s); give them distinct tags (plugin:\"name\") and find each with PluginFieldTagged", methodLabel(sig.Method), sig.Route, len(found), t, what, strings.Join(names, ", "))
	}
	p := found[0]
	if claim && !slices.Contains(sig.plug.claimed, p.offset) {
		sig.checkOpen("PluginField")
		sig.plug.claimed = append(sig.plug.claimed, p.offset)
	}
	return &PluginFieldRef[T]{param: p, sig: sig}
}

// Param describes the field: its Go name, type and tag.
func (f *PluginFieldRef[T]) Param() PluginParam { return f.param }

// Set stores v into the field of in, the bound input (*In) a plugin's
// wrapper receives.
func (f *PluginFieldRef[T]) Set(in any, v T) {
	*(*T)(unsafe.Add(efaceData(in), f.param.offset)) = v
}

// Get returns the field's value in in, the bound input (*In).
func (f *PluginFieldRef[T]) Get(in any) T {
	return *(*T)(unsafe.Add(efaceData(in), f.param.offset))
}

// Bind makes p a request param of the endpoint that the plugin owns: it
// is added to the signature (so OpenAPI shows it like any other) and bound
// per request into the field, decode turning the raw value into T. This is
// how a JWT plugin binds the Authorization header into a *Principal.
//
// p.In is InQuery, InHeader or InCookie, and p.Name must not name a param
// the endpoint already has. p.Type, when nil, is string (the value as the
// request carries it); p.Field is set to the field's name. Binding follows
// the rules of In's fields: an absent value takes p.Default when it is not
// empty, is a 422 "is required" when p.Required, and otherwise leaves the
// field zero without calling decode; p.Constraints (minLength, maxLength,
// pattern, enum, format) are checked on the raw value before decode.
//
// Plugin params are bound first, before the form, the other params and the
// body. An *HTTPError (or a Respond of a declared outcome) from decode ends
// the request at once with its status (a 401), before the body is read;
// any other error is a 422 entry at the param's location, whose message is
// the error's text. The raw value is
// never echoed in a 422 (it may be a credential).
//
// Bind panics (a start-up error naming the endpoint and the plugin when
// called from Apply) on a bad p or once the endpoint is assembled.
func (f *PluginFieldRef[T]) Bind(p Param, decode func(c *Ctx, raw string) (T, error)) {
	sig := f.sig
	sig.checkOpen("Bind")
	fail := func(format string, args ...any) {
		setupPanic("endpoint %s %s: binding plugin field %s to %s %q: %s", methodLabel(sig.Method), sig.Route, f.param.Name, p.In, p.Name, fmt.Sprintf(format, args...))
	}
	if decode == nil {
		fail("decode is nil; pass the function that turns the raw value into %s", f.param.Type)
	}
	if p.Name == "" {
		fail("the param has no name; set Param.Name (e.g. \"Authorization\")")
	}
	if p.Type == nil {
		p.Type = reflect.TypeFor[string]()
	}
	p.Field = f.param.Name
	b := &pluginBind{Param: p, key: p.Name, locName: p.Name}
	switch p.In {
	case InHeader:
		b.key = textproto.CanonicalMIMEHeaderKey(p.Name)
		b.locName = strings.ToLower(p.Name)
	case InQuery, InCookie:
	default:
		fail("a plugin param comes from the query, a header or a cookie; use InQuery, InHeader or InCookie")
	}
	b.loc = string(p.In) + "." + b.locName
	for _, q := range sig.Params() {
		if q.In == p.In && (q.Name == p.Name || p.In == InHeader && strings.EqualFold(q.Name, p.Name)) {
			fail("the endpoint already has the %s param %q (field %q); bind each request value once", q.In, q.Name, q.Field)
		}
	}
	for _, q := range sig.plug.binds {
		if q.Field == p.Field {
			fail("the field is already bound to %s %q; a plugin field takes one request value", q.In, q.Name)
		}
	}
	var err error
	if b.check, err = scalarCheck(reflect.TypeFor[string](), p.Constraints, b.loc); err != nil {
		fail("%v", err)
	}
	off := f.param.offset
	b.store = func(c *Ctx, in unsafe.Pointer, raw string) error {
		v, err := decode(c, raw)
		if err != nil {
			return err
		}
		*(*T)(unsafe.Add(in, off)) = v
		return nil
	}
	sig.AddParam(p)
	sig.plug.binds = append(sig.plug.binds, b)
}

// pluginBind is a request param a plugin owns, bound into a plugin field.
type pluginBind struct {
	Param
	key     string // name to look up (canonical for headers)
	locName string
	loc     string // "header.authorization"
	check   check  // on the raw string
	store   func(c *Ctx, in unsafe.Pointer, raw string) error
}

// bind looks the value up, checks and decodes it into the input at p. An
// *HTTPError from the decoder is returned; other failures go to e.
func (b *pluginBind) bind(c *Ctx, p unsafe.Pointer, rq *request) error {
	r := c.Request
	var raw string
	ok := false
	switch b.In {
	case InHeader:
		if vs := r.Header[b.key]; len(vs) > 0 {
			raw, ok = vs[0], true
		}
	case InQuery:
		raw, ok = lookupQuery(r.URL.RawQuery, b.key)
	case InCookie:
		if ck, err := r.Cookie(b.key); err == nil {
			raw, ok = ck.Value, true
		}
	}
	e := &rq.e
	if !ok {
		if b.Default == "" {
			if b.Required {
				e.add(b.loc, "is required", nil)
			}
			return nil
		}
		raw = b.Default
	}
	if b.check != nil {
		n := len(e.list)
		rq.raw = raw // the check reads through a pointer: keep the string off the heap
		b.check(unsafe.Pointer(&rq.raw), e)
		rq.raw = ""
		if len(e.list) > n {
			for i := n; i < len(e.list); i++ {
				e.list[i].Value = nil
			}
			return nil
		}
	}
	if err := b.store(c, p, raw); err != nil {
		var he *HTTPError
		if errors.As(err, &he) {
			return he
		}
		var o outcomeErr
		if errors.As(err, &o) {
			return err
		}
		e.add(b.loc, err.Error(), nil)
	}
	return nil
}

// runPreBind runs the endpoint's pre-bind hooks, outermost first.
func (ep *endpoint) runPreBind(c *Ctx) error {
	for _, h := range ep.preBind {
		if err := h(c); err != nil {
			return err
		}
	}
	return nil
}

// finishPlugins takes what the plugins added to the signature into the
// endpoint and checks that every plugin field is filled by some plugin.
func (ep *endpoint) finishPlugins(ri *Route) error {
	st := &ep.sig.plug
	st.sealed = true
	for _, p := range ep.sig.Plugins {
		if !slices.Contains(st.claimed, p.offset) {
			return fmt.Errorf("graft: endpoint %s %s: field %s (%s, plugin:%q) is filled by no plugin applied to it; apply the plugin that fills it (graft.Plugins on the endpoint or its group, or app.UsePlugins), or remove the field (a plugin declares the fields it fills by finding them with graft.PluginField)",
				methodLabel(ri.Method()), ri.Pattern(), p.Name, p.Type, p.Tag)
		}
	}
	ep.preBind = st.preBind
	ep.mws = st.mws
	ep.pbinds = st.binds
	return nil
}

// moveToFront moves s[k:], what the plugin just applied added, in front of
// s[:k], what the plugins inside it added: the outermost plugin's additions
// come first.
func moveToFront[E any](s []E, k int) []E {
	if k == 0 || k == len(s) {
		return s
	}
	return append(slices.Clone(s[k:]), s[:k]...)
}
