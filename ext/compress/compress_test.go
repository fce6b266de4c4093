package compress_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/compress"
	"github.com/graftgo/graft/ext/static"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var big = strings.Repeat("graft compresses this line of text. ", 200) // 7200 bytes

func newApp(t *testing.T, opts compress.Options, routes func(app *graft.App[graft.Ctx])) *httptest.Server {
	t.Helper()
	app := graft.New(graft.Config{})
	app.Register(compress.Extension(opts))
	routes(app)
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })
	return srv
}

var client = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}

func do(t *testing.T, method, url, ae string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ae != "" {
		req.Header.Set("Accept-Encoding", ae)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func decode(t *testing.T, enc string, b []byte) string {
	t.Helper()
	var r io.Reader
	switch enc {
	case "":
		return string(b)
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s stream: %v", enc, err)
	}
	return string(out)
}

func TestChoosesByAcceptEncoding(t *testing.T) {
	srv := newApp(t, compress.Options{}, func(app *graft.App[graft.Ctx]) {
		app.GET("/big", func(c *graft.Ctx) error {
			c.Response().Header().Set("Etag", `"v1"`)
			return c.Text(200, big)
		})
	})
	cases := []struct{ ae, want string }{
		{"", ""},
		{"gzip", "gzip"},
		{"x-gzip", "gzip"},
		{"zstd", "zstd"},
		{"gzip, zstd", "zstd"},
		{"zstd;q=0.4, gzip;q=0.9", "gzip"},
		{"*", "zstd"},
		{"*;q=0.5, zstd;q=0", "gzip"},
		{"identity;q=0", ""},
		{"identity;q=0, *", "zstd"},
		{"br, deflate", ""},
		{"gzip;q=0, zstd;q=0", ""},
	}
	for _, tc := range cases {
		res, b := do(t, "GET", srv.URL+"/big", tc.ae)
		enc := res.Header.Get("Content-Encoding")
		if enc != tc.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.ae, enc, tc.want)
			continue
		}
		if got := decode(t, enc, b); got != big {
			t.Errorf("Accept-Encoding %q: body of %d bytes differs", tc.ae, len(got))
		}
		if res.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q", tc.ae, res.Header.Get("Vary"))
		}
		wantTag := `"v1"`
		if enc != "" {
			wantTag = `W/"v1"`
			if (res.ContentLength != -1 && res.ContentLength != int64(len(b))) || len(b) >= len(big)/4 {
				t.Errorf("Accept-Encoding %q: Content-Length %d, %d bytes sent for %d", tc.ae, res.ContentLength, len(b), len(big))
			}
		}
		if res.Header.Get("Etag") != wantTag {
			t.Errorf("Accept-Encoding %q: ETag %q, want %q", tc.ae, res.Header.Get("Etag"), wantTag)
		}
	}
}

func TestMinSize(t *testing.T) {
	srv := newApp(t, compress.Options{MinSize: 100}, func(app *graft.App[graft.Ctx]) {
		app.GET("/n/{n}", func(c *graft.Ctx) error {
			var n int
			fmt.Sscan(c.Param("n"), &n)
			// Written in pieces of 7, so the decision falls mid-write.
			body := strings.Repeat("x", n)
			c.Response().Header().Set("Content-Type", "text/plain")
			for len(body) > 0 {
				k := min(7, len(body))
				if _, err := c.Response().Write([]byte(body[:k])); err != nil {
					return err
				}
				body = body[k:]
			}
			return nil
		})
		app.GET("/length", func(c *graft.Ctx) error {
			c.Response().Header().Set("Content-Length", "150")
			c.Response().WriteHeader(200)
			_, err := c.Response().Write([]byte(strings.Repeat("y", 150)))
			return err
		})
		app.GET("/short-length", func(c *graft.Ctx) error {
			c.Response().Header().Set("Content-Length", "50")
			_, err := c.Response().Write([]byte(strings.Repeat("y", 50)))
			return err
		})
		app.GET("/png-with-length", func(c *graft.Ctx) error {
			png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 1992)...)
			c.Response().Header().Set("Content-Length", "2000")
			c.Response().WriteHeader(200)
			_, err := c.Response().Write(png)
			return err
		})
		app.GET("/sniff", func(c *graft.Ctx) error {
			_, err := c.Response().Write([]byte("<!DOCTYPE html><html>" + strings.Repeat("<p>hi</p>", 30)))
			return err
		})
	})
	for _, tc := range []struct {
		path, enc string
		n         int
	}{{"/n/0", "", 0}, {"/n/99", "", 99}, {"/n/100", "gzip", 100}, {"/n/5000", "gzip", 5000}, {"/length", "gzip", 150}, {"/short-length", "", 50}} {
		res, b := do(t, "GET", srv.URL+tc.path, "gzip")
		if enc := res.Header.Get("Content-Encoding"); enc != tc.enc {
			t.Errorf("%s: Content-Encoding %q, want %q", tc.path, enc, tc.enc)
			continue
		}
		if got := decode(t, tc.enc, b); len(got) != tc.n {
			t.Errorf("%s: %d bytes after decoding, want %d", tc.path, len(got), tc.n)
		}
		if res.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s: Vary %q", tc.path, res.Header.Get("Vary"))
		}
		if tc.enc == "" && tc.path == "/short-length" && res.ContentLength != 50 {
			t.Errorf("%s: Content-Length %d, want 50 kept", tc.path, res.ContentLength)
		}
	}
	// A Content-Length without a Content-Type used to decide at once,
	// sniffing no bytes ("text/plain"), and compressed a PNG.
	res, b := do(t, "GET", srv.URL+"/png-with-length", "gzip")
	if res.Header.Get("Content-Encoding") != "" || res.Header.Get("Content-Type") != "image/png" || len(b) != 2000 || res.ContentLength != 2000 {
		t.Errorf("PNG with a length: Content-Encoding %q Content-Type %q, %d bytes, Content-Length %d", res.Header.Get("Content-Encoding"), res.Header.Get("Content-Type"), len(b), res.ContentLength)
	}
	res, b = do(t, "GET", srv.URL+"/sniff", "zstd")
	if res.Header.Get("Content-Encoding") != "zstd" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("sniffed: %q %q (the type must come from the plain bytes)", res.Header.Get("Content-Encoding"), res.Header.Get("Content-Type"))
	}
	if got := decode(t, "zstd", b); !strings.HasPrefix(got, "<!DOCTYPE html>") {
		t.Errorf("sniffed body %q", got[:20])
	}
}

