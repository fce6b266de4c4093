package graft_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/cookies"
)

// The tests in this file write extensions as a third party would, with
// graft's public API only: a response-header hook, an access log, a
// metrics collector, a limiter that answers by itself and a gzip writer.

type hookCtx struct {
	graft.Ctx
	cookies.Jar
}

// hookExt stamps every response with the status its hook saw; a response
// whose hook ran twice carries two values.
type hookExt struct{}

func (hookExt) ID() string { return "test.hooks" }

func (hookExt) Extend(b *graft.Builder) error {
	b.OnWriteHeader(func(c *graft.Ctx, status int) {
		c.Response().Header().Add("X-Hook", strconv.Itoa(status))
	})
	return nil
}

type idIn struct {
	ID int `path:"id" min:"1"`
}

type textOut struct {
	Body string
}

func typedText(_ context.Context, in *idIn) (*textOut, error) {
	return &textOut{Body: "item " + strconv.Itoa(in.ID)}, nil
}

// respExt is an extension made of an ID and an Extend function.
type respExt struct {
	id     string
	extend func(b *graft.Builder) error
}

func (e respExt) ID() string                    { return e.id }
func (e respExt) Extend(b *graft.Builder) error { return e.extend(b) }

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// exchange sends one request and returns the answer with its body read.
func exchange(t *testing.T, client *http.Client, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return res, b
}

func TestHeaderHooksRunOncePerResponse(t *testing.T) {
	app := graft.NewWithContext[hookCtx](graft.Config{Logger: quietLogger()})
	app.Register(hookExt{}, cookies.Extension(cookies.Options{Path: "/"}))
	app.GET("/silent", func(c *hookCtx) error {
		c.PutCookie("a", "1") // and write nothing: the regression of issue 10
		return nil
	})
	app.GET("/text", func(c *hookCtx) error { return c.Text(http.StatusOK, "hi") })
	app.GET("/teapot", func(c *hookCtx) error { return graft.NewError(http.StatusTeapot, "short and stout") })
	app.GET("/panic", func(c *hookCtx) error { panic("boom") })
	app.GET("/status", func(c *hookCtx) error {
		c.PutCookie("b", "2")
		c.Status(http.StatusNotModified)
		return nil
	})
	graft.Get(app, "/typed/{id}", typedText)
	std := app.Group("/std")
	std.UseHTTP(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Std", "1")
			next.ServeHTTP(w, r)
		})
	})
	std.GET("/silent", func(c *hookCtx) error {
		c.PutCookie("c", "3")
		return nil
	})
	srv := httptest.NewServer(app)
	defer srv.Close()

	cases := []struct {
		method, path string
		status       int
		cookie       string
	}{
		{"GET", "/silent", 200, "a=1"},
		{"HEAD", "/silent", 200, "a=1"},
		{"GET", "/text", 200, ""},
		{"HEAD", "/text", 200, ""},
		{"GET", "/teapot", 418, ""},
		{"GET", "/panic", 500, ""},
		{"GET", "/status", 304, "b=2"},
		{"GET", "/nope", 404, ""},
		{"POST", "/text", 405, ""},
		{"GET", "/typed/7", 200, ""},
		{"HEAD", "/typed/7", 200, ""},
		{"GET", "/typed/0", 422, ""},
		{"GET", "/std/silent", 200, "c=3"},
		{"GET", "/std/../text", 301, ""}, // the clean-path redirect, before any middleware
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range cases {
		res, _ := exchange(t, noFollow, tc.method, srv.URL+tc.path)
		want := []string{strconv.Itoa(tc.status)}
		if res.StatusCode != tc.status || !slices.Equal(res.Header.Values("X-Hook"), want) {
			t.Errorf("%s %s: %d, hooks saw %q; want %d once", tc.method, tc.path, res.StatusCode, res.Header.Values("X-Hook"), tc.status)
		}
		if tc.cookie != "" && !strings.HasPrefix(res.Header.Get("Set-Cookie"), tc.cookie) {
			t.Errorf("%s %s: Set-Cookie %q, want %s", tc.method, tc.path, res.Header.Get("Set-Cookie"), tc.cookie)
		}
	}
}

