package cors_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/cors"
)

// A browser's preflight for a PUT with a JSON body is answered 204 by the
// extension, before the router's 405; the actual request gets the
// Access-Control-Allow-Origin its page needs.
func Example() {
	app := graft.New(graft.Config{})
	app.Register(cors.New(cors.Config{
		AllowOrigins:     []string{"https://*.example.com"},
		AllowCredentials: true,
		MaxAge:           time.Hour,
	}))
	app.PUT("/profile", func(c *graft.Ctx) error { return c.Text(200, "saved") })
	srv := httptest.NewServer(app)
	defer srv.Close()

	pre, _ := http.NewRequest("OPTIONS", srv.URL+"/profile", nil)
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "PUT")
	pre.Header.Set("Access-Control-Request-Headers", "content-type")
	res, err := srv.Client().Do(pre)
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), res.Header.Get("Access-Control-Allow-Methods"), res.Header.Get("Access-Control-Max-Age"))

	put, _ := http.NewRequest("PUT", srv.URL+"/profile", nil)
	put.Header.Set("Origin", "https://app.example.com")
	res, err = srv.Client().Do(put)
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), res.Header.Get("Access-Control-Allow-Credentials"), res.Header.Get("Vary"))
	// Output:
	// 204 https://app.example.com GET, HEAD, POST, PUT, PATCH, DELETE 3600
	// 200 https://app.example.com true Origin
}
