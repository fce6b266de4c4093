package graft

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Security checks of docs/reliability.md that belong to the core: header
// injection through values handlers set, and redirects that cannot be
// turned into open redirects or poisoned by the Host header.

// rawExchange sends one raw HTTP/1.1 request and returns the raw answer's
// status line and header block.
func rawExchange(t *testing.T, addr, request string) (status string, header http.Header) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", request, err)
	}
	res.Body.Close()
	return res.Status, res.Header
}

// TestHeaderValueInjection: a handler that copies request data into a
// header value cannot split the answer: CR and LF never reach the wire as
// line breaks, so no header or body of the attacker's choosing appears.
func TestHeaderValueInjection(t *testing.T) {
	app, _ := newApp(t, Config{})
	app.GET("/echo", func(c *Ctx) error {
		v := c.Query("v")
		c.SetHeader("X-Echo", v)
		c.Response().Header()["X-Echo-Raw"] = []string{v}
		return c.Text(http.StatusOK, "ok")
	})
	app.GET("/redirect", func(c *Ctx) error { return c.Redirect(http.StatusFound, c.Query("to")) })
	srv := serveTest(t, app)
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, payload := range []string{
		"a%0d%0aSet-Cookie:%20evil=1",
		"a%0aSet-Cookie:%20evil=1",
		"a%0dSet-Cookie:%20evil=1",
		"a%0d%0a%0d%0a<script>x</script>",
	} {
		status, h := rawExchange(t, addr, "GET /echo?v="+payload+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if h.Get("Set-Cookie") != "" {
			t.Errorf("v=%s: injected Set-Cookie %q (status %s)", payload, h.Get("Set-Cookie"), status)
		}
		for _, k := range []string{"X-Echo", "X-Echo-Raw"} {
			if strings.ContainsAny(h.Get(k), "\r\n") {
				t.Errorf("v=%s: %s carries a line break: %q", payload, k, h.Get(k))
			}
		}
		status, h = rawExchange(t, addr, "GET /redirect?to=/x"+payload+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if h.Get("Set-Cookie") != "" || strings.ContainsAny(h.Get("Location"), "\r\n") {
			t.Errorf("redirect to /x%s: status %s, Location %q, Set-Cookie %q", payload, status, h.Get("Location"), h.Get("Set-Cookie"))
		}
	}
}

// TestCleanPathRedirectIsNotOpen: the redirect graft sends for paths with
// dot segments stays on the same origin: its Location is a path that no
// browser reads as another host (no "//host", no "/\host"), and it does not
// depend on the Host header.
func TestCleanPathRedirectIsNotOpen(t *testing.T) {
	app, _ := newApp(t, Config{})
	app.GET("/{p...}", func(c *Ctx) error { return c.Text(http.StatusOK, "p="+c.Param("p")) })
	srv := serveTest(t, app)
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, target := range []string{
		"//evil.example/..",
		"//evil.example/../",
		"/.//evil.example",
		"/..//evil.example/",
		"/a/..//evil.example",
		"/a/../\\evil.example",
		"/./\\evil.example/",
		"/%2e%2e//evil.example",
		"/%2e/%2fevil.example",
		"/./%5cevil.example",
		"///evil.example/./x",
	} {
		for _, host := range []string{"x", "evil.example"} {
			status, h := rawExchange(t, addr, "GET "+target+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
			loc := h.Get("Location")
			if !strings.HasPrefix(status, "301") {
				t.Errorf("GET %s (Host %s) = %s, want the clean-path redirect", target, host, status)
				continue
			}
			// A browser resolves "//h" and "/\\h" to another host; a
			// Location with a scheme could carry the Host header.
			if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") || strings.Contains(loc, "://") {
				t.Errorf("GET %s (Host %s) = %s Location %q: a browser could leave the origin", target, host, status, loc)
			}
		}
	}
}

// TestRedirectRejectsBadStatus: Ctx.Redirect with a status outside 3xx is
// a handler bug, answered 500 rather than sent.
func TestRedirectRejectsBadStatus(t *testing.T) {
	app, _ := newApp(t, Config{})
	for _, code := range []int{200, 404, 299, 400} {
		app.GET(fmt.Sprintf("/r%d", code), func(c *Ctx) error { return c.Redirect(code, "/x") })
	}
	srv := serveTest(t, app)
	for _, code := range []int{200, 404, 299, 400} {
		if r := do(t, srv, "GET", fmt.Sprintf("/r%d", code), nil); r.status != 500 {
			t.Errorf("Redirect(%d) answered %d, want 500 (a setup mistake in the handler)", code, r.status)
		}
	}
}

// TestCompressedRequestBodyRefused: graft reads request bodies as sent; a
// body with a content coding nothing decoded is answered 415 with
// Accept-Encoding: identity (RFC 7694) by every body reader (typed JSON,
// form and multipart bodies, Ctx.Body and Ctx.BindJSON), rather than
// decoded as garbage, or inflated past the body limit.
func TestCompressedRequestBodyRefused(t *testing.T) {
	app, _ := newApp(t, Config{})
	type jsonIn struct {
		Body struct {
			Name string `json:"name"`
		}
	}
	type formIn struct {
		Name string `form:"name"`
	}
	type out struct{ Body string }
	Post(app, "/typed", func(_ context.Context, in *jsonIn) (*out, error) { return &out{Body: "typed " + in.Body.Name}, nil })
	Post(app, "/form", func(_ context.Context, in *formIn) (*out, error) { return &out{Body: "form " + in.Name}, nil })
	app.POST("/body", func(c *Ctx) error {
		b, err := c.Body()
		if err != nil {
			return err
		}
		return c.Text(http.StatusOK, "body "+string(b))
	})
	app.POST("/bind", func(c *Ctx) error {
		var v struct{ Name string }
		if err := c.BindJSON(&v); err != nil {
			return err
		}
		return c.Text(http.StatusOK, "bind "+v.Name)
	})
	srv := serveTest(t, app)
	for _, tc := range []struct{ path, ctype, body, plain string }{
		{"/typed", "application/json", `{"name":"a"}`, "typed a"},
		{"/form", "application/x-www-form-urlencoded", "name=a", "form a"},
		{"/body", "text/plain", "a", "body a"},
		{"/bind", "application/json", `{"Name":"a"}`, "bind a"},
	} {
		for _, ce := range []string{"gzip", "br", "identity, gzip", "x-custom"} {
			r := epDo(t, srv, "POST", tc.path, tc.ctype, tc.body, "Content-Encoding", ce)
			if r.status != 415 || r.header.Get("Accept-Encoding") != "identity" || !strings.Contains(r.body, "Content-Encoding") {
				t.Errorf("POST %s with Content-Encoding %q = %d %q Accept-Encoding %q, want 415 naming the coding", tc.path, ce, r.status, r.body, r.header.Get("Accept-Encoding"))
			}
		}
		for _, ce := range []string{"", "identity", "Identity"} {
			var hdr []string
			if ce != "" {
				hdr = []string{"Content-Encoding", ce}
			}
			if r := epDo(t, srv, "POST", tc.path, tc.ctype, tc.body, hdr...); r.status != 200 || r.body != tc.plain {
				t.Errorf("POST %s with Content-Encoding %q = %d %q, want 200 %q", tc.path, ce, r.status, r.body, tc.plain)
			}
		}
	}
}
