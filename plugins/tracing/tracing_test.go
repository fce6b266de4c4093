package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/tracing"
	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type userIn struct {
	ID int `path:"id" min:"1"`
}

type userOut struct {
	Body struct {
		TraceID string `json:"trace_id"`
	}
}

// recorder returns the SDK's in-memory span recorder behind a real tracer
// provider, shut down when the test ends.
func recorder(t *testing.T) (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return sr, tp
}

func start(t *testing.T, app *graft.App[graft.Ctx]) string {
	t.Helper()
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Shutdown(ctx)
		srv.Close()
	})
	return srv.URL
}

func do(t *testing.T, method, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(b)
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

func serve(t *testing.T, tp trace.TracerProvider) string {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(tracing.New(tracing.Config{TracerProvider: tp}))
	graft.Get(app, "/users/{id}", func(ctx context.Context, in *userIn) (*userOut, error) {
		out := &userOut{}
		out.Body.TraceID = trace.SpanContextFromContext(ctx).TraceID().String()
		return out, nil
	})
	app.GET("/boom", func(c *graft.Ctx) error { panic("boom") })
	return start(t, app)
}

// TestServerSpans: one server span per request, named "{method} {route}"
// (the method alone when no route matched), with the conventions'
// attributes and the final status; 5xx answers are errors; the handler's
// context carries the span.
func TestServerSpans(t *testing.T) {
	sr, tp := recorder(t)
	base := serve(t, tp)
	_, body := do(t, "GET", base+"/users/7")
	do(t, "GET", base+"/users/0")
	do(t, "GET", base+"/boom")
	do(t, "GET", base+"/nowhere")
	do(t, "PURGE", base+"/users/7")

	spans := sr.Ended()
	if len(spans) != 5 {
		t.Fatalf("%d spans, want 5", len(spans))
	}
	for i, want := range []struct {
		name, method, route string
		status              int64
		err                 bool
	}{
		{"GET /users/{id}", "GET", "/users/{id}", 200, false},
		{"GET /users/{id}", "GET", "/users/{id}", 422, false},
		{"GET /boom", "GET", "/boom", 500, true},
		{"GET", "GET", "", 404, false},
		{"_OTHER", "_OTHER", "", 405, false}, // 405: no route matched the method
	} {
		s := spans[i]
		a := attrs(s)
		if s.Name() != want.name || s.SpanKind() != trace.SpanKindServer {
			t.Errorf("span %d: %q kind %v, want %q server", i, s.Name(), s.SpanKind(), want.name)
		}
		if a["http.request.method"].AsString() != want.method || a["http.response.status_code"].AsInt64() != want.status ||
			a["http.route"].AsString() != want.route || a["url.scheme"].AsString() != "http" ||
			a["server.address"].AsString() != "127.0.0.1" {
			t.Errorf("span %d (%s): attributes %v", i, want.name, s.Attributes())
		}
		if (s.Status().Code == codes.Error) != want.err {
			t.Errorf("span %d (%s): status %v", i, want.name, s.Status())
		}
		if s.Parent().IsValid() {
			t.Errorf("span %d: a parent %v without an incoming traceparent", i, s.Parent())
		}
	}
	if a := attrs(spans[0]); a["url.path"].AsString() != "/users/7" {
		t.Errorf("first span: attributes %v", spans[0].Attributes())
	}
	if a := attrs(spans[4]); a["http.request.method_original"].AsString() != "PURGE" {
		t.Errorf("PURGE span: attributes %v", spans[4].Attributes())
	}
	if tid := spans[0].SpanContext().TraceID().String(); !strings.Contains(body, tid) {
		t.Errorf("the handler saw trace %s, the span is in %s", body, tid)
	}
}

// TestPropagation: an incoming W3C traceparent makes the server span its
// remote child, in the caller's trace.
func TestPropagation(t *testing.T) {
	sr, tp := recorder(t)
	base := serve(t, tp)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	_, body := do(t, "GET", base+"/users/1", "Traceparent", "00-"+traceID+"-"+parentID+"-01", "Tracestate", "vendor=x")
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.SpanContext().TraceID().String() != traceID || s.Parent().SpanID().String() != parentID || !s.Parent().IsRemote() {
		t.Fatalf("span %s parent %s (remote %v), want trace %s under %s", s.SpanContext().TraceID(), s.Parent().SpanID(), s.Parent().IsRemote(), traceID, parentID)
	}
	if s.SpanContext().TraceState().Get("vendor") != "x" {
		t.Errorf("tracestate %q, want vendor=x", s.SpanContext().TraceState())
	}
	if !strings.Contains(body, traceID) {
		t.Errorf("handler saw %s, want trace %s", body, traceID)
	}
	// A malformed traceparent starts a new trace.
	do(t, "GET", base+"/users/1", "Traceparent", "00-zz-"+parentID+"-01")
	if s := sr.Ended()[1]; s.Parent().IsValid() || s.SpanContext().TraceID().String() == traceID {
		t.Errorf("malformed traceparent: parent %v trace %s", s.Parent(), s.SpanContext().TraceID())
	}
}

// TestPropagationOut: the handler's context carries the request's span
// context to the calls it makes (W3C traceparent injected into a request
// to a second server over TCP): the span's own id, sampled or not as the
// sampler decided, in the caller's trace when there is one; a caller's
// baggage travels on, also without a traceparent.
func TestPropagationOut(t *testing.T) {
	got := make(chan http.Header, 1)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	t.Cleanup(down.Close)
	out := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	build := func(tp trace.TracerProvider) string {
		app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
		app.Register(tracing.New(tracing.Config{TracerProvider: tp}))
		app.GET("/call", func(c *graft.Ctx) error {
			req, err := http.NewRequestWithContext(c.Context(), "GET", down.URL, nil)
			if err != nil {
				return err
			}
			out.Inject(c.Context(), propagation.HeaderCarrier(req.Header))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			res.Body.Close()
			return c.Text(200, trace.SpanContextFromContext(c.Context()).SpanID().String())
		})
		return start(t, app)
	}
	// call makes the request with header and returns the traceparent and
	// baggage the downstream server got, and the span id the handler saw.
	call := func(base string, header ...string) (traceparent, baggage, spanID string) {
		t.Helper()
		status, body := do(t, "GET", base+"/call", header...)
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		select {
		case h := <-got:
			return h.Get("Traceparent"), h.Get("Baggage"), body
		case <-time.After(5 * time.Second):
			t.Fatal("the downstream server got no request within 5s")
		}
		return "", "", ""
	}
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"

	sr, tp := recorder(t) // ParentBased(AlwaysSample), the SDK's default
	base := build(tp)
	tpHeader, _, sid := call(base)
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	if want := "00-" + spans[0].SpanContext().TraceID().String() + "-" + sid + "-01"; tpHeader != want || sid != spans[0].SpanContext().SpanID().String() {
		t.Errorf("no caller: traceparent out %q, want %q (the request's span, sampled)", tpHeader, want)
	}
	tpHeader, _, sid = call(base, "Traceparent", "00-"+traceID+"-"+parentID+"-01")
	if want := "00-" + traceID + "-" + sid + "-01"; tpHeader != want {
		t.Errorf("sampled caller: traceparent out %q, want %q", tpHeader, want)
	}
	// An unsampled caller: the SDK's default sampler drops the span, and
	// the calls carry the decision on, with the span's own id.
	tpHeader, _, sid = call(base, "Traceparent", "00-"+traceID+"-"+parentID+"-00")
	if want := "00-" + traceID + "-" + sid + "-00"; tpHeader != want || sid == parentID {
		t.Errorf("unsampled caller: traceparent out %q, want %q with a span id of its own", tpHeader, want)
	}
	if n := len(sr.Ended()); n != 2 {
		t.Errorf("%d spans recorded, want 2 (the unsampled caller's request is not)", n)
	}
	_, bag, _ := call(base, "Baggage", "tenant=acme")
	if bag != "tenant=acme" {
		t.Errorf("baggage out %q, want tenant=acme", bag)
	}

	// A sampler that drops everything: the calls still get a trace
	// context, not sampled.
	nsr := tracetest.NewSpanRecorder()
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(nsr))
	t.Cleanup(func() { never.Shutdown(context.Background()) })
	tpHeader, _, sid = call(build(never))
	if len(tpHeader) != 55 || !strings.HasSuffix(tpHeader, "-"+sid+"-00") || strings.HasPrefix(tpHeader, "00-00000000000000000000000000000000") {
		t.Errorf("never sampled: traceparent out %q, want a new trace, span %s, not sampled", tpHeader, sid)
	}
	if n := len(nsr.Ended()); n != 0 {
		t.Errorf("never sampled: %d spans recorded", n)
	}
}

