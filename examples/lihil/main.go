// Command lihil is lihil's plugin system in graft: the bus plugin
// (plugins/bus) that injects a *bus.Bus into endpoints that declare one as
// a plugin param, and a plugin factory built after the lifespan start-up from a
// config value (the limit plugin's section: key limit.max-requests, flag
// --max-requests, env GRAFT_LIMIT_MAX_REQUESTS) and a resource a lifespan
// hook put in the dependency graph.
//
//	go run ./examples/lihil --port 8080 --max-requests 100
//	GRAFT_LIMIT_MAX_REQUESTS=100 go run ./examples/lihil --print-config
//	curl -X POST localhost:8080/users/7 -H 'Content-Type: application/json' -d '{"name":"Ada","email":"ada@example.com"}'
//	curl localhost:8080/events
//	curl localhost:8080/limits
//	curl localhost:8080/openapi.json   # or open localhost:8080/docs
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/openapi"
	"github.com/graftgo/graft/plugins/bus"
)

// UserCreated is published when a user is created.
type UserCreated struct {
	UserID string `json:"user_id" example:"7"`
	Name   string `json:"name" example:"Ada"`
}

// EventLog is a subscriber's record of the events it received.
type EventLog struct {
	mu     sync.Mutex
	events []UserCreated
}

// Add records an event.
func (l *EventLog) Add(e UserCreated) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// List returns the events received so far.
func (l *EventLog) List() []UserCreated {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]UserCreated{}, l.events...)
}

// CreateUserIn is the input of POST /users/{user_id}. Bus is a plugin
// param: never read from the request, filled by bus.Plugin.
type CreateUserIn struct {
	UserID string `path:"user_id" pattern:"^[0-9]+$" doc:"the new user's id" example:"7"`
	Body   struct {
		Name  string `json:"name" required:"true" minLength:"1" maxLength:"100" example:"Ada"`
		Email string `json:"email" format:"email" example:"ada@example.com"`
	}
	Bus *bus.Bus `plugin:""`
}

// CreateUserOut answers 201 with the created user.
type CreateUserOut struct {
	Status int `default:"201"`
	Body   UserCreated
}

func createUser(ctx context.Context, in *CreateUserIn) (*CreateUserOut, error) {
	ev := UserCreated{UserID: in.UserID, Name: in.Body.Name}
	if err := in.Bus.Publish(ctx, ev); err != nil {
		return nil, err
	}
	return &CreateUserOut{Body: ev}, nil
}

// EventsIn reads the subscriber's log from the graph.
type EventsIn struct {
	Log *EventLog `inject:""`
}

// EventsOut lists the events.
type EventsOut struct {
	Body []UserCreated
}

func listEvents(_ context.Context, in *EventsIn) (*EventsOut, error) {
	return &EventsOut{Body: in.Log.List()}, nil
}

// RequestCounter is a resource the lifespan hook creates and registers in
// the graph; the limit plugin counts requests with it.
type RequestCounter struct {
	Started time.Time
	n       atomic.Int64
}

// Limits is what the limit plugin was built with, injected into endpoints
// that ask for it as a plugin param.
type Limits struct {
	MaxRequests int       `json:"max_requests" example:"1000" doc:"the limit.max-requests config key (--max-requests)"`
	Served      int64     `json:"served" example:"12" doc:"typed requests served so far"`
	Since       time.Time `json:"since" example:"2026-12-01T10:00:00Z" doc:"when the app started"`
}

// LimitsIn asks the limit plugin for its settings.
type LimitsIn struct {
	Limits *Limits `plugin:""`
}

// LimitsOut shows them.
type LimitsOut struct {
	Body *Limits
}

func showLimits(_ context.Context, in *LimitsIn) (*LimitsOut, error) {
	return &LimitsOut{Body: in.Limits}, nil
}

// LimitConfig is the limit plugin's config section, [limit] in the TOML
// file. The zero value means the documented default.
type LimitConfig struct {
	// MaxRequests is how many typed requests are answered before 429;
	// default 1000.
	MaxRequests int `flag:"max-requests,limit.max-requests" help:"typed requests served before answering 429" default:"1000"`
}

