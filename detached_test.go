package graft

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type detachedKey struct{}

// TestDetachedContext checks DetachedContext on the app's own server: with
// no middleware it is the small context carrying net/http's two values,
// and it is never done; a middleware's values, and a request served
// through another server, fall back to context.WithoutCancel.
func TestDetachedContext(t *testing.T) {
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1})
	type seen struct {
		d            context.Context
		srv, laddr   any
		reqDone      <-chan struct{}
		allocs       float64
		detachedType bool
	}
	got := make(chan seen, 4)
	record := func(c *Ctx) error {
		d := c.DetachedContext()
		_, small := d.(*serverValues)
		s := seen{d: d, srv: c.Context().Value(http.ServerContextKey), laddr: c.Context().Value(http.LocalAddrContextKey), reqDone: c.Context().Done(), detachedType: small}
		if !raceEnabled {
			s.allocs = testing.AllocsPerRun(10, func() { _ = c.DetachedContext() })
		}
		got <- s
		return c.Text(http.StatusOK, "ok")
	}
	app.GET("/plain", record)
	g := app.Group("/mw")
	g.Use(func(next HandlerFunc) HandlerFunc {
		return func(c *Ctx) error {
			c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), detachedKey{}, "v"))
			return next(c)
		}
	})
	g.GET("/x", record)
	h := app.Group("/std")
	h.UseHTTP(func(next http.Handler) http.Handler { return next })
	h.GET("/x", record)
	addr := startApp(t, app)
	client := newClient(t, nil)
	get := func(path string) seen {
		t.Helper()
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		select {
		case s := <-got:
			return s
		case <-time.After(5 * time.Second):
			t.Fatalf("no handler call for %s within 5s", path)
		}
		return seen{}
	}
	waitDone := func(s seen) {
		t.Helper()
		select {
		case <-s.reqDone:
		case <-time.After(5 * time.Second):
			t.Fatal("the request's context was not cancelled within 5s of the response")
		}
	}

	for _, path := range []string{"/plain", "/std/x"} {
		p := get(path)
		if !p.detachedType {
			t.Fatalf("%s: DetachedContext is %T, want the small server-values context", path, p.d)
		}
		if !raceEnabled && p.allocs != 1 {
			t.Fatalf("%s: DetachedContext allocates %v times, want 1", path, p.allocs)
		}
		waitDone(p)
		if p.d.Done() != nil || p.d.Err() != nil {
			t.Fatalf("%s: detached context done (%v)", path, p.d.Err())
		}
		if dl, ok := p.d.Deadline(); ok {
			t.Fatalf("%s: detached context has a deadline %v", path, dl)
		}
		if p.d.Value(http.ServerContextKey) != p.srv || p.srv == nil {
			t.Fatalf("%s: server value %v, the request's %v", path, p.d.Value(http.ServerContextKey), p.srv)
		}
		la, ok := p.d.Value(http.LocalAddrContextKey).(net.Addr)
		if !ok || la != p.laddr || la.String() != addr {
			t.Fatalf("%s: local address %v, the request's %v, the server's %s", path, p.d.Value(http.LocalAddrContextKey), p.laddr, addr)
		}
		if p.d.Value(detachedKey{}) != nil || p.d.Value(ctxKey{}) != nil {
			t.Fatalf("%s: detached context carries other values", path)
		}
	}

	m := get("/mw/x")
	if m.detachedType {
		t.Fatal("with a middleware's value, DetachedContext dropped it")
	}
	waitDone(m)
	if m.d.Value(detachedKey{}) != "v" || m.d.Value(http.ServerContextKey) != m.srv || m.d.Err() != nil || m.d.Done() != nil {
		t.Fatalf("middleware value %v, server %v, err %v", m.d.Value(detachedKey{}), m.d.Value(http.ServerContextKey), m.d.Err())
	}

	// Served through another server (the app as an http.Handler): its
	// context may hold anything, so all of it is kept.
	other := context.WithValue(context.Background(), detachedKey{}, "base")
	ctx, cancel := context.WithCancel(other)
	req := httptest.NewRequest(http.MethodGet, "/plain", nil).WithContext(ctx)
	app.ServeHTTP(httptest.NewRecorder(), req)
	cancel()
	o := recvWithin(t, got, "the handler call served through another server")
	if o.detachedType || o.d.Value(detachedKey{}) != "base" || o.d.Err() != nil {
		t.Fatalf("another server's request: %T, value %v, err %v", o.d, o.d.Value(detachedKey{}), o.d.Err())
	}
}
