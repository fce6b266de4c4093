package secure_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/secure"
)

func Example() {
	app := graft.New(graft.Config{})
	app.Register(secure.Extension(secure.Recommended()))
	api := app.Group("/api")
	api.Register(secure.Scoped("api", secure.Options{NoSniff: true, ReferrerPolicy: "no-referrer"}))
	api.GET("/status", func(c *graft.Ctx) error { return c.JSON(200, map[string]string{"status": "ok"}) })
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())

	for _, p := range []string{"/missing", "/api/status"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println(p, res.StatusCode)
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
			if v := res.Header.Get(h); v != "" {
				fmt.Printf("  %s: %s\n", h, v)
			}
		}
	}
	// Output:
	// /missing 404
	//   Content-Security-Policy: default-src 'self'; frame-ancestors 'none'
	//   X-Frame-Options: DENY
	//   X-Content-Type-Options: nosniff
	//   Referrer-Policy: strict-origin-when-cross-origin
	// /api/status 200
	//   X-Content-Type-Options: nosniff
	//   Referrer-Policy: no-referrer
}
