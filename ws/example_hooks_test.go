package ws_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ws"
)

// connNumber is the per-connection state the counting extension keeps.
var connNumber = graft.NewProperty[int64]("example.connnumber", nil)

// ConnCounter is a third-party extension: it numbers every WebSocket
// connection of its scope in an open hook and counts the closes.
type ConnCounter struct {
	opened, closed atomic.Int64
}

func (*ConnCounter) ID() string         { return "example.conncounter" }
func (*ConnCounter) Requires() []string { return []string{ws.ExtensionID} }

func (cc *ConnCounter) Extend(b *graft.Builder) error {
	b.Property(connNumber)
	if err := ws.OnOpen(b, func(s *ws.Socket) { connNumber.Set(s, cc.opened.Add(1)) }); err != nil {
		return err
	}
	return ws.OnClose(b, func(*ws.Socket, ws.StatusCode, string) { cc.closed.Add(1) })
}

// An extension's open hook runs before the route's Open handler, which
// reads the property the hook set; its close hook runs after the route's
// Close.
func ExampleOnOpen() {
	cc := &ConnCounter{}
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: slog.New(slog.DiscardHandler)})
	app.Register(cc)
	ws.Route(app, "/chat", ws.Behavior[Session]{
		Upgrade: func(c *graft.Ctx) (Session, error) { return Session{Name: c.Query("name")}, nil },
		Open: func(conn *ws.Conn[Session]) {
			conn.Send(fmt.Appendf(nil, "%s is connection %d", conn.Data().Name, connNumber.Get(conn)), ws.OpText, false)
		},
	})
	if err := app.Start(context.Background()); err != nil {
		panic(err)
	}
	ln, _ := app.Listen()
	go app.Serve(ln)

	ann := dialExample(ln.Addr().String(), "ann")
	fmt.Println(ann.next())
	bob := dialExample(ln.Addr().String(), "bob")
	fmt.Println(bob.next())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	app.Shutdown(ctx) // closes both with 1001, then the close hooks ran
	ann.wait()
	bob.wait()
	fmt.Println("closed:", cc.closed.Load())
	// Output:
	// ann is connection 1
	// bob is connection 2
	// closed: 2
}
