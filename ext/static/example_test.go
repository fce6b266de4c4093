package static_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing/fstest"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/static"
)

func Example() {
	site := fstest.MapFS{
		"index.html":   {Data: []byte("<h1>home</h1>")},
		"css/site.css": {Data: []byte("body{margin:0}")},
	}
	app := graft.New(graft.Config{})
	app.Register(static.Mount("/", site, static.Options{CacheControl: "no-cache"}))
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())

	for _, p := range []string{"/", "/css/site.css", "/css/missing.css"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(p, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"), len(b))
	}
	// Output:
	// / 200 text/html; charset=utf-8 no-cache 13
	// /css/site.css 200 text/css; charset=utf-8 no-cache 14
	// /css/missing.css 404 application/problem+json  109
}
