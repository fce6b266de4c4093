package logging_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/logging"
	"github.com/graftgo/graft/plugins/requestid"
)

// One record per request, with the route pattern and the final status;
// the request id comes from plugins/requestid. (The example drops the
// time and the duration, which change from run to run.)
func Example() {
	stable := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == "duration" {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: stable}))

	app := graft.New(graft.Config{Logger: logger})
	app.Register(requestid.New(requestid.Config{}), logging.New(logging.Config{}))
	app.GET("/users/{id}", func(c *graft.Ctx) error { return c.Text(200, "user "+c.Param("id")) })
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()

	for _, path := range []string{"/users/7", "/nowhere"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-Request-Id", "edge-"+path[1:2])
		res, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	// Output:
	// level=INFO msg=request method=GET route=/users/{id} path=/users/7 status=200 bytes=6 request_id=edge-u
	// level=INFO msg=request method=GET route="" path=/nowhere status=404 bytes=115 request_id=edge-n
}
