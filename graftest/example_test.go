package graftest_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
)

// Discard takes the answers of app.ServeHTTP in a benchmark loop: reset
// it per request, read the status and size.
func ExampleDiscard() {
	app := graft.New(graft.Config{})
	app.GET("/hello", func(c *graft.Ctx) error { return c.Text(200, "hello") })
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	w, req := graftest.NewDiscard(), httptest.NewRequest("GET", "/hello", nil)
	for range 3 {
		w.Reset()
		app.ServeHTTP(w, req)
	}
	fmt.Println(w.Status(), w.Size())
	// Output: 200 5
}

// FirstDiff is what Golden reports when a golden file and the test's
// output differ.
func ExampleFirstDiff() {
	fmt.Println(graftest.FirstDiff([]byte("{\n  \"status\": 422\n}"), []byte("{\n  \"status\": 400\n}")))
	// Output:
	// line 2:
	// -   "status": 422
	// +   "status": 400
}
