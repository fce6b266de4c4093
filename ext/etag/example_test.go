package etag_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/etag"
)

func Example() {
	app := graft.New(graft.Config{})
	app.Register(etag.Extension(etag.Options{}))
	app.GET("/greeting", func(c *graft.Ctx) error { return c.Text(200, "hello") })

	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/greeting", nil))
	tag := rec.Header().Get("ETag")
	fmt.Println(rec.Code, tag, rec.Body)

	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/greeting", nil)
	req.Header.Set("If-None-Match", tag)
	app.ServeHTTP(rec, req)
	fmt.Printf("%d %q\n", rec.Code, rec.Body)
	// Output:
	// 200 "LPJNul-wow4m6Dsqxbning" hello
	// 304 ""
}