// parentHeader is a propagator of its own: the trace context in
// X-Parent, in traceparent's format.
type parentHeader struct{}

func (parentHeader) Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": c.Get("x-parent")})
}
func (parentHeader) Inject(context.Context, propagation.TextMapCarrier) {}
func (parentHeader) Fields() []string                                   { return []string{"x-parent"} }

// TestCustomPropagator: Config.Propagator reads the request's headers,
// W3C's being absent.
func TestCustomPropagator(t *testing.T) {
	sr, tp := recorder(t)
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(tracing.New(tracing.Config{TracerProvider: tp, Propagator: parentHeader{}}))
	app.GET("/x", func(c *graft.Ctx) error { return c.NoContent() })
	base := start(t, app)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	do(t, "GET", base+"/x", "X-Parent", "00-"+traceID+"-"+parentID+"-01")
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	if p := spans[0].Parent(); p.TraceID().String() != traceID || p.SpanID().String() != parentID || !p.IsRemote() {
		t.Errorf("parent %v, want %s/%s from X-Parent", p, traceID, parentID)
	}
}

type client struct {
	gws.BuiltinEventHandler
	got  chan string
	done chan struct{}
}

func (c *client) OnMessage(_ *gws.Conn, m *gws.Message) { c.got <- m.Data.String(); m.Close() }

