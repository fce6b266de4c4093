// Command step2 is step 2 of docs/tutorial.md: step 1 plus an extension.
// The extension gives every request a GetUser method (the user named by
// the token that POST /users issued) and a property, a per-request visit
// count that starts at 0 for every request.
//
//	go run ./docs/tutorial/step2 --port 8080
//	curl -d '{"username":"alice","password":"correct horse"}' localhost:8080/users  # {"username":"alice","token":"…"}
//	curl localhost:8080/me -H 'Authorization: Bearer …'                           # {"name":"alice","visits":1}
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log"
	"net/http"
	"strings"
	"sync"

	"github.com/graftgo/graft"
)

// Credentials is the body of POST /users.
type Credentials struct {
	Username string `json:"username" required:"true" pattern:"^[a-z0-9_]{3,32}$" doc:"3 to 32 of a-z, 0-9 and _"`
	Password string `json:"password" required:"true" minLength:"8" doc:"at least 8 characters"`
}

// TokenOut is what POST /users answers.
type TokenOut struct {
	Username string `json:"username"`
	Token    string `json:"token"`
}

type signupIn struct{ Body Credentials }

type signupOut struct {
	Status int `default:"201"`
	Body   TokenOut
}

// tokens maps the tokens issued to their users (in memory, for the
// tutorial: the chat signs JWTs).
type tokens struct {
	mu   sync.Mutex
	user map[string]string
}

func (t *tokens) issue(user string) string {
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	t.mu.Lock()
	t.user[tok] = user
	t.mu.Unlock()
	return tok
}

func (t *tokens) lookup(tok string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.user[tok]
}

var issued = &tokens{user: map[string]string{}}

// UserGetter is the extension's request mixin: c.GetUser().
type UserGetter struct{ graft.Mixin }

// GetUser returns the user of the request's bearer token, or "Anonymous".
func (g *UserGetter) GetUser() string {
	tok, ok := strings.CutPrefix(g.Ctx().Header("Authorization"), "Bearer ")
	if u := issued.lookup(tok); ok && u != "" {
		return u
	}
	return "Anonymous"
}

// Visits is the extension's request property: a fresh 0 on every request.
var Visits = graft.NewProperty("visits", func() int { return 0 })

// users is the extension: it declares the property.
type users struct{}

func (users) ID() string { return "tutorial.users" }

func (users) Extend(b *graft.Builder) error {
	b.Property(Visits)
	return nil
}

// Ctx is the app's context: graft's plus the extension's method.
type Ctx struct {
	graft.Ctx
	UserGetter
}

// newApp builds the app; main runs it and the test serves it.
func newApp() *graft.App[Ctx] {
	app := graft.NewWithContext[Ctx](graft.Config{})
	app.Register(users{})
	graft.Post(app, "/users", func(_ context.Context, in *signupIn) (*signupOut, error) {
		return &signupOut{Status: http.StatusCreated, Body: TokenOut{Username: in.Body.Username, Token: issued.issue(in.Body.Username)}}, nil
	})
	app.GET("/me", func(c *Ctx) error {
		Visits.Set(c, Visits.Get(c)+1) // never more than 1: each request starts at 0
		return c.JSON(http.StatusOK, map[string]any{"name": c.GetUser(), "visits": Visits.Get(c)})
	})
	return app
}

func main() {
	if err := newApp().Run(); err != nil {
		log.Fatal(err)
	}
}