// DefaultMaxRequests is LimitConfig.MaxRequests's default.
const DefaultMaxRequests = 1000

// limitPluginFactory is a plugin factory: graft calls it per endpoint after
// the lifespan hooks ran, so the config is loaded and the counter is in the
// graph. The plugin it builds answers 429 past cfg.MaxRequests typed
// requests and fills *Limits plugin params.
func limitPluginFactory(cfg *LimitConfig) graft.Plugin {
	return graft.NamedPlugin("limit", graft.PluginFactory(func(g *di.Graph, sig *graft.Signature) (graft.Plugin, error) {
		counter, err := di.Get[*RequestCounter](g)
		if err != nil {
			return nil, err
		}
		limit := cfg.MaxRequests
		if limit == 0 {
			limit = DefaultMaxRequests
		}
		if limit < 0 {
			return nil, fmt.Errorf("limit.max-requests (--max-requests) is %d; it must be positive", limit)
		}
		sig.AddReturn(graft.Return{Status: http.StatusTooManyRequests, MediaType: "application/problem+json", Encoder: "problem", Description: "over --max-requests"})
		return graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
			limits := graft.PluginField[*Limits](sig) // nil when the endpoint has no *Limits field
			return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
				n := counter.n.Add(1)
				if n > int64(limit) {
					return nil, graft.Errorf(http.StatusTooManyRequests, "this server answers %d requests; restart it with a higher --max-requests", limit)
				}
				if limits != nil {
					limits.Set(in, &Limits{MaxRequests: limit, Served: n, Since: counter.Started})
				}
				return next(ctx, c, in)
			}, nil
		}), nil
	}))
}

// newApp builds the app; args are its command-line arguments.
func newApp(args []string) (*graft.App[graft.Ctx], error) {
	app := graft.New(graft.Config{})
	// The OpenAPI document at /openapi.json (and .yaml, and 3.0 at
	// /openapi-3.0.json), the docs page at /docs: what the plugins add
	// (the 429) is in it, the plugin params are not.
	app.Register(openapi.Extension(openapi.Info{Title: "lihil seed", Version: "1.0.0", Description: "graft's rendering of lihil's plugin system."}))
	// The plugin's settings are a section of the app's config: file,
	// environment and flags fill it when ParseFlags loads the config.
	limitCfg := &LimitConfig{}
	if err := app.ConfigSection("limit", limitCfg); err != nil {
		return nil, err
	}
	if err := app.ParseFlags(args); err != nil {
		return nil, err
	}
	g := app.Graph()

	// The subscriber: it records every UserCreated it receives.
	eventLog := &EventLog{}
	di.Value(g, eventLog)
	term := bus.NewTerminal()
	bus.On(term, func(_ context.Context, g *di.Graph, e UserCreated) error {
		l, err := di.Get[*EventLog](g)
		if err != nil {
			return err
		}
		l.Add(e)
		return nil
	})

	// The lifespan hook creates a resource and registers it in the graph.
	app.OnLifecycle(graft.Hook{Name: "request-counter", OnStart: func(context.Context) error {
		di.Value(g, &RequestCounter{Started: time.Now().UTC()})
		return nil
	}})

	// App-level plugin factory, then the bus plugin on the users group.
	app.UsePlugins(limitPluginFactory(limitCfg))
	users := app.Group("/users", graft.Plugins(bus.Plugin(term)), graft.Tags("users"))
	graft.Post(users, "/{user_id}", createUser, graft.Summary("Create a user"), graft.OperationID("createUser"),
		graft.Description("Publishes a UserCreated event on the bus; the subscriber records it."))
	graft.Get(app, "/events", listEvents, graft.Summary("List the events the subscriber received"), graft.Tags("events"), graft.OperationID("listEvents"))
	graft.Get(app, "/limits", showLimits, graft.Summary("Show the limit plugin's settings"), graft.Tags("limits"), graft.OperationID("showLimits"))
	return app, nil
}

func main() {
	app, err := newApp(nil)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	if err := app.Run(); err != nil {
		log.Fatal(err)
	}
}
