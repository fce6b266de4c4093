package graft_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/graftgo/graft"
)

type Conflict struct {
	Current int `json:"current"`
}

type RenameIn struct {
	ID   int `path:"id"`
	Body struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
	}
}

type RenameOut struct {
	Body struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
	}
}

// An endpoint with more than one outcome: Out is the success, a declared
// 409 carries a Conflict body; both are in the signature.
func ExampleResponds() {
	app := graft.New(graft.Config{})
	version := 3
	ri := graft.Put(app, "/items/{id}", func(_ context.Context, in *RenameIn) (*RenameOut, error) {
		if in.Body.Version != version {
			return nil, graft.Respond(http.StatusConflict, Conflict{Current: version})
		}
		version++
		out := &RenameOut{}
		out.Body.Name, out.Body.Version = in.Body.Name, version
		return out, nil
	}, graft.Responds[Conflict](http.StatusConflict, "the item changed since it was read"))

	for _, body := range []string{`{"name":"pen","version":3}`, `{"name":"ink","version":3}`} {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest("PUT", "/items/1", strings.NewReader(body)))
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	for _, r := range graft.SignatureOf(ri).Returns {
		if r.Status < 400 || r.Status == http.StatusConflict {
			fmt.Println(r.Status, r.Type, r.MediaType, "-", r.Description)
		}
	}
	// Output:
	// 200 {"name":"pen","version":4}
	// 409 {"current":4}
	// 200 struct { Name string "json:\"name\""; Version int "json:\"version\"" } application/json - OK
	// 409 graft_test.Conflict application/json - the item changed since it was read
}

type Price struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
}

type PricesIn struct {
	LastID string `header:"Last-Event-ID"`
}

// A server-sent events endpoint: typed events, each flushed as it is sent.
func ExampleSSE() {
	app := graft.New(graft.Config{})
	graft.SSE(app, "/prices", func(ctx context.Context, in *PricesIn, s *graft.Stream[Price]) error {
		for i, p := range []float64{12.5, 12.75} {
			ev := graft.Event[Price]{ID: fmt.Sprint(i + 1), Name: "price", Data: Price{Symbol: "GRFT", Price: p}}
			if err := s.SendEvent(ev); err != nil {
				return err // the client went away
			}
		}
		return nil
	})
	srv := httptest.NewServer(app)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/prices")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	fmt.Println(res.Header.Get("Content-Type"))
	r := bufio.NewReader(res.Body)
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			break
		}
		fmt.Print(line)
	}
	// Output:
	// text/event-stream
	// id: 1
	// event: price
	// data: {"symbol":"GRFT","price":12.5}
	//
	// id: 2
	// event: price
	// data: {"symbol":"GRFT","price":12.75}
	//
}
