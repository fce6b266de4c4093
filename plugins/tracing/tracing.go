package tracing

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/internal/httpmethod"
	"github.com/graftgo/graft/ws"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ID is the extension's ID.
const ID = "graft.tracing"

// ScopeName is the instrumentation scope of the extension's tracer.
const ScopeName = "github.com/graftgo/graft/plugins/tracing"

// Config configures the tracing extension. The zero value uses the global
// tracer provider (otel.GetTracerProvider) and W3C trace context.
type Config struct {
	// TracerProvider makes the tracer; nil means otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// Propagator reads the incoming trace context from request headers;
	// nil means W3C Trace Context and Baggage (traceparent, tracestate,
	// baggage).
	Propagator propagation.TextMapPropagator
	// WebSocket makes a span per message received on the WebSocket routes
	// of the extension's scope. It makes the extension require the
	// WebSocket extension (ws.ExtensionID), which the first ws.Route
	// registers.
	WebSocket bool
}

// Ext is the tracing extension; make it with New.
type Ext struct {
	cfg     Config
	tracer  trace.Tracer
	prop    propagation.TextMapPropagator
	w3c     bool // prop is the default, W3C's: it reads Traceparent, Tracestate and Baggage only
	started bool
}

// New returns the tracing extension for cfg; register it on the app.
func New(cfg Config) *Ext {
	e := &Ext{cfg: cfg}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	e.tracer = tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL))
	e.prop = cfg.Propagator
	if e.prop == nil {
		e.prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
		e.w3c = true
	}
	return e
}

// ID returns ID.
func (e *Ext) ID() string { return ID }

// Requires lists the WebSocket extension when Config.WebSocket is set.
func (e *Ext) Requires() []string {
	if e.cfg.WebSocket {
		return []string{ws.ExtensionID}
	}
	return nil
}

// Extend adds the middleware that makes a server span per request, and
// with Config.WebSocket the per-message hook.
func (e *Ext) Extend(b *graft.Builder) error {
	if e.started {
		return errors.New("this tracing extension is already registered on another app or scope; make one per app with tracing.New")
	}
	e.started = true
	b.UseRoute(e.middleware)
	if e.cfg.WebSocket {
		b.Property(messageCtx)
		return ws.WrapMessage(b, e.wrapMessage)
	}
	return nil
}

// knownMethods are the methods the conventions name; a span of another
// method is named and attributed _OTHER, with the original in
// http.request.method_original.
var knownMethods = httpmethod.Known

// other is the index of _OTHER in a route's span names.
const other = httpmethod.Other

// methodIndex returns m's index in knownMethods, or other.
func methodIndex(m string) int { return httpmethod.Index(m) }

// methodName returns the conventions' name of the method at index i.
func methodName(i int) string {
	if i < other {
		return knownMethods[i]
	}
	return "_OTHER"
}

// middleware makes the span of each request of route rt (nil: the 404
// and 405 answers). The span names "{method} {route}" are made here, once
// per route, so a request builds no string.
func (e *Ext) middleware(rt *graft.Route, next graft.HandlerFunc) graft.HandlerFunc {
	route := ""
	if rt != nil {
		route = rt.Pattern()
	}
	var names [other + 1]string
	for i := range names {
		names[i] = methodName(i)
		if route != "" {
			names[i] += " " + route
		}
	}
	return func(c *graft.Ctx) error {
		r := c.Request
		ctx := r.Context()
		// W3C's propagators find nothing in a request without their
		// fields (a tracestate needs a traceparent): skip their calls.
		if !e.w3c || len(r.Header["Traceparent"]) > 0 || len(r.Header["Baggage"]) > 0 {
			ctx = e.prop.Extract(ctx, headerCarrier(r.Header))
		}
		m := methodIndex(r.Method)
		ctx, span := e.tracer.Start(ctx, names[m], serverStart...)
		c.SetContext(ctx) // no request copy allocated
		err := next(c)    // answered: the final status
		if span.IsRecording() {
			setAttributes(span, r, m, route, c.StatusCode())
		}
		span.End()
		return err
	}
}

