package graftest_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/ws"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type orderIn struct {
	Body struct {
		Qty  int    `json:"qty" min:"1"`
		Item string `json:"item" required:"true"`
	}
}

type orderOut struct {
	Status int `default:"201"`
	Body   struct {
		Item string `json:"item"`
	}
}

func newApp() *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	graft.Post(app, "/orders", func(_ context.Context, in *orderIn) (*orderOut, error) {
		out := &orderOut{}
		out.Body.Item = in.Body.Item
		return out, nil
	})
	app.GET("/hello", func(c *graft.Ctx) error { return c.Text(200, "hello "+c.Header("X-Name")) })
	ws.Route(app, "/echo", ws.Behavior[struct{}]{
		Message: func(c *ws.Conn[struct{}], data []byte, op ws.OpCode) {
			if string(data) == "bye" {
				c.Close(4000, "asked to")
				return
			}
			c.Send(data, op, false)
		},
	})
	ws.Route(app, "/private", ws.Behavior[struct{}]{
		Upgrade: func(c *graft.Ctx) (struct{}, error) {
			return struct{}{}, &graft.HTTPError{Status: http.StatusUnauthorized, Detail: "log in first"}
		},
	})
	return app
}

// TestRequests: answers are read whole, statuses checked, JSON and
// problem+json decoded; the 422's problem is pinned by a golden file.
func TestRequests(t *testing.T) {
	srv := graftest.Start(t, newApp())
	graftest.Equal(t, srv.Get("/hello", "X-Name", "ann").WantStatus(200).Text(), "hello ann")

	var out struct{ Item string }
	srv.Post("/orders", "application/json", `{"qty":2,"item":"tea"}`).WantStatus(201).JSON(&out)
	graftest.Equal(t, out.Item, "tea")

	p := srv.Post("/orders", "application/json", `{"qty":0}`).WantStatus(422).Problem()
	graftest.GoldenJSON(t, "orders-422.json", p)

	nf := srv.Get("/nowhere").WantStatus(404).Problem()
	graftest.Equal(t, nf.Status, http.StatusNotFound)

	// A subtest reports through its own t.
	t.Run("sub", func(t *testing.T) {
		graftest.Equal(t, srv.For(t).Get("/hello").WantStatus(200).Text(), "hello ")
	})
}

// TestWebSocket: a real client sends and receives, and sees the server's
// close code; a refused handshake reports the HTTP status.
func TestWebSocket(t *testing.T) {
	srv := graftest.Start(t, newApp())
	c := srv.DialWS("/echo")
	c.SendText("hi")
	if m := c.RecvMessage(); !m.Text || string(m.Data) != "hi" {
		t.Fatalf("echo %+v", m)
	}
	c.SendBinary([]byte{1, 2})
	if m := c.RecvMessage(); m.Text || len(m.Data) != 2 {
		t.Fatalf("binary echo %+v", m)
	}
	c.SendText("bye")
	code, reason := c.WaitClosed()
	if code != 4000 || reason != "asked to" {
		t.Fatalf("close %d %q, want 4000 asked to", code, reason)
	}
	graftest.Equal(t, srv.DialWSError("/private"), http.StatusUnauthorized)
}

// TestStartError: a setup mistake's message, pinned by a golden file.
func TestStartError(t *testing.T) {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	type noteIn struct {
		Note string `plugin:""`
	}
	graft.Get(app, "/notes", func(context.Context, *noteIn) (*orderOut, error) { return nil, nil })
	graftest.GoldenText(t, "start-error.txt", graftest.StartError(t, app))
}

// TestDiscard: the benchmark writer records status and size, resets, and
// allocates nothing around a pooled request.
func TestDiscard(t *testing.T) {
	app := newApp()
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	w := graftest.NewDiscard()
	req, _ := http.NewRequest("GET", "/hello", nil)
	app.ServeHTTP(w, req)
	if w.Status() != 200 || w.Size() != int64(len("hello ")) || w.Header().Get("Content-Type") == "" {
		t.Fatalf("status %d size %d header %v", w.Status(), w.Size(), w.Header())
	}
	w.Reset()
	if w.Status() != 0 || w.Size() != 0 || len(w.Header()) != 0 {
		t.Fatal("Reset left state behind")
	}
	if n := testing.AllocsPerRun(100, func() { w.Reset(); w.WriteHeader(204); w.Write(nil) }); n != 0 {
		t.Fatalf("Discard allocates %v per request", n)
	}
}

// TestFirstDiff names the first differing line.
func TestFirstDiff(t *testing.T) {
	graftest.Equal(t, graftest.FirstDiff([]byte("a\nb\nc"), []byte("a\nx\nc")), "line 2:\n- b\n+ x")
	graftest.Equal(t, graftest.FirstDiff([]byte("a"), []byte("a")), "")
}
