package ws_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ws"
)

// Presence on the room topics: a connection that watches a room is told
// who is there when it joins, then who joins and leaves; the hub counts
// the room's subscribers on every node (one node here; with a broker,
// the whole cluster).
func ExampleSocket_SubscribePresence() {
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: slog.New(slog.DiscardHandler)})
	app.Register(ws.Extension(ws.Config{Presence: []string{"room.*"}}))
	ws.Route(app, "/chat", ws.Behavior[Session]{
		Upgrade: func(c *graft.Ctx) (Session, error) {
			return Session{Name: c.Query("name")}, nil
		},
		Open: func(conn *ws.Conn[Session]) {
			conn.SetPresenceInfo(conn.Data().Name)
			members, err := conn.SubscribePresence("room.lobby")
			if err != nil {
				conn.Close(ws.StatusInternalError, err.Error())
				return
			}
			var names []string
			for _, m := range members {
				names = append(names, m.Info)
			}
			conn.Send([]byte("here: "+strings.Join(names, ",")), ws.OpText, false)
		},
		Presence: func(conn *ws.Conn[Session], ev ws.PresenceEvent) {
			conn.Send([]byte(ev.Kind.String()+" "+ev.Member.Info), ws.OpText, false)
		},
	})
	if err := app.Start(context.Background()); err != nil {
		panic(err)
	}
	ln, _ := app.Listen()
	go app.Serve(ln)

	ann := dialExample(ln.Addr().String(), "ann")
	fmt.Println("ann:", ann.next())
	bob := dialExample(ln.Addr().String(), "bob")
	fmt.Println("ann:", ann.next())
	n, _ := ws.NumClusterSubscribers(app, "room.lobby")
	fmt.Println("in the lobby:", n)
	bob.conn.WriteClose(1000, nil)
	bob.wait()
	fmt.Println("ann:", ann.next())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	app.Shutdown(ctx)
	ann.wait()
	// Output:
	// ann: here: ann
	// ann: join bob
	// in the lobby: 2
	// ann: leave bob
}
