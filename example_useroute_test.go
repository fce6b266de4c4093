package graft_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/graftgo/graft"
)

type tenantKey struct{}

// An extension with route-aware middleware: the label of each route is
// made once, at start-up; the tenant goes to the handlers in the request's
// context, set without a request copy.
func ExampleBuilder_UseRoute() {
	app := graft.New(graft.Config{})
	app.Register(graft.ExtensionFunc("example.labels", func(b *graft.Builder) error {
		b.UseRoute(func(r *graft.Route, next graft.HandlerFunc) graft.HandlerFunc {
			label := "unmatched"
			if r != nil {
				label = r.Method() + " " + r.Pattern()
			}
			return func(c *graft.Ctx) error {
				c.SetContext(context.WithValue(c.Context(), tenantKey{}, c.Header("X-Tenant")))
				err := next(c) // the answer is complete
				fmt.Println(label, c.StatusCode())
				return err
			}
		})
		return nil
	}))
	app.GET("/users/{id}", func(c *graft.Ctx) error {
		return c.Text(200, "tenant "+c.Context().Value(tenantKey{}).(string))
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())

	req := httptest.NewRequest("GET", "/users/7", nil)
	req.Header.Set("X-Tenant", "acme")
	w := httptest.NewRecorder()
	app.ServeHTTP(w, req)
	fmt.Println(w.Body.String())
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nowhere", nil))
	// Output:
	// GET /users/{id} 200
	// tenant acme
	// unmatched 404
}
