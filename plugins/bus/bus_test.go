package bus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/bus"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type UserCreated struct{ ID string }

type Named interface{ Name() string }

func (u UserCreated) Name() string { return "user " + u.ID }

type createIn struct {
	ID  string   `path:"id"`
	Bus *bus.Bus `plugin:""`
}

type createOut struct {
	Status int `default:"201"`
	Body   struct {
		ID string `json:"id"`
	}
}

type plainIn struct {
	ID string `path:"id"`
}

type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) add(s string) { r.mu.Lock(); r.got = append(r.got, s); r.mu.Unlock() }
func (r *recorder) all() string  { r.mu.Lock(); defer r.mu.Unlock(); return strings.Join(r.got, "; ") }

func newApp(term *bus.Terminal) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	app.UsePlugins(bus.Plugin(term))
	graft.Post(app, "/users/{id}", func(ctx context.Context, in *createIn) (*createOut, error) {
		if err := in.Bus.Publish(ctx, UserCreated{ID: in.ID}); err != nil {
			return nil, err
		}
		out := &createOut{}
		out.Body.ID = in.ID
		return out, nil
	})
	graft.Get(app, "/users/{id}", func(_ context.Context, in *plainIn) (*createOut, error) { return &createOut{}, nil })
	return app
}

// TestPublish: an endpoint with a *bus.Bus field publishes over a real
// listener; typed, interface and untyped subscribers get the event in
// subscription order, with the app's graph.
func TestPublish(t *testing.T) {
	rec := &recorder{}
	term := bus.NewTerminal()
	bus.On(term, func(_ context.Context, g *di.Graph, e UserCreated) error {
		r, err := di.Get[*recorder](g)
		if err != nil {
			return err
		}
		r.add("typed " + e.ID)
		return nil
	})
	bus.On(term, func(_ context.Context, _ *di.Graph, e Named) error { rec.add("named " + e.Name()); return nil })
	bus.On(term, func(context.Context, *di.Graph, int) error { rec.add("int"); return nil })
	term.Subscribe(func(_ context.Context, _ *di.Graph, e any) error { rec.add(fmt.Sprintf("any %T", e)); return nil })
	app := newApp(term)
	di.Value(app.Graph(), rec)
	srv := graftest.Start(t, app)

	var out struct{ ID string }
	srv.Post("/users/7", "application/json", "").WantStatus(201).JSON(&out)
	graftest.Equal(t, out.ID, "7")
	graftest.Equal(t, rec.all(), "typed 7; named user 7; any bus_test.UserCreated")
	srv.Get("/users/7").WantStatus(201)
	graftest.Equal(t, rec.all(), "typed 7; named user 7; any bus_test.UserCreated")
}

// TestSubscriberFailure: a subscriber's error stops delivery and reaches
// the handler (a 500 problem here); a panicking subscriber is an error
// naming the event type, and the server goes on.
func TestSubscriberFailure(t *testing.T) {
	rec := &recorder{}
	term := bus.NewTerminal()
	fail := errors.New("mailer down")
	term.Subscribe(func(_ context.Context, _ *di.Graph, e any) error {
		if e.(UserCreated).ID == "err" {
			return fail
		}
		if e.(UserCreated).ID == "panic" {
			panic("boom")
		}
		return nil
	})
	term.Subscribe(func(_ context.Context, _ *di.Graph, e any) error { rec.add(e.(UserCreated).ID); return nil })
	srv := graftest.Start(t, newApp(term))
	srv.Post("/users/err", "application/json", "").WantStatus(500).Problem()
	srv.Post("/users/panic", "application/json", "").WantStatus(500).Problem()
	srv.Post("/users/ok", "application/json", "").WantStatus(201)
	graftest.Equal(t, rec.all(), "ok")

	b := term.NewBus(nil)
	err := b.Publish(context.Background(), UserCreated{ID: "panic"})
	if err == nil || !strings.Contains(err.Error(), "bus_test.UserCreated") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic: %v", err)
	}
	if err := b.Publish(context.Background(), UserCreated{ID: "err"}); !errors.Is(err, fail) {
		t.Fatalf("error: %v, want %v", err, fail)
	}
}

// TestConcurrentSubscribe: subscribing while requests publish is safe
// (run with -race) and later publishes reach the new subscriber.
func TestConcurrentSubscribe(t *testing.T) {
	term := bus.NewTerminal()
	b := term.NewBus(nil)
	var n sync.WaitGroup
	var mu sync.Mutex
	count := 0
	for range 4 {
		n.Go(func() {
			for range 200 {
				b.Publish(context.Background(), 1)
			}
		})
	}
	for range 50 {
		bus.On(term, func(context.Context, *di.Graph, int) error { mu.Lock(); count++; mu.Unlock(); return nil })
	}
	n.Wait()
	mu.Lock()
	count = 0
	mu.Unlock()
	b.Publish(context.Background(), 1)
	if count != 50 {
		t.Fatalf("one publish reached %d subscribers, want 50", count)
	}
}

// TestNilTerminal: a plugin without a terminal stops start-up naming the
// endpoint and the plugin.
func TestNilTerminal(t *testing.T) {
	msg := graftest.StartError(t, newApp(nil))
	for _, want := range []string{"POST /users/{id}", "plugin bus", "bus.NewTerminal"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// TestUntouchedEndpoint: an endpoint without the field is served as
// without the plugin (same allocations); the one with it costs one more,
// the handler's event boxed into Publish's any: the plugin and the
// delivery add none.
func TestUntouchedEndpoint(t *testing.T) {
	with := newApp(bus.NewTerminal())
	bare := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	graft.Get(bare, "/users/{id}", func(_ context.Context, in *plainIn) (*createOut, error) { return &createOut{}, nil })
	for _, a := range []*graft.App[graft.Ctx]{with, bare} {
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer a.Stop(context.Background())
	}
	allocs := func(app *graft.App[graft.Ctx], method string) float64 {
		req := httptest.NewRequest(method, "/users/7", nil)
		w := graftest.NewDiscard()
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	base := allocs(bare, "GET")
	graftest.Equal(t, allocs(with, "GET"), base)
	graftest.Equal(t, allocs(with, "POST"), base+1)
}
