package cache_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/compress"
	"github.com/graftgo/graft/ext/etag"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/cache"
)

// The cache stores the answer as the endpoint wrote it, above the
// extensions' writers: a hit is compressed for a client that accepts gzip
// and not for one that does not, and gets its entity tag, so a
// conditional request is answered 304.
func TestUnderCompressionAndETag(t *testing.T) {
	app := newApp()
	app.Register(compress.Extension(compress.Options{}), etag.Extension(etag.Options{}))
	app.UsePlugins(cache.New(cache.Config{}))
	body := strings.Repeat("compressible text ", 200)
	runs := handle(app, "/doc", func(c *graft.Ctx, _ int64) error { return c.Text(200, body) })
	srv := graftest.Start(t, app)
	srv.Client.Transport.(*http.Transport).DisableCompression = true

	gz := srv.Get("/doc", "Accept-Encoding", "gzip")
	wantCache(t, &graftest.Response{Response: gz.Response, Body: gunzip(t, gz.Body)}, "MISS", body)
	hit := srv.Get("/doc", "Accept-Encoding", "gzip")
	if hit.Header.Get("Content-Encoding") != "gzip" || hit.Header.Get("X-Cache") != "HIT" || string(gunzip(t, hit.Body)) != body {
		t.Fatalf("gzip hit: encoding %q, X-Cache %q", hit.Header.Get("Content-Encoding"), hit.Header.Get("X-Cache"))
	}
	plain := srv.Get("/doc")
	wantCache(t, plain, "HIT", body)
	if plain.Header.Get("Content-Encoding") != "" {
		t.Errorf("identity hit has Content-Encoding %q", plain.Header.Get("Content-Encoding"))
	}
	tag := plain.Header.Get("Etag")
	if tag == "" {
		t.Fatal("no ETag on the hit")
	}
	if r := srv.Get("/doc", "If-None-Match", tag); r.StatusCode != 304 || r.Header.Get("X-Cache") != "HIT" {
		t.Errorf("conditional hit: %d, X-Cache %q", r.StatusCode, r.Header.Get("X-Cache"))
	}
	if runs.Load() != 1 {
		t.Errorf("runs %d", runs.Load())
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
