package ws_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
)

// Session is the user data of a chat connection, set at upgrade.
type Session struct {
	Name string
}

// A WebSocket route whose connections carry typed user data, join a room
// topic and publish what they receive to the others in the room. The
// app-wide settings come through the extension (registering it is
// optional: the first Route registers one with the defaults).
func ExampleRoute() {
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: slog.New(slog.DiscardHandler)})
	app.Register(ws.Extension(ws.Config{MaxPayloadLength: 64 << 10}))
	ws.Route(app, "/chat", ws.Behavior[Session]{
		Upgrade: func(c *graft.Ctx) (Session, error) {
			return Session{Name: c.Query("name")}, nil
		},
		Open: func(conn *ws.Conn[Session]) {
			conn.Subscribe("room")
			conn.Send([]byte("welcome "+conn.Data().Name), ws.OpText, false)
		},
		Message: func(conn *ws.Conn[Session], data []byte, op ws.OpCode) {
			conn.Publish("room", append([]byte(conn.Data().Name+": "), data...), op)
		},
	})
	if err := app.Start(context.Background()); err != nil {
		panic(err)
	}
	ln, _ := app.Listen()
	go app.Serve(ln)

	// Two clients; what ann says reaches bob.
	bob := dialExample(ln.Addr().String(), "bob")
	fmt.Println(bob.next())
	ann := dialExample(ln.Addr().String(), "ann")
	fmt.Println(ann.next())
	ann.conn.WriteString("hello")
	fmt.Println(bob.next())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	app.Shutdown(ctx) // closes both with 1001
	ann.wait()
	bob.wait()
	// Output:
	// welcome bob
	// welcome ann
	// ann: hello
}

// exampleClient is a gws client that forwards the messages it receives.
type exampleClient struct {
	gws.BuiltinEventHandler
	conn *gws.Conn
	got  chan string
	done chan struct{}
}

func (c *exampleClient) OnMessage(_ *gws.Conn, m *gws.Message) {
	c.got <- m.Data.String()
	m.Close()
}

// next returns the next message received; an example that waits longer
// than 10s fails rather than hangs.
func (c *exampleClient) next() string {
	select {
	case m := <-c.got:
		return m
	case <-time.After(10 * time.Second):
		panic("example: no message within 10s")
	}
}

// wait returns once the connection closed, or panics after 10s.
func (c *exampleClient) wait() {
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		panic("example: the connection did not close within 10s")
	}
}

func dialExample(addr, name string) *exampleClient {
	c := &exampleClient{got: make(chan string, 8), done: make(chan struct{})}
	conn, _, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws://" + addr + "/chat?name=" + name})
	if err != nil {
		panic(err)
	}
	c.conn = conn
	go func() {
		conn.ReadLoop()
		close(c.done)
	}()
	return c
}
