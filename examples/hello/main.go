// Command hello is the smallest graft app: a text route, a JSON route with a
// path parameter, problem+json for unknown paths and wrong methods.
//
//	go run ./examples/hello --port 8080
package main

import (
	"log"
	"net/http"

	"github.com/graftgo/graft"
)

// newApp builds the app; main runs it and the tests serve it.
func newApp() *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{})
	app.GET("/", func(c *graft.Ctx) error {
		return c.Text(http.StatusOK, "Hello, World!")
	})
	app.GET("/hello/{name}", func(c *graft.Ctx) error {
		return c.JSON(http.StatusOK, map[string]string{"message": "Hello, " + c.Param("name")})
	})
	return app
}

func main() {
	if err := newApp().Run(); err != nil {
		log.Fatal(err)
	}
}
