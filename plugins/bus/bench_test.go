package bus_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/bus"
)

// BenchmarkBus serves the endpoint without the field (untouched by the
// plugin) and the one that publishes to a typed subscriber.
func BenchmarkBus(b *testing.B) {
	term := bus.NewTerminal()
	bus.On(term, func(context.Context, *di.Graph, UserCreated) error { return nil })
	app := newApp(term)
	if err := app.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(context.Background())
	for _, bc := range []struct{ name, method string }{{"untouched", "GET"}, {"publish", "POST"}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(bc.method, "/users/7", nil)
			w := graftest.NewDiscard()
			b.ReportAllocs()
			for range b.N {
				w.Reset()
				app.ServeHTTP(w, req)
				if w.Status() >= 300 {
					b.Fatalf("status %d", w.Status())
				}
			}
		})
	}
}
