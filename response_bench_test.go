package graft

import (
	"net/http"
	"testing"
)

// BenchmarkPlainJSON is the plain c.JSON handler: the figure the response
// path (header hooks, the default status, extension middleware answering)
// must not slow down.
func BenchmarkPlainJSON(b *testing.B) {
	type user struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	app := New(Config{Logger: discardLogger()})
	app.GET("/users/{id}", func(c *Ctx) error { return c.JSON(http.StatusOK, user{ID: 42, Name: c.Param("id")}) })
	benchServe(b, app, "GET", "/users/42")
}

// BenchmarkAnsweringMiddleware compares one middleware added by the app
// (Use) with the same middleware added by an extension (Builder.Use), whose
// next finishes the answer before it returns: the cost of extension
// middleware seeing the final status.
func BenchmarkAnsweringMiddleware(b *testing.B) {
	mw := func(next HandlerFunc) HandlerFunc {
		return func(c *Ctx) error {
			err := next(c)
			_ = c.StatusCode()
			return err
		}
	}
	for _, tc := range []struct {
		name string
		ext  bool
	}{{"app", false}, {"extension", true}} {
		b.Run(tc.name, func(b *testing.B) {
			app := New(Config{Logger: discardLogger()})
			if tc.ext {
				app.Register(benchMwExt{mw})
			} else {
				app.Use(mw)
			}
			app.GET("/x", func(c *Ctx) error { return c.Text(http.StatusOK, "x") })
			benchServe(b, app, "GET", "/x")
		})
	}
}

type benchMwExt struct{ mw Middleware }

func (benchMwExt) ID() string                { return "bench.mw" }
func (e benchMwExt) Extend(b *Builder) error { b.Use(e.mw); return nil }
