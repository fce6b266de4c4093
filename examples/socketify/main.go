// Command socketify is the socketify.py extension example,
// written with graft: an extension that gives the request a GetUser method
// (reading the token header), a msgpack response method, a cart property
// with a fresh default per request, and a send_pm connection method for
// private messages over topics.
//
//	go run ./examples/socketify --port 8080 --req-res-factory-maxitems 256
//	curl localhost:8080/user -H 'token: x'                         # {"name":"Test"}
//	curl localhost:8080/user -H 'Accept: application/msgpack'      # msgpack
//	curl 'localhost:8080/cart?add=a&add=b'                         # ["a","b"]
//	websocat 'ws://localhost:8080/ws?username=alice'               # {"to":"bob","message":"hi"}
//	websocat 'ws://localhost:8080/ws?username=bob'                 # {"join":"alice"}, {"to":"alice","message":"hey"}
//	curl localhost:8080/asyncapi.json                              # the protocol below, as AsyncAPI 3.0
//
// Several processes act as one server, with no balancer in front, when
// they share a bus: alice on one, bob on the other, private messages go
// both ways, each exactly once and in order.
//
//	go run ./examples/socketify --port 8081 --nats nats://127.0.0.1:4222
//	go run ./examples/socketify --port 8082 --nats nats://127.0.0.1:4222
//	go run ./examples/socketify --port 8081 --redis redis://127.0.0.1:6379  # or Redis
//
// The WebSocket protocol: a client sends {"to":"NAME","message":"TEXT"}
// to message a user and receives {"type":"pm","username":"FROM","message":
// "TEXT"} for each message to it. The first messages from a user reach it
// on its signal topic; a client answers the first one with
// {"join":"FROM"} (or simply replies), which joins the conversation topic
// the two share, and the rest come through that topic.
package main

import (
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"reflect"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/msgpack"
	"github.com/graftgo/graft/openapi"
	"github.com/graftgo/graft/ws"
)

// User is what GetUser returns.
type User struct {
	Name string `json:"name" msgpack:"name"`
}

// UserGetter is the request-side mixin of the extension: socketify's
// @request.method get_user.
type UserGetter struct{ graft.Mixin }

// GetUser returns the user named by the token header: "Test" when a token
// is present, "Anonymous" otherwise.
func (g *UserGetter) GetUser() User {
	if g.Ctx().Header("token") != "" {
		return User{Name: "Test"}
	}
	return User{Name: "Anonymous"}
}

// Cart is socketify's request.property("cart", []): each request gets its
// own empty cart (socketify shares one default list between requests).
var Cart = graft.NewProperty("cart", func() []string { return []string{} })

// Ctx is the app's context: graft's Ctx plus the methods the extensions add.
type Ctx struct {
	graft.Ctx
	msgpack.Responder // c.Msgpack(v): socketify's @response.method msgpack
	UserGetter        // c.GetUser()
}

// users is the extension value that declares the user feature.
type users struct{}

func (users) ID() string { return "example.users" }

func (users) Extend(b *graft.Builder) error {
	b.Property(Cart)
	return nil
}

// Requires makes the msgpack extension a dependency of this one.
func (users) Requires() []string { return []string{msgpack.ID} }

// username is the connection property the private-message method reads:
// socketify's ws.property, on a connection.
var username = graft.NewProperty("ws.username", func() string { return "" })

// PMSender is the connection-side mixin of the extension: socketify's
// @ws.method send_pm, built on topic pub/sub.
type PMSender struct{ ws.ConnMixin }

// conversation returns the topic two users share: the same whichever of
// them asks (socketify's pm-TO+ME is not, so each side talked to a topic
// the other never joined).
func conversation(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return "pm-" + a + "+" + b
}

// member returns the topic a user's connections subscribe to beside a
// conversation, so that the other side can tell the user joined it. No
// message is ever published there.
func member(conv, user string) string { return conv + "#" + user }

// SendPM sends message to the user named to, as a PM. The sender joins
// the conversation topic; the message goes there once to has joined it
// too, and to to's signal topic (which every connection subscribes to)
// until then. Each message takes exactly one of the two ways, so it
// arrives once, and in order after the earlier ones.
func (m *PMSender) SendPM(to, message string) error {
	conn := m.Socket()
	me := username.Get(conn)
	conv := m.Join(to)
	pm, err := json.Marshal(PM{Type: "pm", Username: me, Message: message})
	if err != nil {
		return err
	}
	if conn.NumSubscribers(member(conv, to)) > 0 {
		return conn.Publish(conv, pm, ws.OpText)
	}
	return conn.Publish("signal-"+to, pm, ws.OpText)
}

// Join makes the connection a member of its conversation with the user
// named other, what a client asks for ({"join":"OTHER"}) when a signal
// from other arrives, and returns the conversation topic.
func (m *PMSender) Join(other string) string {
	conn := m.Socket()
	conv := conversation(username.Get(conn), other)
	conn.Subscribe(conv)
	conn.Subscribe(member(conv, username.Get(conn)))
	return conv
}

// PM is the signal a recipient gets.
type PM struct {
	Type     string `json:"type" doc:"always pm"`
	Username string `json:"username" required:"true" doc:"who sent it" example:"alice"`
	Message  string `json:"message" doc:"the text" example:"hi"`
}

// Session is the typed user data of a WebSocket connection; it embeds the
// PM mixin, so conn.Data().SendPM is a method.
type Session struct {
	PMSender
	Username string
}

// PMRequest is what a client sends to message a user.
type PMRequest struct {
	To      string `json:"to" required:"true" minLength:"1" pattern:"^[^+#]+$" doc:"the user to message" example:"bob"`
	Message string `json:"message" doc:"the text" example:"hi"`
}

