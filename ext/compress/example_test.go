package compress_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/compress"
	"github.com/klauspost/compress/gzip"
)

func Example() {
	app := graft.New(graft.Config{})
	app.Register(compress.Extension(compress.Options{MinSize: 256}))
	app.GET("/report", func(c *graft.Ctx) error { return c.Text(200, strings.Repeat("all good\n", 100)) })
	app.GET("/tiny", func(c *graft.Ctx) error { return c.Text(200, "ok") })
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())

	cl := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, p := range []string{"/report", "/tiny"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("Accept-Encoding", "zstd;q=0.5, gzip")
		res, err := cl.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		var body io.Reader = res.Body
		if res.Header.Get("Content-Encoding") == "gzip" {
			body, _ = gzip.NewReader(res.Body)
		}
		b, _ := io.ReadAll(body)
		res.Body.Close()
		fmt.Printf("%s %q %d bytes, Vary %s\n", p, res.Header.Get("Content-Encoding"), len(b), res.Header.Get("Vary"))
	}
	// Output:
	// /report "gzip" 900 bytes, Vary Accept-Encoding
	// /tiny "" 2 bytes, Vary Accept-Encoding
}