func TestSkips(t *testing.T) {
	files := fstest.MapFS{"a.txt": {Data: []byte(big), ModTime: time.Unix(1700000000, 0)}}
	srv := newApp(t, compress.Options{MinSize: -1}, func(app *graft.App[graft.Ctx]) {
		app.GET("/type/{a}/{b}", func(c *graft.Ctx) error {
			c.Response().Header().Set("Content-Type", c.Param("a")+"/"+c.Param("b"))
			_, err := io.WriteString(c.Response(), big)
			return err
		})
		app.GET("/encoded", func(c *graft.Ctx) error {
			c.Response().Header().Set("Content-Encoding", "br")
			return c.Text(200, big)
		})
		app.GET("/no-transform", func(c *graft.Ctx) error {
			c.Response().Header().Set("Cache-Control", "no-transform")
			return c.Text(200, big)
		})
		app.GET("/204", func(c *graft.Ctx) error { return c.NoContent() })
		app.GET("/304", func(c *graft.Ctx) error { c.Response().WriteHeader(304); return nil })
		app.GET("/files/{path...}", static.Handler(files, static.Options{}))
	})
	for _, tc := range []struct {
		path string
		on   bool
	}{
		{"/type/image/png", false}, {"/type/image/svg+xml", true}, {"/type/video/mp4", false},
		{"/type/audio/ogg", false}, {"/type/application/zip", false}, {"/type/application/gzip", false},
		{"/type/font/woff2", false}, {"/type/application/json", true}, {"/type/text/css", true},
		{"/encoded", false}, {"/no-transform", false}, {"/204", false}, {"/304", false},
	} {
		res, b := do(t, "GET", srv.URL+tc.path, "gzip")
		if on := res.Header.Get("Content-Encoding") == "gzip"; on != tc.on {
			t.Errorf("%s: compressed %v, want %v", tc.path, on, tc.on)
		}
		if !tc.on && tc.path != "/204" && tc.path != "/304" && string(b) != big {
			t.Errorf("%s: body changed", tc.path)
		}
	}
	// Range answers from ext/static pass through as they are.
	res, b := do(t, "GET", srv.URL+"/files/a.txt", "gzip", "Range", "bytes=0-9")
	if res.StatusCode != 206 || res.Header.Get("Content-Encoding") != "" || string(b) != big[:10] {
		t.Errorf("range: %d %q %q", res.StatusCode, res.Header.Get("Content-Encoding"), b)
	}
	res, b = do(t, "GET", srv.URL+"/files/a.txt", "gzip")
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || decode(t, "gzip", b) != big {
		t.Errorf("whole file: %d %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	// HEAD: no compression, no body, the GET's length.
	res, b = do(t, "HEAD", srv.URL+"/type/text/css", "gzip")
	if res.Header.Get("Content-Encoding") != "" || len(b) != 0 || res.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("HEAD: %q %d bytes Vary %q", res.Header.Get("Content-Encoding"), len(b), res.Header.Get("Vary"))
	}
}

func TestErrorsCompressedAndComplete(t *testing.T) {
	srv := newApp(t, compress.Options{MinSize: 10}, func(app *graft.App[graft.Ctx]) {
		app.GET("/fail", func(c *graft.Ctx) error { return graft.NewError(418, strings.Repeat("teapot ", 50)) })
		app.GET("/panic", func(c *graft.Ctx) error { panic("boom") })
	})
	for _, tc := range []struct {
		path   string
		status int
	}{{"/missing", 404}, {"/fail", 418}, {"/panic", 500}} {
		for _, enc := range []string{"gzip", "zstd"} {
			res, b := do(t, "GET", srv.URL+tc.path, enc)
			if res.StatusCode != tc.status || res.Header.Get("Content-Encoding") != enc {
				t.Errorf("%s %s: %d Content-Encoding %q", tc.path, enc, res.StatusCode, res.Header.Get("Content-Encoding"))
				continue
			}
			var p struct {
				Status int    `json:"status"`
				Title  string `json:"title"`
			}
			if err := json.Unmarshal([]byte(decode(t, enc, b)), &p); err != nil || p.Status != tc.status {
				t.Errorf("%s %s: problem %+v %v", tc.path, enc, p, err)
			}
			if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s %s: Content-Type %q", tc.path, enc, res.Header.Get("Content-Type"))
			}
		}
	}
}

