package ratelimit_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/ratelimit"
)

type searchIn struct {
	Q string `query:"q"`
}

type searchOut struct{ Body []string }

// Two searches a minute per client address: the third is answered 429,
// with the RateLimit fields and Retry-After.
func Example() {
	app := graft.New(graft.Config{})
	app.UsePlugins(ratelimit.New(ratelimit.Config{
		Policy: ratelimit.Policy{Name: "search", Algorithm: ratelimit.SlidingWindow, Limit: 2, Window: time.Minute},
		Key:    ratelimit.IP(ratelimit.IPConfig{}),
	}))
	graft.Get(app, "/search", func(_ context.Context, in *searchIn) (*searchOut, error) {
		return &searchOut{Body: []string{in.Q}}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()

	for range 3 {
		res, err := srv.Client().Get(srv.URL + "/search?q=go")
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("RateLimit-Policy"), res.Header.Get("Retry-After") != "")
	}
	// Output:
	// 200 "search";q=2;w=60 false
	// 200 "search";q=2;w=60 false
	// 429 "search";q=2;w=60 true
}
