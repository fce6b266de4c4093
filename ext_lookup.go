package graft

import (
	"context"
	"reflect"
)

// Registered returns the extension of type E registered on r's scope or
// the nearest enclosing one (E may be an interface), and whether there is
// one. Package functions that take a Router use it to reach the extension
// they work with (ws.Publish finds the app's WebSocket hub).
func Registered[E Extension](r Router) (E, bool) {
	sc := r.routerScope()
	if rec := findExtension(sc, reflect.TypeFor[E]()); rec != nil {
		return rec.ext.(E), true
	}
	var zero E
	return zero, false
}

// RegisterOnce returns the extension of type E in reach of r, as
// Registered does, or, when there is none, registers the one mk returns on
// the whole app and returns it: how a package whose functions register
// routes brings the extension those routes need, with its defaults, when
// the app did not register it (ws.Route registers ws.Extension). Unlike
// Register it may run after routes were added; an extension registered
// this way gets its flags (FlagDefiner) at once and is extended and
// started with the others. Like Register it is for setup, not for
// concurrent use; it panics after the app started.
func RegisterOnce[E Extension](r Router, mk func() E) E {
	sc := r.routerScope()
	a := sc.core
	if e, ok := Registered[E](r); ok {
		return e
	}
	a.checkNotStarted("registering extensions")
	e := mk()
	a.exts.add(a.top, e, "")
	return e
}

// findExtension returns the record of the extension of type want nearest
// to sc (its own scope first, then the enclosing ones), or nil.
func findExtension(sc *scope, want reflect.Type) *extRecord {
	var found *extRecord
	for _, r := range sc.core.exts.recs {
		et := reflect.TypeOf(r.ext)
		if (et == want || (want.Kind() == reflect.Interface && et.Implements(want))) && encloses(r.sc, sc) {
			if found == nil || encloses(found.sc, r.sc) {
				found = r
			}
		}
	}
	return found
}

// OnShutdown registers fn to run when the app begins to stop, before the
// extensions' Stop and the lifespan stop hooks, as App.OnShutdown does:
// an extension that holds connections of its own (ws closes WebSockets
// with 1001) uses it to end them while the app still runs.
func (b *Builder) OnShutdown(fn func(context.Context)) {
	b.core.OnShutdown(fn)
}
