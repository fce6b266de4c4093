package requestid_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/requestid"
)

type shipIn struct {
	RequestID requestid.ID `plugin:""`
}

type shipOut struct{ Body string }

// A typed endpoint gets the request's id in its plugin field; the answer
// carries it in X-Request-Id. A valid incoming id is kept.
func Example() {
	app := graft.New(graft.Config{})
	rid := requestid.New(requestid.Config{})
	app.Register(rid)
	app.UsePlugins(rid)
	graft.Post(app, "/ship", func(_ context.Context, in *shipIn) (*shipOut, error) {
		return &shipOut{Body: "shipping, request " + string(in.RequestID)}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/ship", nil)
	req.Header.Set("X-Request-Id", "edge-7f3a")
	res, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.Header.Get("X-Request-Id"), string(b))
	// Output: edge-7f3a shipping, request edge-7f3a
}