func TestHeaderHooksRunWhenTheErrorHandlerWritesNothing(t *testing.T) {
	silent := func(*graft.Ctx, error) {}
	app := graft.New(graft.Config{Logger: quietLogger(), ErrorHandler: silent})
	app.Register(hookExt{})
	app.GET("/panic", func(c *graft.Ctx) error { panic("boom") })
	app.GET("/err", func(c *graft.Ctx) error { return errors.New("ignored") })
	srv := httptest.NewServer(app)
	defer srv.Close()
	// A panic still answers 500; an error the handler chose to ignore
	// answers what net/http would, 200; the hooks run once either way.
	for path, status := range map[string]int{"/panic": 500, "/err": 200} {
		res, _ := exchange(t, srv.Client(), "GET", srv.URL+path)
		if res.StatusCode != status || !slices.Equal(res.Header.Values("X-Hook"), []string{strconv.Itoa(status)}) {
			t.Errorf("%s: %d, hooks saw %q; want %d once", path, res.StatusCode, res.Header.Values("X-Hook"), status)
		}
	}
}

// logEntry is one line of the access log.
type logEntry struct {
	Request string
	Status  int
	Bytes   int64
}

// accessLog is a third-party access-log extension: middleware that reads the
// status and size after next.
type accessLog struct{ lines chan logEntry }

func (l *accessLog) ID() string { return "test.accesslog" }

func (l *accessLog) Extend(b *graft.Builder) error {
	b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			err := next(c)
			l.lines <- logEntry{c.Request.Method + " " + c.Request.URL.Path, c.StatusCode(), c.BytesWritten()}
			return err
		}
	})
	return nil
}

// next waits for the log line of one request.
func (l *accessLog) next(t *testing.T, what string) logEntry {
	t.Helper()
	select {
	case e := <-l.lines:
		return e
	case <-time.After(10 * time.Second):
		t.Fatalf("no access-log line for %s within 10s", what)
		return logEntry{}
	}
}

// metrics is a third-party metrics extension: counts per route pattern and
// status, and the bytes sent.
type metrics struct {
	mu     sync.Mutex
	counts map[string]int
	bytes  int64
}

func (m *metrics) ID() string { return "test.metrics" }

func (m *metrics) Extend(b *graft.Builder) error {
	b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			err := next(c)
			m.mu.Lock()
			m.counts[c.RoutePattern()+" "+strconv.Itoa(c.StatusCode())]++
			m.bytes += c.BytesWritten()
			m.mu.Unlock()
			return err
		}
	})
	return nil
}

// limiter answers 429 by returning an error, without calling next.
type limiter struct{}

func (limiter) ID() string { return "test.limiter" }

func (limiter) Extend(b *graft.Builder) error {
	b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			if c.Header("X-Deny") != "" {
				return graft.NewError(http.StatusTooManyRequests, "slow down")
			}
			return next(c)
		}
	})
	return nil
}

