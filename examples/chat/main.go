// Command chat is graft's showcase: a real-time chat server that uses
// every part of the framework. With no setup it serves on :8080 with an
// SQLite file chat.db, an in-memory bus and history:
//
//	go run ./examples/chat
//	open http://localhost:8080/        # the chat page
//
// The page (web/index.html and web/chat.js, embedded: plain JavaScript,
// no build step, the protocol below from a browser) signs up or logs in,
// keeps the token in localStorage, joins a room, shows its members, who is
// typing, room and private messages and the connection's state; after a
// dropped connection it reconnects with backoff and resumes the room from
// the last message it showed, so none is lost or doubled (web_test.go
// drives two pages in headless Chromium).
//
// Several nodes share the database and a bus:
//
//	go run ./examples/chat --port 8081 --nats nats://127.0.0.1:4222
//	go run ./examples/chat --port 8082 --nats nats://127.0.0.1:4222
//
// (or --redis redis://127.0.0.1:6379). A load test (loadtest.go) runs the
// chat in-process, one node or two over an embedded nats-server, on
// loopback, and reports messages/s, p50/p99 latency and any message lost
// or doubled:
//
//	go run ./examples/chat loadtest -clients 40 -rooms 4 -rate 100 -duration 10s -nodes 2
//
// Its figures are in docs/benchmarks.md ("Chat load test"). A soak
// (soak.go) runs mixed HTTP and WebSocket traffic for up to 2 minutes and
// checks that goroutines and heap come back to their baseline
// (docs/reliability.md, Soak):
//
//	go run ./examples/chat soak -duration 60s
//
// Every flag is also a config key
// (--config FILE, GRAFT_… variables): --help lists them with their env
// names, --print-config shows where each value came from.
//
// HTTP API (documented at /openapi.json and /docs):
//
//	POST /users   {"username":"alice","password":"…"}  → 201 {"username":"alice","token":"JWT"}; 409 taken; 422 invalid
//	POST /login   {"username":"alice","password":"…"}  → 200 {"username":"alice","token":"JWT"}; 401
//	GET  /me      → {"name":"alice"} with Authorization: Bearer JWT, {"name":"Anonymous"} without (msgpack on Accept: application/msgpack)
//	GET  /rooms   → [{"name":"lobby","members":2}], members counted on every node
//	GET  /rooms/{room}/messages?limit=50&before=ID → stored messages, oldest first (Bearer token)
//	GET  /healthz, /readyz, /metrics, /openapi.json, /openapi.yaml, /asyncapi.json, /docs
//
// WebSocket /ws?token=JWT (documented at /asyncapi.json), JSON text
// messages with a "type":
//
//	→ {"type":"join","room":"r"}              ← {"type":"joined","room":"r","epoch":"…","offset":N,"members":[…]}
//	→ {"type":"leave","room":"r"}             ← {"type":"left","room":"r"}
//	                                          ← others: {"type":"presence","room":"r","user":"alice","event":"join"|"leave"}
//	→ {"type":"say","room":"r","text":"hi"}   ← every member: {"type":"message","offset":N,"id":N,"room":"r","from":"alice","text":"hi","ts":"…"}
//	→ {"type":"typing","room":"r"}            ← others: {"type":"typing","room":"r","user":"alice"}
//	→ {"type":"pm","to":"bob","message":"hi"} ← bob, on any node: {"type":"pm","from":"alice","message":"hi"}
//	→ {"type":"resume","room":"r","epoch":"…","offset":N}
//	                                          ← every message after N, in order, then {"type":"resumed","room":"r"},
//	                                            or {"type":"reload","room":"r",…} when the history cannot continue from N
//
// A message that is not JSON or of an unknown type answers
// {"type":"error","error":"…"} and the connection stays open; more than
// 10 messages a second after a burst of 20 answer "rate limited", and 50
// of those in a row close the connection with 1008. A frame over 16 KiB
// closes it with 1009, invalid UTF-8 with 1007; SIGTERM closes every
// connection with 1001.
package main

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/ext/healthcheck"
	"github.com/graftgo/graft/ext/msgpack"
	"github.com/graftgo/graft/ext/sqlite"
	"github.com/graftgo/graft/openapi"
	graftjwt "github.com/graftgo/graft/plugins/auth/jwt"
	"github.com/graftgo/graft/plugins/logging"
	"github.com/graftgo/graft/plugins/metrics"
	"github.com/graftgo/graft/plugins/ratelimit"
	"github.com/graftgo/graft/plugins/tracing"
	"github.com/graftgo/graft/ws"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed web
