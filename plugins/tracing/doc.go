// Package tracing is graft's OpenTelemetry extension: a server span per
// request and, optionally, one per WebSocket message, with W3C trace
// context taken from the incoming headers. Built on graft's public
// extension API only; a nested module, so that the core module does not
// depend on OpenTelemetry.
//
//	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter))
//	app.Register(tracing.New(tracing.Config{TracerProvider: tp, WebSocket: true}))
//
// The middleware (graft.Builder.UseRoute, so that the span names are made
// once per route at start-up) extracts the caller's trace context
// (traceparent, tracestate, baggage; Config.Propagator; W3C's default is
// not called for a request without those headers), starts a span of kind
// server named "{method} {route}" ("GET /users/{id}"; the method alone
// when no route matched, as the conventions say), puts it in the
// request's context (c.Context(), a typed handler's ctx, through
// graft.Ctx.SetContext: no request copy is allocated), and ends it once
// graft has finished the answer. Calls made with that context carry the
// span's context on (an outgoing traceparent has the span's id, sampled
// or not as the sampler decided). An unsampled span costs the SDK's
// non-recording span and the context holding it, two allocations. A recording span gets the
// semantic-convention attributes then: http.request.method (_OTHER, with
// http.request.method_original, for other methods), url.path,
// url.scheme, http.route, server.address, http.response.status_code, and
// for 5xx answers the Error status and error.type. Attributes are set
// after the start, so a span the sampler drops costs no attribute work
// (and samplers do not see them).
//
// With Config.WebSocket, ws.WrapMessage wraps every WebSocket route of
// the scope: each received message gets a server span "WS {route}" in a
// trace of its own, linked to the span of the upgrade request (found in
// ws.Socket.Context), with http.route, network.protocol.name=websocket,
// messaging.message.body.size, websocket.opcode and
// websocket.connection.id. MessageContext(&conn.Socket) is the message
// span's context inside a Message handler.
package tracing
