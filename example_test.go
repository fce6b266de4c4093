package graft_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/graftgo/graft"
)

// An app is an http.Handler: register routes, then serve it with Run, with
// any net/http server, or (here) with a recorder.
func Example() {
	app := graft.New(graft.Config{})
	app.GET("/hello/{name}", func(c *graft.Ctx) error {
		return c.JSON(http.StatusOK, map[string]string{"message": "Hello, " + c.Param("name")})
	})

	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/hello/Ada", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Println(w.Body.String())

	w = httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("POST", "/hello/Ada", nil))
	fmt.Println(w.Code, w.Header().Get("Allow"))
	// Output:
	// 200 application/json
	// {"message":"Hello, Ada"}
	// 405 GET, HEAD
}

// Groups share a prefix and middleware; the app's middleware runs first,
// then the group's, then the route's.
func ExampleGroup_Use() {
	app := graft.New(graft.Config{})
	trace := func(name string) graft.Middleware {
		return func(next graft.HandlerFunc) graft.HandlerFunc {
			return func(c *graft.Ctx) error {
				fmt.Println("enter", name)
				return next(c)
			}
		}
	}
	app.Use(trace("app"))
	api := app.Group("/api")
	api.Use(trace("api"))
	api.GET("/users/{id}", func(c *graft.Ctx) error {
		fmt.Println("user", c.Param("id"))
		return c.NoContent()
	}, graft.WithMiddleware(trace("route")))

	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/api/users/42", nil))
	fmt.Println(w.Code)
	// Output:
	// enter app
	// enter api
	// enter route
	// user 42
	// 204
}

// A handler that returns an *HTTPError chooses the status; the default
// error handler answers RFC 9457 problem+json.
func ExampleHTTPError() {
	app := graft.New(graft.Config{})
	app.GET("/users/{id}", func(c *graft.Ctx) error {
		return graft.NewError(http.StatusNotFound, "no user "+c.Param("id"))
	})

	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/users/7", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Println(w.Body.String())
	// Output:
	// 404 application/problem+json
	// {"type":"about:blank","title":"Not Found","status":404,"detail":"no user 7","instance":"/users/7"}
}

// Standard net/http middleware runs next to native middleware and sees
// the final status, even of an error returned by the handler.
func ExampleHTTPMiddleware() {
	app := graft.New(graft.Config{})
	app.UseHTTP(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Served-By", "graft")
			next.ServeHTTP(w, r)
			fmt.Println("route", graft.FromContext(r.Context()).RoutePattern())
		})
	})
	app.GET("/teapot", func(c *graft.Ctx) error {
		return graft.NewError(http.StatusTeapot, "short and stout")
	})

	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/teapot", nil))
	fmt.Println(w.Code, w.Header().Get("X-Served-By"))
	// Output:
	// route /teapot
	// 418 graft
}

// Mount serves any http.Handler under a prefix, for every method.
func ExampleGroup_Mount() {
	app := graft.New(graft.Config{})
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "file %s", r.URL.Path)
	})
	app.Mount("/static", http.StripPrefix("/static", files))

	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/static/css/site.css", nil))
	fmt.Println(w.Body.String())
	// Output:
	// file /css/site.css
}