var webFiles embed.FS

// Ctx is the chat's request context: socketify's get_user request method
// and msgpack response method, and the database mixin.
type Ctx struct {
	graft.Ctx
	UserGetter        // c.GetUser()
	msgpack.Responder // c.Msgpack(v)
	sqlite.Access     // c.DB()
}

// Credentials is the body of POST /users and POST /login.
type Credentials struct {
	Username string `json:"username" required:"true" pattern:"^[a-z0-9_]{3,32}$" doc:"3 to 32 of a-z, 0-9 and _" example:"alice"`
	Password string `json:"password" required:"true" minLength:"8" maxLength:"256" doc:"at least 8 characters" example:"correct horse"`
}

// Session is what sign-up and login answer.
type TokenOut struct {
	Username string `json:"username" example:"alice"`
	Token    string `json:"token" doc:"a bearer token for the API and ?token= of /ws, valid 24 h"`
}

type signupIn struct{ Body Credentials }

type signupOut struct {
	Status int `default:"201"`
	Body   TokenOut
}

type loginIn struct{ Body Credentials }

type loginOut struct{ Body TokenOut }

// RoomInfo is one room of GET /rooms.
type RoomInfo struct {
	Name    string `json:"name" example:"lobby"`
	Members int    `json:"members" doc:"connections in the room, on every node" example:"2"`
}

type roomsOut struct{ Body []RoomInfo }

type messagesIn struct {
	Claims *Claims `plugin:""`
	Room   string  `path:"room" pattern:"^[a-z0-9_-]{1,32}$"`
	Limit  int     `query:"limit" default:"50" min:"1" max:"200" doc:"how many messages"`
	Before int64   `query:"before" min:"0" doc:"only messages with a smaller id (0: the latest)"`
}

type messagesOut struct{ Body []Message }

// newApp builds the chat; the database file, the bus and the token key
// come from the [chat] section (--db, --nats, --redis, --jwt-key).
func newApp(cfg graft.Config) *graft.App[Ctx] {
	app, _ := newChat(cfg)
	return app
}

