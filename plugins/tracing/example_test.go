package tracing_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/tracing"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A server span per request, named "{method} {route}", child of the
// caller's W3C traceparent. (The SDK's in-memory recorder stands in for
// an exporter.)
func Example() {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(context.Background())

	app := graft.New(graft.Config{})
	app.Register(tracing.New(tracing.Config{TracerProvider: tp}))
	app.GET("/users/{id}", func(c *graft.Ctx) error { return c.Text(200, "user "+c.Param("id")) })
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/users/7", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	res, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()

	for _, s := range sr.Ended() {
		fmt.Println(s.Name(), s.SpanKind(), s.SpanContext().TraceID(), "parent", s.Parent().SpanID())
		for _, a := range s.Attributes() {
			if a.Key == "http.route" || a.Key == "http.response.status_code" {
				fmt.Println(" ", a.Key, a.Value.Emit())
			}
		}
	}
	// Output:
	// GET /users/{id} server 4bf92f3577b34da6a3ce929d0e0e4736 parent 00f067aa0ba902b7
	//   http.response.status_code 200
	//   http.route /users/{id}
}
