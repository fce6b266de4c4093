package ws

import (
	"encoding/json"
	"testing"

	"github.com/graftgo/graft"
)

// The WebSocket half of socketify's extension example: an
// extension adds a send_pm method to connections, built on topics. In Go
// the method comes from a connection mixin embedded in the user data type,
// and the sender's name from a property on the connection.

// wsUsername is the connection property the PM extension reads.
var wsUsername = graft.NewProperty("ws-username", func() string { return "" })

// wsPM is the extension's connection mixin: socketify's @ws.method.
type wsPM struct{ ConnMixin }

// SendPM sends a private message: on the conversation topic the two users
// share once the recipient joined it, else on the recipient's signal-NAME
// topic, which every connection subscribes to. The sender joins the
// conversation; so does the recipient when it replies. (examples/socketify
// has the full protocol, with explicit joins.)
func (m *wsPM) SendPM(to, message string) error {
	ws := m.Socket()
	me := wsUsername.Get(ws)
	lo, hi := min(me, to), max(me, to)
	conv := "pm-" + lo + "+" + hi
	ws.Subscribe(conv)
	ws.Subscribe(conv + "#" + me)
	signal, err := json.Marshal(struct {
		Type     string `json:"type"`
		Username string `json:"username"`
		Message  string `json:"message"`
	}{"pm", me, message})
	if err != nil {
		return err
	}
	if ws.NumSubscribers(conv+"#"+to) > 0 {
		return ws.Publish(conv, signal, OpText)
	}
	return ws.Publish("signal-"+to, signal, OpText)
}

// wsChatUser is the app's user data type: it embeds the mixin.
type wsChatUser struct {
	wsPM
	Name string
}

func TestWSSocketifySendPM(t *testing.T) {
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/ws", Behavior[wsChatUser]{
			Upgrade: func(c *graft.Ctx) (wsChatUser, error) {
				return wsChatUser{Name: c.Query("username")}, nil
			},
			Open: func(ws *Conn[wsChatUser]) {
				wsUsername.Set(ws, ws.Data().Name)
				ws.Subscribe("signal-" + ws.Data().Name)
				ws.Send([]byte("ready"), OpText, false)
			},
			Message: func(ws *Conn[wsChatUser], data []byte, op OpCode) {
				var pm struct{ To, Message string }
				if err := json.Unmarshal(data, &pm); err != nil {
					ws.Close(StatusUnsupportedData, "send JSON")
					return
				}
				if err := ws.Data().SendPM(pm.To, pm.Message); err != nil {
					ws.Close(StatusInternalError, err.Error())
				}
			},
		})
	})
	bob := wsDial(t, app.Addr(), "/ws?username=bob")
	bob.expectMessage(1, []byte("ready"))
	alice := wsDial(t, app.Addr(), "/ws?username=alice")
	alice.expectMessage(1, []byte("ready"))

	alice.writeFrame(wsTextFrame(`{"to":"bob","message":"hi"}`))
	bob.expectMessage(1, []byte(`{"type":"pm","username":"alice","message":"hi"}`))
	if n := NumSubscribers(app, "pm-alice+bob"); n != 1 {
		t.Fatalf("alice did not join the conversation topic: %d subscribers", n)
	}
	// Every later message arrives too, once, whichever side writes.
	type pm struct {
		from, to         *wsRawClient
		fromName, toName string
		text             string
	}
	for _, m := range []pm{
		{bob, alice, "bob", "alice", "hey"},
		{alice, bob, "alice", "bob", "how are you"},
		{bob, alice, "bob", "alice", "fine"},
		{alice, bob, "alice", "bob", "bye"},
	} {
		m.from.writeFrame(wsTextFrame(`{"to":"` + m.toName + `","message":"` + m.text + `"}`))
		m.to.expectMessage(1, []byte(`{"type":"pm","username":"`+m.fromName+`","message":"`+m.text+`"}`))
	}
	if n := NumSubscribers(app, "pm-alice+bob"); n != 2 {
		t.Fatalf("the conversation topic has %d subscribers, want both", n)
	}
	for _, c := range []*wsRawClient{alice, bob} {
		c.writeFrame(wsCloseFrame(1000, ""))
		c.expectClose(1000) // nothing (no duplicate) before the close
	}
}
