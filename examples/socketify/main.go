// Command socketify is the socketify.py extension example of seed 000,
// written with graft: an extension that gives the request a GetUser method
// (reading the token header), a msgpack response method, and a cart
// property with a fresh default per request.
//
//	go run ./examples/socketify --port 8080 --req-res-factory-maxitems 256
//	curl localhost:8080/user -H 'token: x'          # {"name":"Test"}
//	curl 'localhost:8080/cart?add=a&add=b'          # ["a","b"]
//	websocat 'ws://localhost:8080/ws?username=alice' # {"to":"bob","message":"hi"}
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/msgpack"
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
type PMSender struct{ graft.ConnMixin }

// SendPM sends message to the user named to. If to already joined the
// conversation topic the message goes there; otherwise the sender joins it
// and signals to on signal-TO, which every connection subscribes to.
func (m *PMSender) SendPM(to, message string) error {
	ws := m.Socket()
	me := username.Get(ws)
	pmTopic := "pm-" + to + "+" + me
	if ws.NumSubscribers(pmTopic) > 0 {
		return ws.Publish(pmTopic, []byte(message), graft.OpText)
	}
	ws.Subscribe(pmTopic)
	signal, err := json.Marshal(PM{Type: "pm", Username: me, Message: message})
	if err != nil {
		return err
	}
	return ws.Publish("signal-"+to, signal, graft.OpText)
}

// PM is the signal a recipient gets.
type PM struct {
	Type     string `json:"type"`
	Username string `json:"username"`
	Message  string `json:"message"`
}

// Session is the typed user data of a WebSocket connection; it embeds the
// PM mixin, so ws.Data().SendPM is a method.
type Session struct {
	PMSender
	Username string
}

// incoming is what a client sends.
type incoming struct {
	To      string `json:"to"`
	Message string `json:"message"`
}

func newApp(cfg graft.Config) *graft.App[Ctx] {
	app := graft.New[Ctx](cfg)
	// Extensions are registered before routes, as in socketify.
	app.Register(msgpack.Extension(), users{})

	app.GET("/user", func(c *Ctx) error {
		user := c.GetUser()
		if strings.Contains(c.Header("Accept"), msgpack.MediaType) {
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
	graft.WebSocket(app, "/ws", graft.Behavior[Session]{
		Upgrade: func(c *graft.Ctx) (Session, error) {
			name := c.Query("username")
			if name == "" {
				return Session{}, graft.NewError(http.StatusBadRequest, "pass ?username=NAME")
			}
			return Session{Username: name}, nil
		},
		Open: func(ws *graft.Conn[Session]) {
			username.Set(ws, ws.Data().Username)
			ws.Subscribe("signal-" + ws.Data().Username)
		},
		Message: func(ws *graft.Conn[Session], data []byte, op graft.OpCode) {
			var in incoming
			if err := json.Unmarshal(data, &in); err != nil || in.To == "" {
				ws.Close(graft.CloseUnsupportedData, `send {"to":"NAME","message":"TEXT"}`)
				return
			}
			if err := ws.Data().SendPM(in.To, in.Message); err != nil {
				ws.Close(graft.CloseInternalError, "sending failed")
			}
		},
	})
	return app
}

func main() {
	app := newApp(graft.Config{})
	if err := app.Run(); err != nil {
		log.Fatal(err)
	}
}
