package openapi_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/openapi"
	"github.com/graftgo/graft/ws"
)

// app200 registers 200 typed endpoints (reads with params, writes with
// bodies, declared outcomes), with the OpenAPI extension or without, and
// with 50 declared WebSocket routes or without (their connection pools
// off, so that the WebSocket case measures routes and documents, not
// pre-allocated connections).
func app200(withDocs bool, withWS ...bool) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if withDocs {
		app.Register(openapi.Extension(openapi.Info{Title: "200", Version: "1"}))
	}
	ws50 := len(withWS) > 0 && withWS[0]
	if ws50 {
		app.Register(ws.Extension(ws.Config{PoolMaxItems: -1}))
	}
	for i := range 50 {
		g := app.Group(fmt.Sprintf("/r%d", i), graft.Tags(fmt.Sprintf("r%d", i)))
		graft.Get(g, "/pets", listPets)
		graft.Get(g, "/pets/{id}", getPet, graft.Responds[graft.Problem](http.StatusNotFound, "no such pet"))
		graft.Put(g, "/pets/{id}", putPet, graft.Responds[Conflict](http.StatusConflict, "taken"))
		graft.Post(g, "/albums", upload)
		if ws50 {
			ws.Route(g, "/chat/{room}", ws.Behavior[struct{}]{
				Handshake: reflect.TypeFor[chatHandshake](),
				Receives:  []ws.Message{sayMsg, typingMsg},
				Sends:     []ws.Message{lineMsg, typingMsg},
				Topics:    []ws.Topic{{Pattern: fmt.Sprintf("room%d.{room}", i)}},
			})
		}
	}
	app.UsePlugins(authPlugin(), tenantPlugin())
	return app
}

// BenchmarkStartup200 measures Start of an app with 200 typed endpoints,
// without and with the OpenAPI extension (which builds and renders the
// OpenAPI documents and the AsyncAPI one), and the same with 50 declared
// WebSocket routes; each docs case reports its ratio to the plain one
// with the same routes.
func BenchmarkStartup200(b *testing.B) {
	plain := map[bool]float64{}
	for _, c := range []struct {
		name             string
		withDocs, withWS bool
	}{{"plain", false, false}, {"docs", true, false}, {"plain+50ws", false, true}, {"docs+50ws", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var size, asize int
			for b.Loop() {
				b.StopTimer()
				app := app200(c.withDocs, c.withWS)
				b.StartTimer()
				if err := app.Start(b.Context()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if c.withDocs {
					size = len(serveDoc(b, app))
					_, _, a := fetchHandler(app, "/asyncapi.json")
					asize = len(a)
				}
				_ = app.Stop(b.Context())
				b.StartTimer()
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if c.withDocs {
				b.ReportMetric(float64(size), "doc-bytes")
				b.ReportMetric(float64(asize), "asyncapi-bytes")
				if plain[c.withWS] > 0 {
					b.ReportMetric(ns/plain[c.withWS], "x-plain")
				}
			} else {
				plain[c.withWS] = ns
			}
		})
	}
}

// serveDoc fetches /openapi.json through the app, checking it is there.
func serveDoc(tb testing.TB, app http.Handler) []byte {
	st, ct, body := fetchHandler(app, "/openapi.json")
	if st != http.StatusOK || ct != "application/json" || len(body) == 0 {
		tb.Fatalf("/openapi.json: %d %q, %d bytes", st, ct, len(body))
	}
	return []byte(body)
}

// BenchmarkServeDocument serves the documents of the 200-endpoint app
// through the app (a writer that discards the body): a copy of bytes
// built at start-up, 0 allocations (TestServe and TestAsyncAPIServe pin
// it).
func BenchmarkServeDocument(b *testing.B) {
	app := app200(true, true)
	if err := app.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(b.Context())
	for _, path := range []string{"/openapi.json", "/openapi-3.0.json", "/asyncapi.json"} {
		b.Run(path[1:], func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			w := &stubWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				app.ServeHTTP(w, req)
			}
		})
	}
}
