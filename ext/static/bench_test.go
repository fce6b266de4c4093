package static_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/static"
	"github.com/graftgo/graft/graftest"
)

func bench(b *testing.B, app http.Handler, target string, hdr ...string) {
	req := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := graftest.NewDiscard()
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		app.ServeHTTP(w, req)
	}
}

// BenchmarkStatic compares a file answer (36 bytes, from an in-memory
// fstest.MapFS and from os.DirFS), a 304 and a precompressed answer with a
// bare handler writing the same bytes.
func BenchmarkStatic(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(dir+"/hello.txt", []byte(body), 0o644)
	os.WriteFile(dir+"/hello.txt.gz", []byte(body), 0o644)
	app := graft.New(graft.Config{})
	app.Register(static.Mount("/s", os.DirFS(dir), static.Options{Precompressed: true}))
	app.Register(static.Mount("/m", fstest.MapFS{"hello.txt": {Data: []byte(body), ModTime: time.Unix(1700000000, 0)}}, static.Options{}))
	app.GET("/bare", func(c *graft.Ctx) error { return c.Text(200, body) })
	if err := app.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(b.Context())
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/s/hello.txt", nil))
	etag := rec.Header().Get("Etag")
	b.Run("bare", func(b *testing.B) { bench(b, app, "/bare") })
	b.Run("file-mapfs", func(b *testing.B) { bench(b, app, "/m/hello.txt") })
	b.Run("file", func(b *testing.B) { bench(b, app, "/s/hello.txt") })
	b.Run("304", func(b *testing.B) { bench(b, app, "/s/hello.txt", "If-None-Match", etag) })
	b.Run("gzip-sibling", func(b *testing.B) { bench(b, app, "/s/hello.txt", "Accept-Encoding", "gzip") })
}
