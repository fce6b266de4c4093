// Command step1 is step 1 of docs/tutorial.md: a typed endpoint. POST
// /users binds and validates its JSON body; a bad one answers 422 with
// RFC 9457 problem+json naming the field.
//
//	go run ./docs/tutorial/step1 --port 8080
//	curl -d '{"username":"alice","password":"correct horse"}' localhost:8080/users  # 201
//	curl -d '{"username":"A!","password":"x"}' localhost:8080/users               # 422
package main

import (
	"context"
	"log"
	"net/http"

	"github.com/graftgo/graft"
)

// Credentials is the body of POST /users.
type Credentials struct {
	Username string `json:"username" required:"true" pattern:"^[a-z0-9_]{3,32}$" doc:"3 to 32 of a-z, 0-9 and _"`
	Password string `json:"password" required:"true" minLength:"8" doc:"at least 8 characters"`
}

// UserOut is what POST /users answers.
type UserOut struct {
	Username string `json:"username"`
}

type signupIn struct{ Body Credentials }

type signupOut struct {
	Status int `default:"201"`
	Body   UserOut
}

// newApp builds the app; main runs it and the test serves it.
func newApp() *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{})
	graft.Post(app, "/users", func(_ context.Context, in *signupIn) (*signupOut, error) {
		return &signupOut{Status: http.StatusCreated, Body: UserOut{Username: in.Body.Username}}, nil
	})
	return app
}

func main() {
	if err := newApp().Run(); err != nil {
		log.Fatal(err)
	}
}