// JoinRequest is what a client sends to join its conversation with the
// user whose first message reached it on its signal topic.
type JoinRequest struct {
	Join string `json:"join" required:"true" minLength:"1" pattern:"^[^+#]+$" doc:"the user who wrote" example:"alice"`
}

// incoming is what a client sends, decoded once: a PMRequest or a
// JoinRequest.
type incoming struct {
	PMRequest
	JoinRequest
}

// handshake is the upgrade request of /ws, for the AsyncAPI document.
type handshake struct {
	Username string `query:"username" required:"true" minLength:"1" pattern:"^[^+#]+$" doc:"the user's name, without + or #" example:"alice"`
}

// The messages of /ws, declared for its AsyncAPI document
// (/asyncapi.json).
var (
	pmRequest = ws.Message{Name: "pmRequest", Payload: reflect.TypeFor[PMRequest](), Summary: "Send a private message",
		Description: "The message reaches every connection of the user named `to`. A message that is neither this nor a join closes the connection with 1003."}
	joinRequest = ws.Message{Name: "joinRequest", Payload: reflect.TypeFor[JoinRequest](), Summary: "Join a conversation",
		Description: "Subscribes the connection to the conversation topic it shares with `join`, so that the rest of that user's messages come through it."}
	pmMessage = ws.Message{Name: "pm", Payload: reflect.TypeFor[PM](), Summary: "A private message to this user", Discriminator: "type"}
)

// validName reports whether name can be a user name: not empty, and
// without the separators of the conversation topics.
func validName(name string) bool { return name != "" && !strings.ContainsAny(name, "+#") }

func newApp(cfg graft.Config, wcfg ws.Config) *graft.App[Ctx] {
	app := graft.NewWithContext[Ctx](cfg)
	// Extensions are registered before routes, as in socketify; the
	// WebSocket settings (--ws-* flags) come with ws.Extension.
	// openapi serves /asyncapi.json, the WebSocket route's messages and
	// topics (and /openapi.json, which has no typed endpoint here).
	// cluster (--nats URL, --redis URL) gives the hub its broker.
	app.Register(msgpack.Extension(), users{}, ws.Extension(wcfg), &cluster{},
		openapi.Extension(openapi.Info{Title: "socketify example", Version: "1.0.0",
			Description: "Private messages between users over topics, socketify's send_pm."}))

	app.GET("/user", func(c *Ctx) error {
		user := c.GetUser()
		// JSON unless the client takes msgpack and not JSON: Accept:
		// application/msgpack, but not */* or application/msgpack;q=0.
		if c.Accepts(msgpack.MediaType) && !c.Accepts("application/json") {
			return c.Msgpack(user)
		}
		return c.JSON(http.StatusOK, user)
	})
	app.GET("/cart", func(c *Ctx) error {
		cart := Cart.Get(c)
		cart = append(cart, c.QueryValues()["add"]...)
		Cart.Set(c, cart)
		return c.JSON(http.StatusOK, Cart.Get(c))
	})
	ws.Route(app, "/ws", ws.Behavior[Session]{
		Description: "Private messages. Connect as `?username=NAME`; messages to NAME arrive on this connection.",
		Handshake:   reflect.TypeFor[handshake](),
		Receives:    []ws.Message{pmRequest, joinRequest},
		Sends:       []ws.Message{pmMessage},
		Topics: []ws.Topic{
			{Pattern: "signal-{username}", Description: "Every connection of a user subscribes to it; the first messages to the user arrive here."},
			{Pattern: "pm-{user1}+{user2}", Description: "The conversation of two users (names in byte order), which both join; the messages after the first arrive here."},
			{Pattern: "pm-{user1}+{user2}#{member}", Description: "Marks that `member` joined the conversation; nothing is published to it.", Messages: []ws.Message{}},
		},
		Upgrade: func(c *graft.Ctx) (Session, error) {
			name := c.Query("username")
			if !validName(name) {
				return Session{}, graft.NewError(http.StatusBadRequest, "pass ?username=NAME, a name without + or #")
			}
			return Session{Username: name}, nil
		},
		Open: func(conn *ws.Conn[Session]) {
			username.Set(conn, conn.Data().Username)
			// With --ws.presence 'signal-*' the signal topics tell every
			// node who is online, and as whom.
			conn.SetPresenceInfo(conn.Data().Username)
			conn.Subscribe("signal-" + conn.Data().Username)
		},
		Message: func(conn *ws.Conn[Session], data []byte, op ws.OpCode) {
			var in incoming
			err := json.Unmarshal(data, &in)
			switch {
			case err == nil && validName(in.Join) && in.To == "":
				conn.Data().Join(in.Join)
				return
			case err != nil || !validName(in.To):
				conn.Close(ws.StatusUnsupportedData, `send {"to":"NAME","message":"TEXT"} or {"join":"NAME"}`)
				return
			}
			err = conn.Data().SendPM(in.To, in.Message)
			if errors.Is(err, ws.ErrLocalOnly) {
				// Delivered on this node; the broker is down, so users on
				// other nodes missed it. Closing the sender would not help.
				app.Logger().Warn("pm reached this node only", "from", conn.Data().Username, "to", in.To, "err", err)
				return
			}
			if err != nil {
				conn.Close(ws.StatusInternalError, "sending failed")
			}
		},
	})
	return app
}

func main() {
	app := newApp(graft.Config{}, ws.Config{})
	if err := app.Run(); err != nil {
		log.Fatal(err)
	}
}
