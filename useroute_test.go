package graft_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
)

// TestUseRoute: route-aware middleware is told each route it wraps, once,
// at start-up (nil for the app's 404 and 405 answers), sits where
// Builder.Use middleware registered in the same place would, and sees the
// final status after next.
func TestUseRoute(t *testing.T) {
	var order []string
	var seen []string
	app := graft.New(graft.Config{})
	app.Register(graft.ExtensionFunc("test.route", func(b *graft.Builder) error {
		b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
			return func(c *graft.Ctx) error { order = append(order, "use"); return next(c) }
		})
		b.UseRoute(func(r *graft.Route, next graft.HandlerFunc) graft.HandlerFunc {
			label := "none" // computed once per route
			if r != nil {
				label = r.Method() + " " + r.Pattern()
			}
			seen = append(seen, label)
			return func(c *graft.Ctx) error {
				order = append(order, "route")
				c.SetHeader("X-Route", label)
				err := next(c)
				if c.StatusCode() == http.StatusTeapot {
					order = append(order, "saw 418")
				}
				return err
			}
		})
		return nil
	}))
	app.GET("/users/{id}", func(c *graft.Ctx) error { order = append(order, "handler"); return c.Text(200, "u") })
	app.GET("/teapot", func(c *graft.Ctx) error { return &graft.HTTPError{Status: http.StatusTeapot} })
	api := app.Group("/api")
	api.Register(graft.ExtensionFunc("test.group", func(b *graft.Builder) error {
		b.UseRoute(func(r *graft.Route, next graft.HandlerFunc) graft.HandlerFunc {
			if r == nil {
				t.Error("a group's route middleware was called for the 404/405 chain")
				return next
			}
			seen = append(seen, "group "+r.Pattern())
			return func(c *graft.Ctx) error { c.SetHeader("X-Group", r.Pattern()); return next(c) }
		})
		return nil
	}))
	api.POST("/items", func(c *graft.Ctx) error { return c.NoContent() })
	srv := graftest.Start(t, app)

	slices.Sort(seen)
	graftest.Equal(t, strings.Join(seen, ", "), "GET /teapot, GET /users/{id}, POST /api/items, group /api/items, none, none")

	res := srv.Get("/users/7").WantStatus(200)
	graftest.Equal(t, res.Header.Get("X-Route"), "GET /users/{id}")
	graftest.Equal(t, strings.Join(order, " "), "use route handler")
	order = nil
	srv.Get("/teapot").WantStatus(http.StatusTeapot)
	graftest.Equal(t, strings.Join(order, " "), "use route saw 418")
	res = srv.Post("/api/items", "text/plain", "").WantStatus(204)
	graftest.Equal(t, res.Header.Get("X-Route"), "POST /api/items")
	graftest.Equal(t, res.Header.Get("X-Group"), "/api/items")
	graftest.Equal(t, srv.Get("/nowhere").WantStatus(404).Header.Get("X-Route"), "none")
	graftest.Equal(t, srv.Get("/api/items").WantStatus(405).Header.Get("X-Route"), "none")
}

// TestUseRouteNil: a nil route middleware stops start-up naming the
// extension.
func TestUseRouteNil(t *testing.T) {
	app := graft.New(graft.Config{})
	app.Register(graft.ExtensionFunc("test.nilroute", func(b *graft.Builder) error {
		b.UseRoute(nil)
		return nil
	}))
	app.GET("/", func(c *graft.Ctx) error { return c.NoContent() })
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("start-up accepted a nil route middleware")
	}
	if !strings.Contains(err.Error(), "test.nilroute") || !strings.Contains(err.Error(), "UseRoute: middleware #1 is nil") {
		t.Errorf("error %q does not name the extension and the nil middleware", err)
	}
}
