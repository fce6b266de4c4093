package openapi_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/openapi"
)

// app200 registers 200 typed endpoints (reads with params, writes with
// bodies, declared outcomes), with the OpenAPI extension or without.
func app200(withDocs bool) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if withDocs {
		app.Register(openapi.Extension(openapi.Info{Title: "200", Version: "1"}))
	}
	for i := range 50 {
		g := app.Group(fmt.Sprintf("/r%d", i), graft.Tags(fmt.Sprintf("r%d", i)))
		graft.Get(g, "/pets", listPets)
		graft.Get(g, "/pets/{id}", getPet, graft.Responds[graft.Problem](http.StatusNotFound, "no such pet"))
		graft.Put(g, "/pets/{id}", putPet, graft.Responds[Conflict](http.StatusConflict, "taken"))
		graft.Post(g, "/albums", upload)
	}
	app.UsePlugins(authPlugin(), tenantPlugin())
	return app
}

// BenchmarkStartup200 measures Start of an app with 200 typed endpoints,
// without and with the OpenAPI extension (which builds and renders the
// three documents); the "docs" case reports the ratio to the plain one.
func BenchmarkStartup200(b *testing.B) {
	var plain float64
	for _, withDocs := range []bool{false, true} {
		name := "plain"
		if withDocs {
			name = "docs"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				b.StopTimer()
				app := app200(withDocs)
				b.StartTimer()
				if err := app.Start(b.Context()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if withDocs {
					size = len(serveDoc(b, app))
				}
				_ = app.Stop(b.Context())
				b.StartTimer()
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if withDocs {
				b.ReportMetric(float64(size), "doc-bytes")
				if plain > 0 {
					b.ReportMetric(ns/plain, "x-plain")
				}
			} else {
				plain = ns
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