// serverStart are the start options of a request's span: one slice, so
// that passing it allocates nothing.
var serverStart = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// setAttributes sets the conventions' attributes on a recording span,
// in one call once the answer is complete: a span the sampler drops costs
// no attribute work (samplers therefore do not see them).
func setAttributes(span trace.Span, r *http.Request, method int, route string, status int) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs,
		semconv.HTTPRequestMethodKey.String(methodName(method)),
		semconv.URLPathKey.String(r.URL.Path),
		semconv.URLSchemeKey.String(scheme),
		semconv.HTTPResponseStatusCodeKey.Int(status))
	if method == other {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginalKey.String(r.Method))
	}
	if route != "" {
		attrs = append(attrs, semconv.HTTPRouteKey.String(route))
	}
	if h := hostOnly(r.Host); h != "" {
		attrs = append(attrs, semconv.ServerAddressKey.String(h))
	}
	if status >= 500 {
		span.SetStatus(codes.Error, "")
		attrs = append(attrs, semconv.ErrorTypeKey.String(strconv.Itoa(status)))
	}
	span.SetAttributes(attrs...)
}

// headerCarrier reads the propagators' fields from request headers by
// their canonical keys, without canonicalising (and allocating) per
// lookup as propagation.HeaderCarrier does.
type headerCarrier http.Header

// Get returns the first value of the field key.
func (h headerCarrier) Get(key string) string {
	var k string
	switch key {
	case "traceparent":
		k = "Traceparent"
	case "tracestate":
		k = "Tracestate"
	case "baggage":
		k = "Baggage"
	default:
		return http.Header(h).Get(key)
	}
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set is not used on requests (extraction only).
func (h headerCarrier) Set(key, value string) { http.Header(h).Set(key, value) }

// Keys lists the header names.
func (h headerCarrier) Keys() []string { return propagation.HeaderCarrier(h).Keys() }

// hostOnly returns the host of a host:port, [v6]:port or bare host.
func hostOnly(hp string) string {
	if strings.HasPrefix(hp, "[") {
		if i := strings.IndexByte(hp, ']'); i > 0 {
			return hp[1:i]
		}
		return hp
	}
	if i := strings.LastIndexByte(hp, ':'); i >= 0 && strings.IndexByte(hp, ':') == i {
		return hp[:i]
	}
	return hp
}

// messageCtx is the context of the message being handled, on the Socket.
var messageCtx = graft.NewProperty[context.Context]("graft.tracing.message", nil)

// MessageContext returns the context carrying the span of the WebSocket
// message being handled, for a Message handler's own spans
// (MessageContext(conn) inside Behavior.Message), or the connection's
// Context outside one; it needs Config.WebSocket.
func MessageContext(s *ws.Socket) context.Context {
	if ctx := messageCtx.Get(s); ctx != nil {
		return ctx
	}
	return s.Context()
}

// wrapMessage makes the span per WebSocket message: a new trace per
// message, linked to the span of the upgrade request, so a connection's
// messages do not pile into one long trace.
func (e *Ext) wrapMessage(pattern string, next ws.MessageHandler) ws.MessageHandler {
	name := "WS " + pattern
	route := semconv.HTTPRouteKey.String(pattern)
	proto := semconv.NetworkProtocolNameKey.String("websocket")
	return func(s *ws.Socket, data []byte, op ws.OpCode) {
		opts := [4]trace.SpanStartOption{
			trace.WithNewRoot(),
			serverStart[0],
			trace.WithAttributes(route, proto,
				semconv.MessagingMessageBodySizeKey.Int(len(data)),
				attribute.String("websocket.opcode", op.String()),
				attribute.Int64("websocket.connection.id", int64(s.ID()))),
		}
		nopts := 3
		if sc := trace.SpanContextFromContext(s.Context()); sc.IsValid() {
			opts[3] = trace.WithLinks(trace.Link{SpanContext: sc})
			nopts++
		}
		ctx, span := e.tracer.Start(s.Context(), name, opts[:nopts]...)
		defer span.End()
		messageCtx.Set(s, ctx)
		next(s, data, op)
		messageCtx.Set(s, nil)
	}
}
