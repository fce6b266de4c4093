// Command step3 is step 3 of docs/tutorial.md: a WebSocket room. Each
// connection (/ws?user=NAME) joins the room "lobby"; what it sends, as
// text, goes to every other member as {"from":NAME,"text":…}, and members see
// who joins and leaves as {"presence":"join"|"leave","user":NAME}.
//
//	go run ./docs/tutorial/step3 --port 8080
//	websocat 'ws://localhost:8080/ws?user=alice'
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"regexp"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ws"
)

// Session is a connection's data: its user.
type Session struct{ User string }

// Say is a room message as members receive it.
type Say struct {
	From string `json:"from"`
	Text string `json:"text"`
}

// PresenceOut tells a member who joined or left.
type PresenceOut struct {
	Presence string `json:"presence"`
	User     string `json:"user"`
}

const room = "room.lobby"

var userName = regexp.MustCompile(`^[a-z0-9_]{3,32}$`)

// newApp builds the app; main runs it and the test serves it.
func newApp() *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{})
	app.Register(ws.Extension(ws.Config{Presence: []string{"room.*"}}))
	ws.Route(app, "/ws", ws.Behavior[Session]{
		Upgrade: func(c *graft.Ctx) (Session, error) {
			if u := c.Query("user"); userName.MatchString(u) {
				return Session{User: u}, nil
			}
			return Session{}, graft.NewError(http.StatusBadRequest, "pass ?user=NAME, 3 to 32 of a-z, 0-9 and _")
		},
		Open: func(conn *ws.Conn[Session]) {
			if err := conn.SetPresenceInfo(conn.Data().User); err != nil {
				conn.Close(ws.StatusInternalError, "presence")
				return
			}
			if _, err := conn.SubscribePresence(room); err != nil {
				conn.Close(ws.StatusInternalError, "presence")
				return
			}
			conn.Subscribe(room)
		},
		Presence: func(conn *ws.Conn[Session], ev ws.PresenceEvent) {
			kind := "join"
			if ev.Kind == ws.PresenceLeave {
				kind = "leave"
			}
			b, _ := json.Marshal(PresenceOut{Presence: kind, User: ev.Member.Info})
			conn.Send(b, ws.OpText, false)
		},
		Message: func(conn *ws.Conn[Session], data []byte, op ws.OpCode) {
			b, _ := json.Marshal(Say{From: conn.Data().User, Text: string(data)})
			if err := conn.Publish(room, b, ws.OpText); err != nil {
				conn.Close(ws.StatusInternalError, "not delivered")
			}
		},
	})
	return app
}

func main() {
	if err := newApp().Run(); err != nil {
		log.Fatal(err)
	}
}
