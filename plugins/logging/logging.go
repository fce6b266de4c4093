package logging

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/internal/httpmethod"
	"github.com/graftgo/graft/plugins/requestid"
)

// ID is the extension's ID.
const ID = "graft.logging"

// Config configures the access log. The zero value logs every request to
// the app's logger as "request".
type Config struct {
	// Logger receives the records; nil means the app's logger
	// (graft.Config.Logger).
	Logger *slog.Logger
	// Message is the records' message ("request" when empty).
	Message string
	// Level chooses a record's level from the final status; nil logs
	// slog.LevelInfo below 500 and slog.LevelError from 500 on.
	Level func(status int) slog.Level
	// Skip, when it returns true after the answer, leaves the request out
	// of the log (e.g. c.RoutePattern() == "/healthz").
	Skip func(c *graft.Ctx) bool
	// RequestIDKey is the attribute of plugins/requestid's id
	// ("request_id" when empty; "-" leaves it out, for a logger whose
	// handler adds it from the context already, requestid.Handler).
	RequestIDKey string
}

// Ext is the access-log extension; make it with New and register it on
// the app (every answer, 404 and 405 included) or on a group (its routes).
type Ext struct {
	cfg Config
}

// New returns the access log for cfg.
func New(cfg Config) *Ext {
	if cfg.Message == "" {
		cfg.Message = "request"
	}
	if cfg.Level == nil {
		cfg.Level = defaultLevel
	}
	if cfg.RequestIDKey == "" {
		cfg.RequestIDKey = "request_id"
	}
	return &Ext{cfg: cfg}
}

func defaultLevel(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}

// ID returns ID.
func (e *Ext) ID() string { return ID }

// Extend adds the middleware that logs each answer.
func (e *Ext) Extend(b *graft.Builder) error {
	b.UseRoute(e.middleware)
	return nil
}

// knownMethods are the methods whose records a route preformats (see
// routeLog); a record of another method carries it as an attribute.
var knownMethods = httpmethod.Known

// methodIndex returns m's index in knownMethods, or len(knownMethods).
func methodIndex(m string) int { return httpmethod.Index(m) }

// routeLog is one route's handlers by method index: the logger's handler
// with the method and route attributes added once (slog.Handler.WithAttrs,
// which formats them ahead for slog's own handlers), made the first time
// the route answers the method. A record then carries the five that vary
// (path, status, bytes, duration, request id), which slog.Record keeps
// without an allocation.
type routeLog struct {
	route    string
	handlers [len(knownMethods)]atomic.Pointer[routeHandler]
}

// routeHandler is a handler of routeLog and the logger it was made from.
type routeHandler struct {
	from *slog.Logger
	h    slog.Handler
}

// handler returns the handler of method index m for records to log.
func (rl *routeLog) handler(log *slog.Logger, m int) slog.Handler {
	if rh := rl.handlers[m].Load(); rh != nil && rh.from == log {
		return rh.h
	}
	// Made at most once per method and logger; a race makes it twice,
	// the same.
	h := log.Handler().WithAttrs([]slog.Attr{slog.String("method", knownMethods[m]), slog.String("route", rl.route)})
	rl.handlers[m].Store(&routeHandler{from: log, h: h})
	return h
}

// middleware logs each answer of route rt (nil: the 404 and 405 answers).
func (e *Ext) middleware(rt *graft.Route, next graft.HandlerFunc) graft.HandlerFunc {
	rl := &routeLog{}
	if rt != nil {
		rl.route = rt.Pattern()
	}
	return func(c *graft.Ctx) error {
		start := c.StartTime() // one clock reading shared with plugins/metrics
		err := next(c)         // the answer is complete: final status and size
		e.record(c, rl, start)
		return err
	}
}

// record logs the finished request c of route rl that started at start.
func (e *Ext) record(c *graft.Ctx, rl *routeLog, start time.Time) {
	status := c.StatusCode()
	level := e.cfg.Level(status)
	ctx := c.Request.Context()
	log := e.cfg.Logger
	if log == nil {
		log = c.Logger()
	}
	if !log.Enabled(ctx, level) || (e.cfg.Skip != nil && e.cfg.Skip(c)) {
		return
	}
	took := time.Since(start) // the monotonic clock only
	end := start.Add(took)
	var attrs [7]slog.Attr
	n := 0
	h := log.Handler()
	if m := methodIndex(c.Request.Method); m < len(knownMethods) {
		h = rl.handler(log, m)
	} else {
		attrs[0] = slog.String("method", c.Request.Method)
		attrs[1] = slog.String("route", rl.route)
		n = 2
	}
	attrs[n] = slog.String("path", c.Request.URL.Path)
	attrs[n+1] = slog.Int("status", status)
	attrs[n+2] = slog.Int64("bytes", c.BytesWritten())
	attrs[n+3] = slog.Duration("duration", took)
	n += 4
	if id := requestid.Get(c); id != "" && e.cfg.RequestIDKey != "-" {
		attrs[n] = slog.String(e.cfg.RequestIDKey, id)
		n++
	}
	// The record is made here, not by log.LogAttrs: that would ask
	// runtime.Callers for the source line, which costs more than all the
	// rest and is always this line.
	r := slog.NewRecord(end, level, e.cfg.Message, 0)
	r.AddAttrs(attrs[:n]...)
	_ = h.Handle(ctx, r)
}
