package graft

import "net/http"

// HTTPMiddleware adapts a standard func(http.Handler) http.Handler
// middleware so it runs in a graft chain next to native middleware. The
// wrapped handler is built once; per request the Ctx travels inside the
// request's context (FromContext), at the cost of one request copy and one
// small writer. Errors and panics of the inner chain are answered by the
// app's error handler, and a status is written for a handler that wrote
// nothing, before control returns to the standard middleware, so it sees the
// final status.
//
// The standard middleware gets its own writer, which records what reaches
// the client into the Ctx once it returns; the inner chain writes through
// whatever writer the middleware passes on (e.g. its status recorder). Two
// writers are needed because such a recorder wraps the writer it was given:
// were that the Ctx's own writer, which in turn writes to the recorder, a
// write would loop forever.
func HTTPMiddleware(mw func(http.Handler) http.Handler) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := FromContext(r.Context())
			if c == nil {
				http.Error(w, "graft: request lost its context in a standard middleware", http.StatusInternalServerError)
				return
			}
			// The outer writer runs the response hooks when the status
			// reaches it, so they run once.
			c.rw.w, c.rw.hooks = w, nil
			c.Request = r
			c.app.serve(c, next)
		})
		h := mw(inner)
		return func(c *Ctx) error {
			req := c.Request
			r := req
			// A nested standard middleware finds the Ctx already in the
			// context; wrapping the carrier in itself would make a cycle.
			if FromContext(req.Context()) != c {
				c.carrier.Context = req.Context()
				c.carrier.c = c
				r = req.WithContext(&c.carrier)
			}
			outer := new(responseWriter)
			*outer = c.rw
			h.ServeHTTP(outer, r)
			c.rw = *outer
			c.Request = req
			return nil
		}
	}
}
