package requestid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/textproto"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// ID is a request id; a typed endpoint asks for it with a plugin field:
// `RequestID requestid.ID `plugin:""“.
type ID string

// Config configures the extension. The zero value is ready to use.
type Config struct {
	// Header is the request and response header of the id
	// ("X-Request-Id" when empty).
	Header string
	// MaxLength is the longest incoming id honoured (128 when zero).
	MaxLength int
	// IgnoreIncoming makes a fresh id for every request, for servers not
	// behind a proxy they trust to set the header.
	IgnoreIncoming bool
	// Generate makes a fresh id (32 random hex digits when nil). It must
	// be safe for concurrent use.
	Generate func() string
	// LogKey is the attribute key in logs ("request_id" when empty).
	LogKey string
}

// Ext is the request-id extension and plugin; make it with New.
type Ext struct {
	cfg      Config
	err      error
	key      string // canonical header key
	extended bool
}

// current is the request's id, in the pooled context (reset per request).
var current = graft.NewProperty[string]("requestid", nil)

type ctxKey struct{}

// idContext carries the id: one allocation where context.WithValue takes
// two (the context and the boxed string).
type idContext struct {
	context.Context
	id string
}

// Value returns the id for the package's key.
func (c *idContext) Value(key any) any {
	if key == (ctxKey{}) {
		return c.id
	}
	return c.Context.Value(key)
}

// New returns the extension for cfg. Register it (app.Register) and, for
// typed endpoints' ID fields, apply it as a plugin (app.UsePlugins).
func New(cfg Config) *Ext {
	e := &Ext{cfg: cfg}
	if e.cfg.Header == "" {
		e.cfg.Header = "X-Request-Id"
	}
	e.key = textproto.CanonicalMIMEHeaderKey(e.cfg.Header)
	switch {
	case e.cfg.MaxLength == 0:
		e.cfg.MaxLength = 128
	case e.cfg.MaxLength < 0:
		e.err = fmt.Errorf("Config.MaxLength is %d; give the longest id to honour, or 0 for 128", cfg.MaxLength)
	}
	if e.cfg.Generate == nil {
		e.cfg.Generate = newID
	}
	if e.cfg.LogKey == "" {
		e.cfg.LogKey = "request_id"
	}
	return e
}

// ID is "requestid".
func (e *Ext) ID() string { return "requestid" }

// Extend adds the middleware that sets the id.
func (e *Ext) Extend(b *graft.Builder) error {
	if e.err != nil {
		return e.err
	}
	if b.Scope() != "" {
		return fmt.Errorf("registered on the group %s; register requestid on the app, so that every answer (404 and 405 included) has an id", b.Scope())
	}
	b.Property(current)
	b.Use(e.middleware)
	e.extended = true
	return nil
}

func (e *Ext) middleware(next graft.HandlerFunc) graft.HandlerFunc {
	return func(c *graft.Ctx) error {
		id := ""
		if !e.cfg.IgnoreIncoming {
			if v := c.Request.Header[e.key]; len(v) == 1 && Valid(v[0], e.cfg.MaxLength) {
				id = v[0]
			}
		}
		if id == "" {
			id = e.cfg.Generate()
		}
		current.Set(c, id)
		c.Response().Header()[e.key] = []string{id}
		c.SetContext(&idContext{c.Request.Context(), id}) // no request copy allocated
		return next(c)
	}
}

// Apply is the plugin: it fills the endpoint's ID plugin field with the
// request's id, and returns endpoints without one unchanged.
func (e *Ext) Apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	field := graft.PluginField[ID](sig)
	if field == nil {
		return next, nil
	}
	if !e.extended {
		return nil, errors.New("the requestid plugin fills ID fields from its extension's middleware; register it too: app.Register(rid)")
	}
	return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
		field.Set(in, ID(current.Get(c)))
		return next(ctx, c, in)
	}, nil
}

// Valid reports whether s is an id to honour: 1 to max characters from
// A-Z a-z 0-9 - _ . : + / =.
func Valid(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}

// newID returns 32 hex digits of 128 random bits (ChaCha8, seeded by the
// runtime: unpredictable and unique enough for ids, which are not
// secrets).
func newID() string {
	const hex = "0123456789abcdef"
	var b [32]byte
	for half := range 2 {
		v := rand.Uint64()
		for i := range 16 {
			b[half*16+i] = hex[v&15]
			v >>= 4
		}
	}
	return string(b[:])
}

// Get returns the request's id ("" when the extension is not registered).
func Get(c *graft.Ctx) string { return current.Get(c) }

// FromContext returns the id in a request's context (c.Context(), the ctx
// of a typed handler), or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Logger returns the app's logger with the request's id as the
// request_id attribute (Config.LogKey).
func (e *Ext) Logger(c *graft.Ctx) *slog.Logger {
	return c.Logger().With(e.cfg.LogKey, current.Get(c))
}

// Logger returns the app's logger with the request's id as "request_id".
func Logger(c *graft.Ctx) *slog.Logger { return c.Logger().With("request_id", current.Get(c)) }

// Handler wraps h so that a record logged with a context carrying a
// request id (logger.InfoContext(c.Context(), …)) gets the attribute key
// (e.g. "request_id") with it.
func Handler(h slog.Handler, key string) slog.Handler { return ctxHandler{h, key} }

type ctxHandler struct {
	slog.Handler
	key string
}

// Handle adds the id of ctx, if any, to r.
func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := FromContext(ctx); id != "" {
		r.AddAttrs(slog.String(h.key, id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper around the new handler.
func (h ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ctxHandler{h.Handler.WithAttrs(as), h.key}
}

// WithGroup keeps the wrapper around the new handler.
func (h ctxHandler) WithGroup(name string) slog.Handler {
	return ctxHandler{h.Handler.WithGroup(name), h.key}
}

var (
	_ graft.Extension = (*Ext)(nil)
	_ graft.Plugin    = (*Ext)(nil)
)
