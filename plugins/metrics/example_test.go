package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/metrics"
)

// Requests are counted by method, route pattern and status in the
// histogram Prometheus scrapes from /metrics.
func Example() {
	app := graft.New(graft.Config{})
	app.Register(metrics.New(metrics.Config{}))
	app.GET("/users/{id}", func(c *graft.Ctx) error { return c.Text(200, "user "+c.Param("id")) })
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()

	for _, path := range []string{"/users/1", "/users/2", "/nowhere"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "http_server_request_duration_seconds_count") {
			fmt.Println(sc.Text())
		}
	}
	// Output:
	// http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/users/{id}"} 2
	// http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="404",http_route=""} 1
}
