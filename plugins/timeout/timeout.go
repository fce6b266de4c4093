package timeout

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// Config configures the timeout.
type Config struct {
	// Timeout is how long the handler has to answer. Required.
	Timeout time.Duration
	// Status answers a handler that did not answer in time: 503 Service
	// Unavailable (the default, as net/http's TimeoutHandler) or 504
	// Gateway Timeout (for an app that is a gateway to what timed out).
	Status int
	// Skip leaves the endpoints it returns true for alone (the plugin
	// returns them unchanged).
	Skip func(sig *graft.Signature) bool
}

// Timeout is the timeout plugin and middleware; make it with New.
type Timeout struct {
	cfg Config
	err error
}

// New returns the timeout for cfg. A mistake in cfg stops start-up where
// the timeout is used, naming the endpoint.
func New(cfg Config) *Timeout {
	t := &Timeout{cfg: cfg}
	switch {
	case cfg.Timeout <= 0:
		t.err = fmt.Errorf("Config.Timeout is %v; give how long a handler may take", cfg.Timeout)
	case cfg.Status == 0:
		t.cfg.Status = http.StatusServiceUnavailable
	case cfg.Status != http.StatusServiceUnavailable && cfg.Status != http.StatusGatewayTimeout:
		t.err = fmt.Errorf("Config.Status is %d; a timeout answers 503 or 504", cfg.Status)
	}
	return t
}

// Apply is the plugin: the endpoint's handler (and the plugins inside
// this one) runs with a context that ends after Timeout; an endpoint that
// has not answered by then is answered Status at once.
func (t *Timeout) Apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	if t.err != nil {
		return nil, t.err
	}
	if t.cfg.Skip != nil && t.cfg.Skip(sig) {
		return next, nil
	}
	sig.AddReturn(graft.Return{
		Status: t.cfg.Status, Type: problemType, MediaType: "application/problem+json", Encoder: "problem",
		Description: "no answer within " + t.cfg.Timeout.String(),
	})
	return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
		var out any
		var err error
		expired := t.run(ctx, c, func(ctx context.Context) { out, err = next(ctx, c, in) })
		if expired {
			return nil, t.answer()
		}
		return out, err
	}, nil
}

// Middleware returns the timeout as middleware for plain routes
// (graft.WithMiddleware, Group.Use): c.Request carries the context that
// ends after Timeout.
func (t *Timeout) Middleware() (graft.Middleware, error) {
	if t.err != nil {
		return nil, t.err
	}
	return func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			var err error
			req := c.Request
			expired := t.run(req.Context(), c, func(ctx context.Context) {
				c.SetContext(ctx) // a copy of req, not allocated
				err = next(c)
			})
			c.Request = req
			if expired {
				return t.answer()
			}
			return err
		}
	}, nil
}

// answer is the error a timed-out request returns to graft: its answer
// is written through the guard, which already sent the timeout's, so
// what the client got is what the Ctx records (status, error log).
func (t *Timeout) answer() error {
	return &graft.HTTPError{Status: t.cfg.Status, Detail: "the request was not answered within " + t.cfg.Timeout.String()}
}

// run calls serve with a context that ends after the timeout, in this
// goroutine, behind a guard: should the deadline pass before serve has
// written anything, the guard answers with the timeout's status from the
// timer's goroutine and drops what serve writes afterwards. It reports
// whether it did.
func (t *Timeout) run(parent context.Context, c *graft.Ctx, serve func(ctx context.Context)) bool {
	ctx, cancel := context.WithTimeout(parent, t.cfg.Timeout)
	defer cancel()
	inner := c.SwapWriter(nil)
	g := &guard{inner: inner, h: inner.Header().Clone()}
	c.SwapWriter(g)
	body := t.body(c.Request.URL.Path)
	stop := context.AfterFunc(ctx, func() {
		if parent.Err() == nil { // the deadline, not a client gone
			g.expire(t.cfg.Status, body)
		}
	})
	serve(ctx)
	stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == expired {
		return true // the guard stays: graft's own answer goes nowhere
	}
	if g.state == open {
		// Nothing written: the handler's headers become the response's,
		// and graft writes its answer straight through.
		h := inner.Header()
		clear(h)
		for k, v := range g.h {
			h[k] = v
		}
		c.SwapWriter(inner)
	}
	g.state = done
	// A handler that saw the deadline and returned before the timer ran:
	// nothing was written, so graft writes the timeout's answer itself.
	return ctx.Err() == context.DeadlineExceeded && parent.Err() == nil && !c.Written()
}

var problemType = reflect.TypeFor[graft.Problem]()

// body returns the problem+json document of the timeout answer for path.
func (t *Timeout) body(path string) func() []byte {
	return func() []byte {
		he := t.answer().(*graft.HTTPError)
		b, err := json.Marshal(he.Problem(path))
		if err != nil {
			return []byte(`{"type":"about:blank","title":"` + http.StatusText(t.cfg.Status) + `","status":` + strconv.Itoa(t.cfg.Status) + `}`)
		}
		return b
	}
}

type guardState uint8

const (
	open    guardState = iota // nothing written yet
	started                   // the handler's answer has begun: the timeout writes nothing
	expired                   // the timeout answered: the handler's writes are dropped
	done                      // run returned: the timer does nothing any more
)

// guard is the writer between the Ctx's and the one below it while a
// handler runs under the timeout. The handler gets a header map of its
// own, so the timer's goroutine never touches a map the handler writes;
// both write below under one lock.
type guard struct {
	mu    sync.Mutex
	inner http.ResponseWriter
	h     http.Header
	state guardState
}

// Header returns the handler's header map.
func (g *guard) Header() http.Header { return g.h }

// begin sends the handler's headers below; g.mu is held.
func (g *guard) begin() {
	h := g.inner.Header()
	clear(h)
	for k, v := range g.h {
		h[k] = v
	}
	g.state = started
}

// WriteHeader passes the status on unless the timeout answered.
func (g *guard) WriteHeader(code int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == expired {
		return
	}
	if g.state == open {
		g.begin()
	}
	g.inner.WriteHeader(code)
}

// Write passes b on, or fails with http.ErrHandlerTimeout once the
// timeout answered.
func (g *guard) Write(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == expired {
		return 0, http.ErrHandlerTimeout
	}
	if g.state == open {
		g.begin()
	}
	return g.inner.Write(b)
}

// Flush passes a flush on unless the timeout answered.
func (g *guard) Flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != expired {
		_ = http.NewResponseController(g.inner).Flush()
	}
}

// expire writes the timeout's answer if the handler has written nothing
// yet, with a Content-Length so that the client has all of it while the
// handler is still running, and flushes it.
func (g *guard) expire(status int, body func() []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != open {
		return
	}
	g.state = expired
	b := body()
	h := g.inner.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	g.inner.WriteHeader(status)
	_, _ = g.inner.Write(b)
	_ = http.NewResponseController(g.inner).Flush()
}

var (
	_ graft.Plugin = (*Timeout)(nil)
	_ http.Flusher = (*guard)(nil)
)