// TestSSEFlushesThrough: each event reaches a real streaming client while
// the stream is still open, through the compressor.
func TestSSEFlushesThrough(t *testing.T) {
	release := make(chan struct{})
	srv := newApp(t, compress.Options{}, func(app *graft.App[graft.Ctx]) {
		graft.SSE(app, "/events", func(ctx context.Context, _ *struct{}, s *graft.Stream[string]) error {
			if err := s.Send("one"); err != nil {
				return err
			}
			select {
			case <-release:
			case <-ctx.Done():
				return nil
			case <-time.After(10 * time.Second):
			}
			return s.Send("two")
		})
	})
	for _, enc := range []string{"gzip", "zstd"} {
		req, _ := http.NewRequest("GET", srv.URL+"/events", nil)
		req.Header.Set("Accept-Encoding", enc)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Header.Get("Content-Encoding") != enc || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("%s: Content-Encoding %q Content-Type %q", enc, res.Header.Get("Content-Encoding"), res.Header.Get("Content-Type"))
		}
		var r io.Reader
		if enc == "gzip" {
			zr, err := gzip.NewReader(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		} else {
			zr, err := zstd.NewReader(res.Body, zstd.WithDecoderConcurrency(1))
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			r = zr
		}
		lines := make(chan string, 10)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		wait := func(want string) {
			t.Helper()
			deadline := time.After(10 * time.Second)
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("%s: stream ended before %q", enc, want)
					}
					if l == want {
						return
					}
				case <-deadline:
					t.Fatalf("%s: waited 10s for the event %q before the stream ended", enc, want)
				}
			}
		}
		wait("data: one") // the handler is blocked: this arrived by Flush
		release <- struct{}{}
		wait("data: two")
		for range lines {
		}
		res.Body.Close()
	}
}

// TestPooledWritersDoNotLeak: answers of different codings and sizes
// alternate over the pooled writers, concurrently; each is whole and
// carries only its own headers.
func TestPooledWritersDoNotLeak(t *testing.T) {
	srv := newApp(t, compress.Options{MinSize: 64}, func(app *graft.App[graft.Ctx]) {
		app.GET("/{n}", func(c *graft.Ctx) error {
			var n int
			fmt.Sscan(c.Param("n"), &n)
			if n%3 == 0 {
				c.Response().Header().Set("Etag", fmt.Sprintf(`"%d"`, n))
			}
			return c.Text(200, strings.Repeat(c.Param("n")+";", n))
		})
	})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				n := (g*40 + i) % 50
				enc := []string{"gzip", "zstd", ""}[i%3]
				res, b := do(t, "GET", fmt.Sprintf("%s/%d", srv.URL, n), enc)
				want := strings.Repeat(fmt.Sprint(n)+";", n)
				got := decode(t, res.Header.Get("Content-Encoding"), b)
				if got != want {
					t.Errorf("/%d %s: body %q", n, enc, got)
					return
				}
				if on := res.Header.Get("Content-Encoding") != ""; on != (enc != "" && len(want) >= 64) {
					t.Errorf("/%d %s: Content-Encoding %q for %d bytes", n, enc, res.Header.Get("Content-Encoding"), len(want))
				}
				if et := res.Header.Get("Etag"); (n%3 == 0) != (et != "") {
					t.Errorf("/%d: ETag %q", n, et)
				}
			}
		}()
	}
	wg.Wait()
}

func TestSetupMistakes(t *testing.T) {
	for _, tc := range []struct {
		opts compress.Options
		want string
	}{
		{compress.Options{Encodings: []string{"br"}}, `unknown coding "br"`},
		{compress.Options{Encodings: []string{}}, "Encodings is empty"},
		{compress.Options{GzipLevel: 12}, "GzipLevel 12 is out of range"},
		{compress.Options{ZstdLevel: 9}, "ZstdLevel 9 is out of range"},
	} {
		app := graft.New(graft.Config{})
		app.Register(compress.Extension(tc.opts))
		err := app.Start(context.Background())
		if err == nil {
			app.Stop(context.Background())
			t.Errorf("%+v: started", tc.opts)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), compress.ID) {
			t.Errorf("%+v: %v", tc.opts, err)
		}
	}
}
