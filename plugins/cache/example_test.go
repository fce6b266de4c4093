package cache_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/cache"
)

type priceIn struct {
	Symbol string `path:"symbol"`
}

type priceOut struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Symbol string  `json:"symbol"`
		Price  float64 `json:"price"`
	}
}

// The first request runs the endpoint, the second is served from the
// cache; a purge makes the next one run it again.
func Example() {
	app := graft.New(graft.Config{})
	c := cache.New(cache.Config{Policy: cache.Policy{TTL: 30 * time.Second}})
	app.UsePlugins(c)
	runs := 0
	graft.Get(app, "/prices/{symbol}", func(_ context.Context, in *priceIn) (*priceOut, error) {
		runs++
		out := &priceOut{CacheControl: "max-age=5"} // the answer's own freshness wins over TTL
		out.Body.Symbol, out.Body.Price = in.Symbol, 101.5
		return out, nil
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()
	get := func() {
		res, err := srv.Client().Get(srv.URL + "/prices/ACME")
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println(res.Header.Get("X-Cache"), "runs:", runs)
	}
	get()
	get()
	_ = c.Purge(context.Background(), cache.URLKey("/prices/ACME", ""))
	get()
	// Output:
	// MISS runs: 1
	// HIT runs: 1
	// MISS runs: 2
}
