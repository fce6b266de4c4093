package graft

import "net/http"

// HTTPMiddleware adapts a standard func(http.Handler) http.Handler
// middleware so it runs in a graft chain next to native middleware. The
// wrapped handler is built once; per request the Ctx travels inside the
// request's context (FromContext), at the cost of one request copy. Errors
// of the inner chain are answered by the app's error handler before control
// returns to the standard middleware, so it sees the final status.
func HTTPMiddleware(mw func(http.Handler) http.Handler) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := FromContext(r.Context())
			if c == nil {
				http.Error(w, "graft: request lost its context in a standard middleware", http.StatusInternalServerError)
				return
			}
			saved := c.rw.w
			if w != http.ResponseWriter(&c.rw) {
				c.rw.w = w
			}
			c.Request = r
			if err := next(c); err != nil && !c.rw.hijacked {
				c.app.errH(c, err)
			}
			c.rw.w = saved
		})
		h := mw(inner)
		return func(c *Ctx) error {
			c.carrier.Context = c.Request.Context()
			c.carrier.c = c
			r := c.Request.WithContext(&c.carrier)
			h.ServeHTTP(&c.rw, r)
			return nil
		}
	}
}