// newChat is newApp that also returns the chat extension (for tests).
func newChat(cfg graft.Config) (*graft.App[Ctx], *chatExt) {
	app := graft.NewWithContext[Ctx](cfg)
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	db := sqlite.Extension(sqlite.Options{Migrations: migrations})
	tokens := &keys{}
	traces := &lateProvider{}
	chat := &chatExt{db: db, keys: tokens, traces: traces}
	app.Register(
		db, ws.Extension(wsConfig()), chat,
		msgpack.Extension(),
		healthcheck.Extension(healthcheck.Options{}),
		logging.New(logging.Config{}),
		metrics.New(metrics.Config{WebSocket: true}),
		tracing.New(tracing.Config{TracerProvider: traces, WebSocket: true}),
		openapi.Extension(openapi.Info{Title: "graft chat", Version: "1.0.0",
			Description: "The graft showcase: sign up, log in, and chat in rooms over a WebSocket (/asyncapi.json)."}),
	)
	st := func() store { return store{db.DB()} }
	// Sign-ups and logins per client address: one limiter for both, made
	// at start-up once [chat] is loaded.
	var authLimit graft.Plugin
	var once sync.Once
	limited := graft.PluginFactory(func(*di.Graph, *graft.Signature) (graft.Plugin, error) {
		once.Do(func() {
			n := chat.cfg.authRate()
			authLimit = ratelimit.New(ratelimit.Config{
				Policy: ratelimit.Policy{Name: "auth", Algorithm: ratelimit.GCRA, Limit: n, Window: time.Minute, Burst: n},
				Key:    ratelimit.IP(ratelimit.IPConfig{}),
			})
		})
		return authLimit, nil
	})
	auth := graftjwt.New[Claims](graftjwt.Config{Algorithms: []string{"HS256"}, Keyfunc: tokens.keyfunc, Issuer: tokenIssuer, Audience: tokenIssuer})

	graft.Post(app, "/users", func(ctx context.Context, in *signupIn) (*signupOut, error) {
		hash, err := hashPassword(in.Body.Password)
		if err != nil {
			return nil, err
		}
		if err := st().createUser(ctx, in.Body.Username, hash); err != nil {
			if errors.Is(err, errTaken) {
				return nil, graft.NewError(http.StatusConflict, "username "+in.Body.Username+" is taken")
			}
			return nil, err
		}
		tok, err := tokens.issue(in.Body.Username)
		if err != nil {
			return nil, err
		}
		return &signupOut{Status: http.StatusCreated, Body: TokenOut{Username: in.Body.Username, Token: tok}}, nil
	}, graft.Summary("Sign up"), graft.Tags("users"), graft.Plugins(limited))

	graft.Post(app, "/login", func(ctx context.Context, in *loginIn) (*loginOut, error) {
		bad := graft.NewError(http.StatusUnauthorized, "wrong username or password")
		hash, err := st().userHash(ctx, in.Body.Username)
		if err != nil {
			return nil, bad
		}
		if ok, err := checkPassword(hash, in.Body.Password); err != nil || !ok {
			return nil, bad
		}
		tok, err := tokens.issue(in.Body.Username)
		if err != nil {
			return nil, err
		}
		return &loginOut{Body: TokenOut{Username: in.Body.Username, Token: tok}}, nil
	}, graft.Summary("Log in: a fresh token"), graft.Tags("users"), graft.Plugins(limited))

	app.GET("/me", func(c *Ctx) error {
		user := c.GetUser()
		if c.Accepts(msgpack.MediaType) && !c.Accepts("application/json") {
			return c.Msgpack(user)
		}
		return c.JSON(http.StatusOK, user)
	})

	hub := ws.HubOf(app)
	graft.Get(app, "/rooms", func(ctx context.Context, _ *struct{}) (*roomsOut, error) {
		names, err := st().rooms(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]RoomInfo, 0, len(names))
		for _, n := range names {
			count, err := hub.NumClusterSubscribers(roomTopic(n))
			if err != nil {
				return nil, err
			}
			out = append(out, RoomInfo{Name: n, Members: count})
		}
		return &roomsOut{Body: out}, nil
	}, graft.Summary("Rooms, with their members on every node"), graft.Tags("rooms"))

	graft.Get(app, "/rooms/{room}/messages", func(ctx context.Context, in *messagesIn) (*messagesOut, error) {
		ms, err := st().messages(ctx, in.Room, in.Limit, in.Before)
		if err != nil {
			return nil, err
		}
		return &messagesOut{Body: ms}, nil
	}, graft.Summary("A room's stored messages, oldest first"), graft.Tags("rooms"), graft.Plugins(auth))

	page, err := fs.ReadFile(webFiles, "web/index.html")
	if err != nil {
		panic(err)
	}
	script, err := fs.ReadFile(webFiles, "web/chat.js")
	if err != nil {
		panic(err)
	}
	app.GET("/", func(c *Ctx) error { return c.Bytes(http.StatusOK, "text/html; charset=utf-8", page) })
	app.GET("/chat.js", func(c *Ctx) error { return c.Bytes(http.StatusOK, "text/javascript; charset=utf-8", script) })

	ws.Route(app, "/ws", chatWS(st, tokens, app.Logger))
	return app, chat
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "loadtest" { // loadtest.go
		if err := loadMain(os.Args[2:]); err != nil {
			log.Fatal(err)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "soak" { // soak.go
		if err := soakMain(os.Args[2:]); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := newApp(graft.Config{}).Run(); err != nil {
		log.Fatal(err)
	}
}
