package recover_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/recover"
)

type orderIn struct {
	ID string `path:"id"`
}

type orderOut struct{ Body string }

// The plugin logs a typed endpoint's panic once and answers 500
// problem+json; as the app's PanicHandler it does the same for plain
// handlers.
func Example() {
	// A logger without times or stacks, for the example's output.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	rec := recover.New(recover.Config{OmitStack: true})
	app := graft.New(graft.Config{Logger: logger, PanicHandler: rec.PanicHandler()})
	app.UsePlugins(rec)
	graft.Get(app, "/orders/{id}", func(_ context.Context, in *orderIn) (*orderOut, error) {
		if in.ID == "7" {
			panic("order 7 is corrupt") // a bug
		}
		return &orderOut{Body: "ok"}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/orders/7")
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
	fmt.Println(string(b))
	// Output:
	// level=ERROR msg="panic recovered" method=GET route=/orders/{id} path=/orders/7 panic="order 7 is corrupt" panic_type=string
	// 500 application/problem+json
	// {"type":"about:blank","title":"Internal Server Error","status":500,"instance":"/orders/7"}
}
