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
	app := New[Ctx](Config{Logger: discardLogger()})
	app.GET("/users/{id}", func(c *Ctx) error { return c.JSON(http.StatusOK, user{ID: 42, Name: c.Param("id")}) })
	benchServe(b, app, "GET", "/users/42")
}
