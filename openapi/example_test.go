package openapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/openapi"
)

type Greeting struct {
	Text string `json:"text" example:"hello, Ada"`
}

type greetIn struct {
	Name string `query:"name" required:"true" minLength:"1" doc:"who to greet"`
}

type greetOut struct{ Body Greeting }

func greet(_ context.Context, in *greetIn) (*greetOut, error) {
	return &greetOut{Body: Greeting{Text: "hello, " + in.Name}}, nil
}

// The document is built at start-up from the endpoint's signature and
// served at /openapi.json; /docs shows it in Swagger UI.
func Example() {
	app := graft.New(graft.Config{})
	app.Register(openapi.Extension(openapi.Info{Title: "Greeter", Version: "1.0.0"}))
	graft.Get(app, "/greet", greet, graft.Summary("Greet someone"), graft.Tags("greetings"))

	srv := httptest.NewServer(app)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/openapi-3.0.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	d := map[string]any{}
	if err := json.Unmarshal(b, &d); err != nil {
		fmt.Println(err)
		return
	}
	op := d["paths"].(map[string]any)["/greet"].(map[string]any)["get"].(map[string]any)
	fmt.Println(d["openapi"], op["operationId"], op["summary"], op["tags"])
	// Output: 3.0.3 get-greet Greet someone [greetings]
}
