package timeout_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/timeout"
)

// A handler that waits on its context past the timeout is answered 503.
func Example() {
	app := graft.New(graft.Config{})
	app.UsePlugins(timeout.New(timeout.Config{Timeout: 10 * time.Millisecond}))
	graft.Get(app, "/report", func(ctx context.Context, _ *in) (*out, error) {
		<-ctx.Done() // a slow dependency that honours the context
		return nil, ctx.Err()
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/report")
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
	// Output: 503 application/problem+json
}
