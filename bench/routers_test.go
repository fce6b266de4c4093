package bench

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/graftgo/graft"
	"github.com/julienschmidt/httprouter"
	"github.com/labstack/echo/v4"
)

// discardWriter is the ResponseWriter of every benchmark: it keeps one
// header map across requests and throws the body away, so what is measured
// is the framework, not a recorder.
type discardWriter struct {
	header http.Header
	status int
	n      int // body bytes, for tests
}

func newDiscardWriter() *discardWriter { return &discardWriter{header: make(http.Header)} }

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}

// WriteString is there because net/http's own writer has it: frameworks
// that check for io.StringWriter take the same path as in production.
func (w *discardWriter) WriteString(s string) (int, error) {
	w.n += len(s)
	return len(s), nil
}

func (w *discardWriter) WriteHeader(code int) { w.status = code }

// probe is where a GitHub handler reports which route it is and the
// parameters it read: benchmarks make every router do the parameter work,
// tests check what was recorded. Recording strings into a fixed array does
// not allocate.
type probe struct {
	route  int
	params [8]string
	n      int
	num    int // the route's "number" parameter, parsed (GitHubParam3's work)
}

func (p *probe) hit(route int) {
	p.route = route
	p.n = 0
}

func (p *probe) add(v string) {
	if p.n < len(p.params) {
		p.params[p.n] = v
	}
	p.n++
}

// param records the j-th parameter value v of a route whose "number"
// parameter (if any) is at index numAt, and parses that one as an integer:
// the classic benchmark's work for a route such as GitHubParam3, done the
// same way in every router's handler.
func (p *probe) param(j, numAt int, v string) {
	p.add(v)
	if j == numAt {
		p.num, _ = strconv.Atoi(v)
	}
}

// router is one router under test, loaded with a route set.
type router struct {
	name string
	load func(tb testing.TB, routes []Route, p *probe) http.Handler
}

var routers = []router{
	{"graft", loadGraft},
	{"servemux", loadServeMux},
	{"gin", loadGin},
	{"gin-recovery", loadGinRecovery},
	{"httprouter", loadHTTPRouter},
	{"echo", loadEcho},
	{"chi", loadChi},
}

// quietLogger keeps graft's request-time logs (none expected) out of the
// benchmark output.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func startGraft(tb testing.TB, app *graft.App[graft.Ctx]) http.Handler {
	tb.Helper()
	if err := app.Start(context.Background()); err != nil {
		tb.Fatalf("graft start: %v", err)
	}
	tb.Cleanup(func() { _ = app.Stop(context.Background()) })
	return app
}

func loadGraft(tb testing.TB, routes []Route, p *probe) http.Handler {
	app := graft.New(graft.Config{Logger: quietLogger})
	for i, r := range routes {
		names, numAt := r.ParamNames(), r.NumberParam()
		app.Handle(r.Method, r.GraftPath(), func(c *graft.Ctx) error {
			p.hit(i)
			for j, n := range names {
				p.param(j, numAt, c.Param(n))
			}
			return nil
		})
	}
	return startGraft(tb, app)
}

func loadServeMux(_ testing.TB, routes []Route, p *probe) http.Handler {
	mux := http.NewServeMux()
	for i, r := range routes {
		names, numAt := r.ParamNames(), r.NumberParam()
		mux.HandleFunc(r.ServeMuxPattern(), func(_ http.ResponseWriter, req *http.Request) {
			p.hit(i)
			for j, n := range names {
				p.param(j, numAt, req.PathValue(n))
			}
		})
	}
	return mux
}

func init() { gin.SetMode(gin.ReleaseMode) }

func loadGin(_ testing.TB, routes []Route, p *probe) http.Handler {
	return ginRoutes(routes, p)
}

// ginRoutes registers routes on a new gin engine behind middleware mw.
func ginRoutes(routes []Route, p *probe, mw ...gin.HandlerFunc) *gin.Engine {
	e := gin.New()
	e.Use(mw...)
	for i, r := range routes {
		names, numAt := r.ParamNames(), r.NumberParam()
		e.Handle(r.Method, r.Path, func(c *gin.Context) {
			p.hit(i)
			for j, n := range names {
				p.param(j, numAt, c.Param(n))
			}
		})
	}
	return e
}

// loadGinRecovery is gin with its Recovery middleware: the panic safety
// graft has built in (gin.Default adds it, with a logger).
func loadGinRecovery(_ testing.TB, routes []Route, p *probe) http.Handler {
	return ginRoutes(routes, p, gin.RecoveryWithWriter(io.Discard))
}

func loadHTTPRouter(_ testing.TB, routes []Route, p *probe) http.Handler {
	rt := httprouter.New()
	for i, r := range routes {
		names, numAt := r.ParamNames(), r.NumberParam()
		rt.Handle(r.Method, r.Path, func(_ http.ResponseWriter, _ *http.Request, ps httprouter.Params) {
			p.hit(i)
			for j, n := range names {
				p.param(j, numAt, ps.ByName(n))
			}
		})
	}
	return rt
}

func loadEcho(_ testing.TB, routes []Route, p *probe) http.Handler {
	e := echo.New()
	for i, r := range routes {
		names, numAt := r.ParamNames(), r.NumberParam()
		e.Add(r.Method, r.Path, func(c echo.Context) error {
			p.hit(i)
			for j, n := range names {
				p.param(j, numAt, c.Param(n))
			}
			return nil
		})
	}
	return e
}

