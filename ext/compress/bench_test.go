package compress_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/compress"
	"github.com/graftgo/graft/graftest"
)

// benchApps are two apps serving the same 7200-byte text: one bare, one
// with the compression extension.
func benchApps(tb testing.TB) (bare, withExt *graft.App[graft.Ctx]) {
	mk := func(ext bool) *graft.App[graft.Ctx] {
		app := graft.New(graft.Config{})
		if ext {
			app.Register(compress.Extension(compress.Options{}))
		}
		app.GET("/big", func(c *graft.Ctx) error { return c.Text(200, big) })
		app.GET("/small", func(c *graft.Ctx) error { return c.Text(200, "hello") })
		if err := app.Start(tb.Context()); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { app.Stop(tb.Context()) })
		return app
	}
	return mk(false), mk(true)
}

func serveOnce(app http.Handler, w *graftest.Discard, req *http.Request) {
	w.Reset()
	app.ServeHTTP(w, req)
}

func request(path, ae string) *http.Request {
	req := httptest.NewRequest("GET", path, nil)
	if ae != "" {
		req.Header.Set("Accept-Encoding", ae)
	}
	return req
}

// TestPooledCompressorAllocs pins the promise of pooled writers: once the
// pools are warm, a compressed answer allocates no compressor state; what
// it allocates no more than the bare app's answer (the shared Vary and
// Content-Encoding values cost nothing either).
func TestPooledCompressorAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	bare, withExt := benchApps(t)
	w := graftest.NewDiscard()
	for _, tc := range []struct{ path, ae string }{{"/big", "gzip"}, {"/big", "zstd"}, {"/big", ""}, {"/small", "gzip"}} {
		bareReq := request(tc.path, tc.ae)
		base := testing.AllocsPerRun(200, func() { serveOnce(bare, w, bareReq) })
		req := request(tc.path, tc.ae)
		serveOnce(withExt, w, req) // warm the pools
		got := testing.AllocsPerRun(200, func() { serveOnce(withExt, w, req) })
		if got > base {
			t.Errorf("%s Accept-Encoding %q: %.0f allocs, bare app %.0f: compressor or writer state is allocated per request", tc.path, tc.ae, got, base)
		}
	}
}

func BenchmarkCompress(b *testing.B) {
	bare, withExt := benchApps(b)
	for _, tc := range []struct {
		name string
		app  http.Handler
		path string
		ae   string
	}{
		{"bare/7200B", bare, "/big", "gzip"},
		{"identity/7200B", withExt, "/big", ""},
		{"gzip/7200B", withExt, "/big", "gzip"},
		{"zstd/7200B", withExt, "/big", "zstd"},
		{"bare/5B", bare, "/small", "gzip"},
		{"under-min/5B", withExt, "/small", "gzip"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := graftest.NewDiscard()
			req := request(tc.path, tc.ae)
			b.ReportAllocs()
			for b.Loop() {
				serveOnce(tc.app, w, req)
			}
		})
	}
}