func TestExtensionMiddlewareSeesFinalStatusAndBytes(t *testing.T) {
	log := &accessLog{lines: make(chan logEntry, 1)}
	m := &metrics{counts: map[string]int{}}
	app := graft.New(graft.Config{Logger: quietLogger()})
	app.Register(log, m, limiter{})
	// The app's own middleware, inside the extensions', still gets the
	// handler's error.
	var seenErrs atomic.Int32
	app.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			err := next(c)
			if err != nil {
				seenErrs.Add(1)
			}
			return err
		}
	})
	app.GET("/ok", func(c *graft.Ctx) error { return c.Text(http.StatusOK, "hello") })
	app.GET("/silent", func(c *graft.Ctx) error { return nil })
	app.GET("/teapot", func(c *graft.Ctx) error { return graft.NewError(http.StatusTeapot, "short and stout") })
	app.GET("/panic", func(c *graft.Ctx) error { panic("boom") })
	graft.Get(app, "/typed/{id}", typedText)
	srv := httptest.NewServer(app)
	defer srv.Close()

	cases := []struct {
		method, path, route string
		status              int
		hdr                 []string
	}{
		{"GET", "/ok", "/ok", 200, nil},
		{"GET", "/silent", "/silent", 200, nil},
		{"GET", "/nope", "", 404, nil},
		{"POST", "/ok", "", 405, nil},
		{"GET", "/teapot", "/teapot", 418, nil},
		{"GET", "/panic", "/panic", 500, nil},
		{"GET", "/typed/0", "/typed/{id}", 422, nil},
		{"GET", "/typed/3", "/typed/{id}", 200, nil},
		{"GET", "/ok", "/ok", 429, []string{"X-Deny", "1"}},
	}
	var total int64
	want := map[string]int{}
	for _, tc := range cases {
		res, body := exchange(t, srv.Client(), tc.method, srv.URL+tc.path, tc.hdr...)
		e := log.next(t, tc.method+" "+tc.path)
		if res.StatusCode != tc.status || e.Status != tc.status || e.Bytes != int64(len(body)) || e.Request != tc.method+" "+tc.path {
			t.Errorf("%s %s: answered %d with %d bytes; the access log saw %+v", tc.method, tc.path, res.StatusCode, len(body), e)
		}
		total += int64(len(body))
		want[tc.route+" "+strconv.Itoa(tc.status)]++
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !mapsEqual(m.counts, want) || m.bytes != total {
		t.Errorf("metrics saw %v and %d bytes; want %v and %d", m.counts, m.bytes, want, total)
	}
	if n := seenErrs.Load(); n != 4 {
		t.Errorf("the app's middleware saw %d errors, want 4 (404, 405, 418, 422; a panic is no error return)", n)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// gzipExt is a third-party compressing body extension built on
// WrapResponse: its writer ends the gzip stream in Close, the finish step.
type gzipExt struct{ closes atomic.Int32 }

func (g *gzipExt) ID() string { return "test.gzip" }

func (g *gzipExt) Extend(b *graft.Builder) error {
	b.WrapResponse(func(c *graft.Ctx, inner http.ResponseWriter) http.ResponseWriter {
		if !strings.Contains(c.Header("Accept-Encoding"), "gzip") {
			return inner
		}
		return &gzipWriter{ResponseWriter: inner, zw: gzip.NewWriter(inner), ext: g}
	})
	return nil
}

type gzipWriter struct {
	http.ResponseWriter
	zw  *gzip.Writer
	ext *gzipExt
}

func (w *gzipWriter) WriteHeader(code int) {
	h := w.Header()
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
	h.Del("Content-Length")
	w.ResponseWriter.WriteHeader(code)
}

func (w *gzipWriter) Write(b []byte) (int, error) { return w.zw.Write(b) }

func (w *gzipWriter) Close() error {
	w.ext.closes.Add(1)
	return w.zw.Close()
}

func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func TestWrapResponseFinishesEveryAnswer(t *testing.T) {
	log := &accessLog{lines: make(chan logEntry, 1)}
	gz := &gzipExt{}
	app := graft.New(graft.Config{Logger: quietLogger()})
	app.Register(log, hookExt{}, gz)
	big := strings.Repeat("graft ", 1000) // over net/http's buffer: Content-Length is set
	app.GET("/ok", func(c *graft.Ctx) error { return c.Text(http.StatusOK, "hello") })
	app.GET("/big", func(c *graft.Ctx) error { return c.Text(http.StatusOK, big) })
	app.GET("/silent", func(c *graft.Ctx) error { return nil })
	app.GET("/teapot", func(c *graft.Ctx) error { return graft.NewError(http.StatusTeapot, "short and stout") })
	app.GET("/panic", func(c *graft.Ctx) error { panic("boom") })
	graft.Get(app, "/typed/{id}", typedText)
	srv := httptest.NewServer(app)
	defer srv.Close()
	// A client that decodes nothing itself, to see the bytes as sent.
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer raw.CloseIdleConnections()

	cases := []struct {
		method, path string
		status       int
		body         string // "" for a problem+json answer with the status
	}{
		{"GET", "/ok", 200, "hello"},
		{"GET", "/big", 200, big},
		{"GET", "/silent", 200, "-"},
		{"GET", "/teapot", 418, ""},
		{"GET", "/panic", 500, ""},
		{"GET", "/nope", 404, ""},
		{"POST", "/ok", 405, ""},
		{"GET", "/typed/0", 422, ""},
		{"GET", "/typed/9", 200, "item 9"},
	}
	for _, tc := range cases {
		before := gz.closes.Load()
		res, body := exchange(t, raw, tc.method, srv.URL+tc.path, "Accept-Encoding", "gzip")
		e := log.next(t, tc.path)
		if res.StatusCode != tc.status || res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s %s: %d %v; want %d gzipped", tc.method, tc.path, res.StatusCode, res.Header, tc.status)
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Errorf("%s %s: not a gzip stream: %v", tc.method, tc.path, err)
			continue
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Errorf("%s %s: the gzip stream does not end: %v", tc.method, tc.path, err)
			continue
		}
		switch tc.body {
		case "":
			var p graft.Problem
			if err := json.Unmarshal(plain, &p); err != nil || p.Status != tc.status {
				t.Errorf("%s %s: problem %q (%v)", tc.method, tc.path, plain, err)
			}
		case "-":
			if len(plain) != 0 {
				t.Errorf("%s %s: body %q, want none", tc.method, tc.path, plain)
			}
		default:
			if string(plain) != tc.body {
				t.Errorf("%s %s: body %.40q, want %.40q", tc.method, tc.path, plain, tc.body)
			}
		}
		// The access log outside the writer sees the final status and
		// the bytes the handler wrote, before compression.
		if e.Status != tc.status || e.Bytes != int64(len(plain)) {
			t.Errorf("%s %s: the access log saw %+v, want %d and %d bytes", tc.method, tc.path, e, tc.status, len(plain))
		}
		if n := gz.closes.Load() - before; n != 1 {
			t.Errorf("%s %s: the writer was closed %d times, want once", tc.method, tc.path, n)
		}
		if hooks := res.Header.Values("X-Hook"); len(hooks) != 1 {
			t.Errorf("%s %s: hooks ran %d times", tc.method, tc.path, len(hooks))
		}
	}
	// A client that does not ask for gzip gets the plain answer.
	res, body := exchange(t, raw, "GET", srv.URL+"/teapot")
	log.next(t, "/teapot plain")
	var p graft.Problem
	if res.Header.Get("Content-Encoding") != "" || json.Unmarshal(body, &p) != nil || p.Status != 418 {
		t.Errorf("plain client: %v %q", res.Header, body)
	}
}

func TestExtensionMiddlewareAddsNoAllocations(t *testing.T) {
	var n atomic.Int64
	app := graft.New(graft.Config{})
	app.Register(respExt{"t.count", func(b *graft.Builder) error {
		b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
			return func(c *graft.Ctx) error {
				err := next(c)
				n.Add(int64(c.StatusCode()))
				return err
			}
		})
		return nil
	}})
	app.GET("/x/{id}", func(c *graft.Ctx) error { return nil })
	req, _ := http.NewRequest("GET", "/x/1", nil)
	w := newDiscard()
	app.ServeHTTP(w, req)
	if allocs := testing.AllocsPerRun(200, func() { app.ServeHTTP(w, req) }); allocs != 0 {
		t.Errorf("%v allocations per request through extension middleware, want 0", allocs)
	}
	if n.Load() != 202*200 { // the first request, AllocsPerRun's warm-up run and 200 runs
		t.Errorf("the middleware saw statuses summing to %d, want 200 per request", n.Load())
	}
}

