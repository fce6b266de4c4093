package graft

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/graftgo/graft/di"
)

type startPool struct{ open bool }

// A start-up that fails after endpoints resolved singletons closes the
// graph: the singletons' cleanups run, before the stop hooks of what had
// started (the order Stop uses).
func TestFailedStartClosesGraph(t *testing.T) {
	failures := []struct {
		name, want string
		setup      func(app *App[Ctx], log *cleanupLog)
	}{
		{"plugin Apply", "plugin failing: no signing key", func(app *App[Ctx], _ *cleanupLog) {
			// Routes assemble in registration order: /a resolves the
			// singleton, then /b's plugin fails.
			Get(app, "/b", func(context.Context, *struct{}) (*struct{}, error) { return nil, nil },
				Plugins(NamedPlugin("failing", PluginFunc(func(*di.Graph, Endpoint, *Signature) (Endpoint, error) {
					return nil, errors.New("no signing key")
				}))))
		}},
		{"plugin factory resolving", "plugin factory: bad config", func(app *App[Ctx], _ *cleanupLog) {
			Get(app, "/b", func(context.Context, *struct{}) (*struct{}, error) { return nil, nil },
				Plugins(NamedPlugin("factory", PluginFactory(func(g *di.Graph, _ *Signature) (Plugin, error) {
					s := g.NewScope(nil)
					defer s.Close()
					if _, err := di.Resolve[*startPool](s); err != nil {
						return nil, err
					}
					return nil, errors.New("bad config")
				}))))
		}},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			log := &cleanupLog{}
			app := New(Config{})
			app.OnLifecycle(Hook{Name: "cache", OnStop: func(context.Context) error { log.add("stop cache"); return nil }})
			built := 0
			di.Provide(app.Graph(), di.Singleton, di.Func0C(func() (*startPool, func(), error) {
				built++
				p := &startPool{open: true}
				return p, func() { p.open = false; log.add("close pool") }, nil
			}))
			type in struct {
				P *startPool `inject:""`
			}
			Get(app, "/a", func(context.Context, *in) (*struct{}, error) { return nil, nil })
			tc.setup(app, log)
			err := app.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "GET /b") {
				t.Fatalf("start error %v, want one naming GET /b and %q", err, tc.want)
			}
			if built != 1 {
				t.Fatalf("singleton built %d times, want 1", built)
			}
			if got, want := log.take(), []string{"close pool", "stop cache"}; !slices.Equal(got, want) {
				t.Fatalf("after the failed start: %v, want %v", got, want)
			}
			// Stop after a failed start does nothing more.
			if err := app.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := log.take(); len(got) != 0 {
				t.Fatalf("Stop after a failed start ran %v", got)
			}
		})
	}
}

// A failing start hook after another hook resolved a singleton closes the
// graph too.
func TestFailedStartHookClosesGraph(t *testing.T) {
	log := &cleanupLog{}
	app := New(Config{})
	g := app.Graph()
	di.Provide(g, di.Singleton, di.Func0C(func() (*startPool, func(), error) {
		return &startPool{open: true}, func() { log.add("close pool") }, nil
	}))
	app.OnLifecycle(Hook{Name: "warm", OnStart: func(context.Context) error {
		s := g.NewScope(nil)
		defer s.Close()
		_, err := di.Resolve[*startPool](s)
		return err
	}, OnStop: func(context.Context) error { log.add("stop warm"); return nil }})
	app.OnLifecycle(Hook{Name: "db", OnStart: func(context.Context) error { return errors.New("connection refused") }})
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), `start hook "db" failed`) {
		t.Fatalf("start error %v", err)
	}
	if got, want := log.take(), []string{"close pool", "stop warm"}; !slices.Equal(got, want) {
		t.Fatalf("after the failed start: %v, want %v", got, want)
	}
}
