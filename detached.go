package graft

import (
	"context"
	"net/http"
	"time"
)

// DetachedContext returns the request's context without its cancellation,
// for state that outlives the request: a WebSocket connection's
// Socket.Context, a job started by the handler. Its values are the
// request's; it is never done and has no deadline.
//
// It is context.WithoutCancel(c.Context()), except when the request came
// straight from the app's own server (App.Serve, Run) and no middleware
// replaced its context: then the context holds no value but the two
// net/http puts there, http.ServerContextKey and http.LocalAddrContextKey,
// and DetachedContext returns a small context of its own carrying those
// two, which keeps nothing of the request alive. Holding it then costs
// 24 bytes instead of the request's chain of contexts (a few hundred
// bytes, which matters when every idle WebSocket connection holds one).
// A context a net/http middleware mounted with HTTPMiddleware wrapped
// around the request is dropped first, since it refers to the pooled Ctx.
func (c *Ctx) DetachedContext() context.Context {
	ctx := c.Request.Context()
	if ctx == context.Context(&c.carrier) {
		ctx = c.carrier.Context
	}
	if c.orig != nil && ctx == c.orig.Context() {
		if srv, ok := ctx.Value(http.ServerContextKey).(*http.Server); ok && c.app.ownServer(srv) {
			return &serverValues{srv: srv, laddr: ctx.Value(http.LocalAddrContextKey)}
		}
	}
	return context.WithoutCancel(ctx)
}

// ownServer reports whether srv is the server App.Serve runs, whose
// request contexts carry net/http's values only (it sets neither
// BaseContext nor ConnContext).
func (a *core) ownServer(srv *http.Server) bool {
	a.srv.mu.Lock()
	defer a.srv.mu.Unlock()
	return srv == a.srv.srv && srv.BaseContext == nil && srv.ConnContext == nil
}

// serverValues is DetachedContext's context for a request of the app's
// own server: net/http's two values, never done.
type serverValues struct {
	srv   *http.Server
	laddr any
}

func (*serverValues) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*serverValues) Done() <-chan struct{}       { return nil }
func (*serverValues) Err() error                  { return nil }

func (v *serverValues) Value(key any) any {
	switch key {
	case http.ServerContextKey:
		return v.srv
	case http.LocalAddrContextKey:
		return v.laddr
	}
	return nil
}

func (v *serverValues) String() string { return "graft.DetachedContext" }