func TestResponseExtensionSetupMistakes(t *testing.T) {
	app := graft.New(graft.Config{})
	app.Register(respExt{"t.nil-use", func(b *graft.Builder) error {
		b.Use(nil)
		return nil
	}}, respExt{"t.nil-wrap", func(b *graft.Builder) error {
		b.WrapResponse(nil)
		return nil
	}})
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "extension t.nil-use: Use: middleware #1 is nil") || !strings.Contains(err.Error(), "extension t.nil-wrap: WrapResponse: the wrap function is nil") {
		t.Errorf("err = %v", err)
	}
}

// notModifiedExt is a body writer that holds every answer back and sends
// 304 instead, reporting it through graft.ResponseFinisher.
type notModifiedExt struct{}

func (notModifiedExt) ID() string { return "test.notmodified" }

func (notModifiedExt) Extend(b *graft.Builder) error {
	b.WrapResponse(func(c *graft.Ctx, inner http.ResponseWriter) http.ResponseWriter {
		return &notModifiedWriter{ResponseWriter: inner}
	})
	return nil
}

type notModifiedWriter struct{ http.ResponseWriter }

func (w *notModifiedWriter) WriteHeader(int)             {}
func (w *notModifiedWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *notModifiedWriter) Finish() int {
	w.ResponseWriter.WriteHeader(http.StatusNotModified)
	return http.StatusNotModified
}

// statusLog records c.StatusCode() after the answer, as an access log does.
type statusLog struct{ got atomic.Int64 }

func (*statusLog) ID() string { return "test.statuslog" }

func (l *statusLog) Extend(b *graft.Builder) error {
	b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			err := next(c)
			l.got.Store(int64(c.StatusCode()))
			return err
		}
	})
	return nil
}

// TestFinisherStatusReachesStatusCode: a body writer that sends 304 for a
// handler's 200 used to leave c.StatusCode() at 200, so access logs and
// metrics recorded a status that never went out.
func TestFinisherStatusReachesStatusCode(t *testing.T) {
	log := &statusLog{}
	app := graft.New(graft.Config{})
	app.Register(log, notModifiedExt{})
	app.GET("/", func(c *graft.Ctx) error { return c.Text(200, "body") })
	srv := httptest.NewServer(app)
	defer func() { srv.Close(); app.Stop(context.Background()) }()
	res, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 304 || log.got.Load() != 304 {
		t.Fatalf("sent %d, c.StatusCode() after the answer %d; want 304 both", res.StatusCode, log.got.Load())
	}
}
