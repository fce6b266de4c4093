package logging

import (
	"log/slog"
	"time"

	"github.com/graftgo/graft"
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
	b.Use(e.middleware)
	return nil
}

func (e *Ext) middleware(next graft.HandlerFunc) graft.HandlerFunc {
	return func(c *graft.Ctx) error {
		start := time.Now()
		err := next(c) // the answer is complete: final status and size
		e.record(c, start)
		return err
	}
}

// record logs the finished request c that started at start.
func (e *Ext) record(c *graft.Ctx, start time.Time) {
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
	end := time.Now()
	attrs := [7]slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("route", c.RoutePattern()),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", c.BytesWritten()),
		slog.Duration("duration", end.Sub(start)),
	}
	n := 6
	if id := requestid.Get(c); id != "" && e.cfg.RequestIDKey != "-" {
		attrs[n] = slog.String(e.cfg.RequestIDKey, id)
		n++
	}
	// The record is made here, not by log.LogAttrs: that would ask
	// runtime.Callers for the source line, which costs more than all the
	// rest and is always this line.
	r := slog.NewRecord(end, level, e.cfg.Message, 0)
	r.AddAttrs(attrs[:n]...)
	_ = log.Handler().Handle(ctx, r)
}
