package bench

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"
)

// Fiber runs on fasthttp, not net/http, so it cannot sit in the routers
// table: its GitHub benchmarks serve prepared fasthttp.RequestCtx values
// (one per request, parsed once, as the *http.Request values of the other
// routers are) through the app's fasthttp.RequestHandler. Caveat, stated in
// docs/benchmarks.md: fasthttp's request parsing and connection handling
// differ from net/http's, so routing figures compare the frameworks'
// handler paths, not whole servers.

func loadFiber(_ testing.TB, routes []Route, p *probe) fasthttp.RequestHandler {
	app := fiber.New()
	for i, r := range routes {
		names, numAt := r.ParamNames(), r.NumberParam()
		app.Add([]string{r.Method}, r.Path, func(c fiber.Ctx) error {
			p.hit(i)
			for j, n := range names {
				p.param(j, numAt, c.Params(n))
			}
			return nil
		})
	}
	return app.Handler()
}

// fiberCtxs prepares one RequestCtx per route, with RequestPath as its URI.
func fiberCtxs(routes []Route) []*fasthttp.RequestCtx {
	ctxs := make([]*fasthttp.RequestCtx, len(routes))
	for i, r := range routes {
		ctxs[i] = fiberCtx(r.Method, r.RequestPath())
	}
	return ctxs
}

func fiberCtx(method, target string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(target)
	req.Header.SetHost("example.com")
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234}, nil)
	return ctx
}

// benchFiber serves every prepared ctx once per op, resetting the response
// as fasthttp's server does between requests; it reports cpu-ns/op like
// benchRequests.
func benchFiber(b *testing.B, h fasthttp.RequestHandler, ctxs []*fasthttp.RequestCtx) {
	b.ReportAllocs()
	cpu0, ok := cpuTime()
	n := 0
	for b.Loop() {
		for _, c := range ctxs {
			c.Response.Reset()
			h(c)
		}
		n++
	}
	if cpu1, ok1 := cpuTime(); ok && ok1 && n > 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
	}
}

// TestGitHubRoutesFiber is TestGitHubRoutes for Fiber.
func TestGitHubRoutesFiber(t *testing.T) {
	p := &probe{}
	h := loadFiber(t, GitHubAPI, p)
	ctxs := fiberCtxs(GitHubAPI)
	for i, r := range GitHubAPI {
		p.route = -1
		ctxs[i].Response.Reset()
		h(ctxs[i])
		checkProbe(t, p, i, r, ctxs[i].Response.StatusCode())
	}
	for _, path := range []string{"/nope", "/repos/a/b/nope", "/user/repos/extra"} {
		p.route = -1
		c := fiberCtx(http.MethodGet, path)
		h(c)
		if p.route != -1 || c.Response.StatusCode() != http.StatusNotFound {
			t.Errorf("GET %s: served by route %d with status %d, want 404", path, p.route, c.Response.StatusCode())
		}
	}
}

// loadFiberHello is Fiber's plaintext and JSON app.
func loadFiberHello(testing.TB) fasthttp.RequestHandler {
	app := fiber.New()
	app.Get("/", func(c fiber.Ctx) error { return c.SendString(helloText) })
	app.Get("/json", func(c fiber.Ctx) error { return c.JSON(helloMessage{Message: helloText}) })
	return app.Handler()
}

// TestHelloFiber is TestHello for Fiber.
func TestHelloFiber(t *testing.T) {
	h := loadFiberHello(t)
	c := fiberCtx(http.MethodGet, "/")
	h(c)
	if c.Response.StatusCode() != http.StatusOK || string(c.Response.Body()) != helloText ||
		!strings.HasPrefix(string(c.Response.Header.ContentType()), "text/plain") {
		t.Errorf("GET /: %d %q %q", c.Response.StatusCode(), c.Response.Header.ContentType(), c.Response.Body())
	}
	c = fiberCtx(http.MethodGet, "/json")
	h(c)
	var m helloMessage
	if err := json.Unmarshal(c.Response.Body(), &m); err != nil || c.Response.StatusCode() != http.StatusOK ||
		m.Message != helloText || !strings.HasPrefix(string(c.Response.Header.ContentType()), "application/json") {
		t.Errorf("GET /json: %d %q %q (%v)", c.Response.StatusCode(), c.Response.Header.ContentType(), c.Response.Body(), err)
	}
}