// TestWebSocketSpans: each message gets a server span "WS {route}" in a
// trace of its own, linked to the upgrade request's span (itself a child
// of the client's traceparent); the Message handler reaches it through
// MessageContext.
func TestWebSocketSpans(t *testing.T) {
	sr, tp := recorder(t)
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(tracing.New(tracing.Config{TracerProvider: tp, WebSocket: true}))
	ws.Route(app, "/chat/{room}", ws.Behavior[struct{}]{
		Message: func(c *ws.Conn[struct{}], data []byte, op ws.OpCode) {
			c.Send([]byte(trace.SpanContextFromContext(tracing.MessageContext(&c.Socket)).TraceID().String()), op, false)
		},
	})
	base := start(t, app)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	cl := &client{got: make(chan string, 4), done: make(chan struct{})}
	h := http.Header{"Traceparent": {"00-" + traceID + "-00f067aa0ba902b7-01"}}
	conn, _, err := gws.NewClient(cl, &gws.ClientOption{Addr: "ws" + strings.TrimPrefix(base, "http") + "/chat/a", RequestHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	go func() { conn.ReadLoop(); close(cl.done) }()
	defer func() { conn.NetConn().Close(); <-cl.done }()
	var seen []string
	for _, m := range []string{"hi", "there"} {
		conn.WriteString(m)
		select {
		case got := <-cl.got:
			seen = append(seen, got)
		case <-time.After(5 * time.Second):
			t.Fatalf("no answer to %q within 5s", m)
		}
	}
	// A message's span ends once its handler returned, which may be just
	// after the client got the answer.
	var upgrade sdktrace.ReadOnlySpan
	var msgs []sdktrace.ReadOnlySpan
	var spans []sdktrace.ReadOnlySpan
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		upgrade, msgs, spans = nil, nil, sr.Ended()
		for _, s := range spans {
			switch s.Name() {
			case "GET /chat/{room}":
				upgrade = s
			case "WS /chat/{room}":
				msgs = append(msgs, s)
			}
		}
		if upgrade != nil && len(msgs) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spans %v after 5s, want the upgrade and two messages", names(spans))
		}
	}
	if upgrade.SpanContext().TraceID().String() != traceID {
		t.Errorf("upgrade span in trace %s, want the client's %s", upgrade.SpanContext().TraceID(), traceID)
	}
	for i, s := range msgs {
		a := attrs(s)
		if s.Parent().IsValid() || s.SpanContext().TraceID().String() == traceID || s.SpanKind() != trace.SpanKindServer {
			t.Errorf("message %d: parent %v trace %s kind %v, want a new root", i, s.Parent(), s.SpanContext().TraceID(), s.SpanKind())
		}
		if len(s.Links()) != 1 || s.Links()[0].SpanContext.SpanID() != upgrade.SpanContext().SpanID() {
			t.Errorf("message %d: links %v, want the upgrade span", i, s.Links())
		}
		if a["http.route"].AsString() != "/chat/{room}" || a["network.protocol.name"].AsString() != "websocket" ||
			a["messaging.message.body.size"].AsInt64() != int64(len([]string{"hi", "there"}[i])) || a["websocket.opcode"].AsString() != "text" {
			t.Errorf("message %d: attributes %v", i, s.Attributes())
		}
		if seen[i] != s.SpanContext().TraceID().String() {
			t.Errorf("message %d: the handler saw trace %s, the span is in %s", i, seen[i], s.SpanContext().TraceID())
		}
	}
}

// TestSetupErrors: spans per WebSocket message without WebSocket routes,
// and one extension value on two apps, stop start-up naming the
// extension.
func TestSetupErrors(t *testing.T) {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.Register(tracing.New(tracing.Config{WebSocket: true}))
	if err := app.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "graft.ws") || !strings.Contains(err.Error(), tracing.ID) {
		t.Errorf("WebSocket without the ws extension: %v", err)
		app.Stop(context.Background())
	}
	e := tracing.New(tracing.Config{})
	first := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	first.Register(e)
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer first.Stop(context.Background())
	second := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	second.Register(e)
	if err := second.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("one extension on two apps: %v", err)
		second.Stop(context.Background())
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name())
	}
	return n
}
