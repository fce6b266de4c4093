package ratelimit_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/ratelimit"
	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
)

type wsSession struct{ User string }

type wsClient struct {
	gws.BuiltinEventHandler
	got    chan string
	closed chan uint16
}

func (c *wsClient) OnMessage(_ *gws.Conn, m *gws.Message) {
	c.got <- m.Data.String()
	m.Close()
}

func (c *wsClient) OnClose(_ *gws.Conn, err error) {
	var code uint16
	if ce, ok := err.(*gws.CloseError); ok {
		code = ce.Code
	}
	c.closed <- code
}

// Messages counts each message of a user, over all their connections; the
// one over the limit closes the connection with 1008 and never reaches
// the handler.
func TestMessagesOverWebSocket(t *testing.T) {
	clk := newClock()
	lim := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Algorithm: ratelimit.TokenBucket, Limit: 3, Window: time.Minute}, Now: clk.now})
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: slog.New(slog.DiscardHandler)})
	ws.Route(app, "/ws", ws.Behavior[wsSession]{
		Upgrade: func(c *graft.Ctx) (wsSession, error) { return wsSession{User: c.Query("user")}, nil },
		Message: ratelimit.Messages(lim, func(c *ws.Conn[wsSession]) string { return c.Data().User },
			func(c *ws.Conn[wsSession], data []byte, op ws.OpCode) {
				c.Send(append([]byte("echo "), data...), op, false)
			}),
	})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := app.Listen()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Shutdown(ctx)
		select {
		case <-served:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s of Shutdown")
		}
	})
	dial := func(user string) (*gws.Conn, *wsClient) {
		c := &wsClient{got: make(chan string, 8), closed: make(chan uint16, 1)}
		conn, _, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws://" + ln.Addr().String() + "/ws?user=" + user})
		if err != nil {
			t.Fatal(err)
		}
		go conn.ReadLoop()
		t.Cleanup(func() { conn.NetConn().Close() })
		return conn, c
	}
	expect := func(c *wsClient, want string) {
		t.Helper()
		select {
		case got := <-c.got:
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case code := <-c.closed:
			t.Fatalf("closed with %d waiting for %q", code, want)
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q within 5s", want)
		}
	}
	a1, ca1 := dial("ada")
	a2, ca2 := dial("ada")
	b, cb := dial("bob")
	a1.WriteString("1")
	expect(ca1, "echo 1")
	a2.WriteString("2")
	expect(ca2, "echo 2")
	a1.WriteString("3")
	expect(ca1, "echo 3")
	b.WriteString("b1") // bob has his own bucket
	expect(cb, "echo b1")
	a2.WriteString("4") // ada's fourth: over
	select {
	case code := <-ca2.closed:
		if code != 1008 {
			t.Errorf("closed with %d, want 1008", code)
		}
	case m := <-ca2.got:
		t.Fatalf("over the limit, got %q", m)
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed within 5s of the message over the limit")
	}
	clk.advance(20 * time.Second) // one token back
	a1.WriteString("5")
	expect(ca1, "echo 5")
}