func loadChi(_ testing.TB, routes []Route, p *probe) http.Handler {
	rt := chi.NewRouter()
	for i, r := range routes {
		names, numAt := r.ParamNames(), r.NumberParam()
		rt.MethodFunc(r.Method, r.GraftPath(), func(_ http.ResponseWriter, req *http.Request) {
			p.hit(i)
			for j, n := range names {
				p.param(j, numAt, chi.URLParam(req, n))
			}
		})
	}
	return rt
}

// requests builds one request per route, with ParamValue in every
// parameter segment.
func requests(routes []Route) []*http.Request {
	reqs := make([]*http.Request, len(routes))
	for i, r := range routes {
		reqs[i] = httptest.NewRequest(r.Method, r.RequestPath(), nil)
	}
	return reqs
}

// The plaintext and JSON answers of the TechEmpower-style benchmarks.
const helloText = "Hello, World!"

type helloMessage struct {
	Message string `json:"message"`
}

// app is one framework serving GET / (plaintext) and GET /json.
type app struct {
	name string
	load func(tb testing.TB) http.Handler
}

var apps = []app{
	{"graft", loadGraftHello},
	{"graft-typed", loadGraftTypedHello},
	{"nethttp", loadNetHTTPHello},
	{"httprouter", loadHTTPRouterHello},
	{"chi", loadChiHello},
	{"gin", loadGinHello},
	{"echo", loadEchoHello},
	{"huma", loadHumaHello},
}

// Fiber's plaintext and JSON apps are in fiber_routes_test.go.

func loadGraftHello(tb testing.TB) http.Handler {
	a := graft.New(graft.Config{Logger: quietLogger})
	a.GET("/", func(c *graft.Ctx) error { return c.Text(http.StatusOK, helloText) })
	a.GET("/json", func(c *graft.Ctx) error {
		return c.JSON(http.StatusOK, helloMessage{Message: helloText})
	})
	return startGraft(tb, a)
}

// loadNetHTTPHello is the hand-written baseline: a ServeMux and handlers
// written the way the standard library's documentation writes them.
func loadNetHTTPHello(testing.TB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { writeHelloText(w) })
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, _ *http.Request) { writeHelloJSON(w) })
	return mux
}

func loadGinHello(testing.TB) http.Handler {
	e := gin.New()
	e.GET("/", func(c *gin.Context) { c.String(http.StatusOK, helloText) })
	e.GET("/json", func(c *gin.Context) { c.JSON(http.StatusOK, helloMessage{Message: helloText}) })
	return e
}

func loadEchoHello(testing.TB) http.Handler {
	e := echo.New()
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, helloText) })
	e.GET("/json", func(c echo.Context) error {
		return c.JSON(http.StatusOK, helloMessage{Message: helloText})
	})
	return e
}

// loadGraftTypedHello answers /json from a typed endpoint (graft.Get with
// no input) and / from a plain handler, there being no typed text answer
// simpler than c.Text.
func loadGraftTypedHello(tb testing.TB) http.Handler {
	a := graft.New(graft.Config{Logger: quietLogger})
	a.GET("/", func(c *graft.Ctx) error { return c.Text(http.StatusOK, helloText) })
	graft.Get(a, "/json", func(context.Context, *struct{}) (*graftHelloOut, error) {
		return &graftHelloOut{Body: helloMessage{Message: helloText}}, nil
	})
	return startGraft(tb, a)
}

type graftHelloOut struct{ Body helloMessage }

// writeHelloText and writeHelloJSON are the by-hand answers of the routers
// without their own helpers (net/http, httprouter, chi).
func writeHelloText(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, helloText)
}

func writeHelloJSON(w http.ResponseWriter) {
	b, err := json.Marshal(helloMessage{Message: helloText})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func loadHTTPRouterHello(testing.TB) http.Handler {
	rt := httprouter.New()
	rt.GET("/", func(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) { writeHelloText(w) })
	rt.GET("/json", func(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) { writeHelloJSON(w) })
	return rt
}

func loadChiHello(testing.TB) http.Handler {
	rt := chi.NewRouter()
	rt.Get("/", func(w http.ResponseWriter, _ *http.Request) { writeHelloText(w) })
	rt.Get("/json", func(w http.ResponseWriter, _ *http.Request) { writeHelloJSON(w) })
	return rt
}

type humaTextOut struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

type humaHelloOut struct{ Body helloMessage }

// loadHumaHello is Huma v2 on humago (ServeMux); a []byte body with its
// Content-Type header is how Huma documents a non-JSON answer.
func loadHumaHello(testing.TB) http.Handler {
	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("bench", "1.0")
	cfg.CreateHooks = nil
	api := humago.New(mux, cfg)
	hello := []byte(helloText)
	huma.Register(api, huma.Operation{OperationID: "plaintext", Method: http.MethodGet, Path: "/"},
		func(context.Context, *struct{}) (*humaTextOut, error) {
			return &humaTextOut{ContentType: "text/plain; charset=utf-8", Body: hello}, nil
		})
	huma.Register(api, huma.Operation{OperationID: "json", Method: http.MethodGet, Path: "/json"},
		func(context.Context, *struct{}) (*humaHelloOut, error) {
			return &humaHelloOut{Body: helloMessage{Message: helloText}}, nil
		})
	return mux
}
