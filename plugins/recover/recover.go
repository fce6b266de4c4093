package recover

import (
	"fmt"
	"log/slog"
	"net/http"
	"reflect"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/plugins/requestid"
)

// Config configures the plugin. The zero value logs every panic with its
// stack through the app's logger and answers 500 problem+json.
type Config struct {
	// Logger receives the panic records; default the app's logger.
	Logger *slog.Logger
	// Level is the records' level; default (nil) slog.LevelError.
	Level slog.Leveler
	// Message is the records' message; default "panic recovered".
	Message string
	// OmitStack leaves the stack out of the records.
	OmitStack bool
	// RequestIDKey is the attribute of the request id (plugins/requestid,
	// when registered); default "request_id", "-" to leave it out (for a
	// logger wrapped in requestid.Handler, which adds it itself).
	RequestIDKey string
	// OnPanic, when set, answers a panic instead of the 500 problem+json,
	// after the record was logged and when the answer has not started:
	// write an answer and return nil, or return an error for the app's
	// error handler (an *graft.HTTPError chooses the status; the error
	// comes wrapped with a graft.PanicError, so DefaultErrorHandler does
	// not log the panic a second time). It runs on
	// the panicking request's goroutine; a panic in it is logged by graft
	// and answered 500.
	OnPanic func(c *graft.Ctx, v any) error
}

// Plugin is the recover plugin; make it with New. Apply it to typed
// endpoints (app.UsePlugins, graft.Plugins), or hand PanicHandler to
// graft.Config for every route.
type Plugin struct {
	cfg     Config
	problem reflect.Type
}

// New returns the plugin for cfg.
func New(cfg Config) *Plugin {
	if cfg.Message == "" {
		cfg.Message = "panic recovered"
	}
	if cfg.RequestIDKey == "" {
		cfg.RequestIDKey = "request_id"
	}
	if cfg.Level == nil {
		cfg.Level = slog.LevelError
	}
	return &Plugin{cfg: cfg, problem: reflect.TypeFor[graft.Problem]()}
}

// Apply gives the endpoint the plugin's panic handler (Signature.OnPanic):
// the panics of its pre-bind hooks, plugin middleware, binding,
// dependency providers, wrappers and handler come to the plugin. It adds
// the 500 to the signature.
func (p *Plugin) Apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	sig.OnPanic(p.Handle)
	sig.AddReturn(graft.Return{Status: http.StatusInternalServerError, Type: p.problem,
		MediaType: "application/problem+json", Encoder: "problem",
		Description: "the endpoint failed unexpectedly (a recovered panic)"})
	return next, nil
}

// PanicHandler returns the plugin's handling for graft.Config.PanicHandler:
// the same records and answers for every route, plain handlers and
// middleware included.
func (p *Plugin) PanicHandler() graft.PanicHandler { return p.Handle }

// Handle is the plugin's graft.PanicHandler: it logs the panic once (the
// route pattern, the method, the path, the request id when there is one,
// the value, its type and, unless OmitStack, the stack) and answers:
//
//   - when the answer has started (status or body sent), it cannot be
//     turned into a 500: Handle panics with http.ErrAbortHandler, so
//     net/http aborts the connection (the client sees a truncated answer,
//     not a complete-looking one), as it does for a handler that panics
//     after writing;
//   - with OnPanic, what OnPanic answers;
//   - else a 500 through the app's error handler (problem+json by
//     default; the record is not logged twice: the error is a
//     graft.PanicError, which DefaultErrorHandler does not log).
//
// graft never calls it with http.ErrAbortHandler, which goes straight on
// to net/http.
func (p *Plugin) Handle(c *graft.Ctx, v any, stack []byte) error {
	p.log(c, v, stack)
	if c.Written() {
		panic(http.ErrAbortHandler)
	}
	if p.cfg.OnPanic != nil {
		if err := p.cfg.OnPanic(c, v); err != nil {
			// Marked as a panic's, so that the error handler does not
			// log it again (DefaultErrorHandler logs other 5xx errors).
			return fmt.Errorf("%w (after %w)", err, graft.PanicError{Value: v})
		}
		return nil
	}
	return &graft.HTTPError{Status: http.StatusInternalServerError, Err: graft.PanicError{Value: v}}
}

func (p *Plugin) log(c *graft.Ctx, v any, stack []byte) {
	l := p.cfg.Logger
	if l == nil {
		l = c.Logger()
	}
	ctx := c.Context()
	level := p.cfg.Level.Level()
	if !l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("method", c.Request.Method),
		slog.String("route", c.RoutePattern()),
		slog.String("path", c.Request.URL.Path))
	if p.cfg.RequestIDKey != "-" {
		if id := requestid.Get(c); id != "" {
			attrs = append(attrs, slog.String(p.cfg.RequestIDKey, id))
		}
	}
	attrs = append(attrs, slog.String("panic", fmt.Sprint(v)), slog.String("panic_type", fmt.Sprintf("%T", v)))
	if c.Written() {
		attrs = append(attrs, slog.Bool("answer_started", true))
	}
	if !p.cfg.OmitStack {
		attrs = append(attrs, slog.String("stack", string(stack)))
	}
	l.LogAttrs(ctx, level, p.cfg.Message, attrs...)
}

var _ graft.Plugin = (*Plugin)(nil)
