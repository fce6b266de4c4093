package bus_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/plugins/bus"
)

type OrderPlaced struct{ ID string }

type placeIn struct {
	ID  string   `path:"id"`
	Bus *bus.Bus `plugin:""` // filled by the plugin, never read from the request
}

type placeOut struct {
	Status int `default:"202"`
}

// An endpoint with a *bus.Bus field publishes an event; a typed
// subscriber receives it.
func Example() {
	term := bus.NewTerminal()
	done := make(chan string, 1)
	bus.On(term, func(_ context.Context, _ *di.Graph, e OrderPlaced) error {
		done <- "order " + e.ID + " placed"
		return nil
	})

	app := graft.New(graft.Config{})
	orders := app.Group("/orders", graft.Plugins(bus.Plugin(term)))
	graft.Post(orders, "/{id}", func(ctx context.Context, in *placeIn) (*placeOut, error) {
		return &placeOut{}, in.Bus.Publish(ctx, OrderPlaced{ID: in.ID})
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()

	res, err := http.Post(srv.URL+"/orders/42", "application/json", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	select {
	case s := <-done:
		fmt.Println(res.StatusCode, s)
	case <-time.After(5 * time.Second):
		fmt.Println(res.StatusCode, "no event within 5s")
	}
	// Output: 202 order 42 placed
}
