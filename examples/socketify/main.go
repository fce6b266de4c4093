// Command socketify is the socketify.py extension example of seed 000,
// written with graft: an extension that gives the request a GetUser method
// (reading the token header), a msgpack response method, and a cart
// property with a fresh default per request.
//
//	go run ./examples/socketify --port 8080 --req-res-factory-maxitems 256
//	curl localhost:8080/user -H 'token: x'          # {"name":"Test"}
//	curl 'localhost:8080/cart?add=a&add=b'          # ["a","b"]
package main

import (
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
	return app
}

func main() {
	app := newApp(graft.Config{})
	if err := app.Run(); err != nil {
		log.Fatal(err)
	}
}
