package idempotency_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/idempotency"
)

type payIn struct {
	Body struct {
		Amount int `json:"amount"`
	}
}

type payOut struct {
	Status int `default:"201"`
	Body   struct {
		Payment int `json:"payment"`
	}
}

// A payment retried with the same Idempotency-Key is made once: the
// retry gets the first answer again, marked as a replay. The key reused
// for another amount is a 422.
func Example() {
	app := graft.New(graft.Config{})
	app.UsePlugins(idempotency.New(idempotency.Config{Required: true}))
	payments := 0
	graft.Post(app, "/payments", func(_ context.Context, in *payIn) (*payOut, error) {
		payments++
		out := &payOut{}
		out.Body.Payment = payments
		return out, nil
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()

	pay := func(body string) {
		req, _ := http.NewRequest("POST", srv.URL+"/payments", strings.NewReader(body))
		req.Header.Set("Idempotency-Key", `"8e03978e-40d5-43e8-bc93-6894a57f9324"`)
		res, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		fmt.Println(res.StatusCode, res.Header.Get("Idempotent-Replayed"), strings.TrimSpace(string(b)))
	}
	pay(`{"amount":10}`)
	pay(`{"amount":10}`)
	pay(`{"amount":99}`)
	fmt.Println("payments made:", payments)
	// Output:
	// 201  {"payment":1}
	// 201 true {"payment":1}
	// 422  {"type":"https://github.com/graftgo/graft/blob/main/docs/batteries.md#pluginsidempotency","title":"Idempotency-Key is already used","status":422,"detail":"This operation is idempotent and it requires correct usage of Idempotency Key. Idempotency Key MUST not be reused across different payloads of this operation.","instance":"/payments"}
	// payments made: 1
}
