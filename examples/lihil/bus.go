package main

import (
	"context"
	"sync"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// Subscriber receives the events published on a bus.
type Subscriber func(ctx context.Context, g *di.Graph, event any) error

// BusTerminal is the registry of subscribers, made once for the app; it
// creates the EventBus handed to endpoints (lihil's BusTerminal).
type BusTerminal struct {
	mu   sync.RWMutex
	subs []Subscriber
}

// Subscribe adds a subscriber for every event.
func (t *BusTerminal) Subscribe(s Subscriber) {
	t.mu.Lock()
	t.subs = append(t.subs, s)
	t.mu.Unlock()
}

// CreateEventBus returns a bus that publishes to the terminal's
// subscribers, with the graph in reach for their dependencies.
func (t *BusTerminal) CreateEventBus(g *di.Graph) *EventBus { return &EventBus{term: t, g: g} }

// EventBus publishes events to the subscribers of its terminal.
type EventBus struct {
	term *BusTerminal
	g    *di.Graph
}

// Publish delivers event to every subscriber, in order, and returns the
// first error.
func (b *EventBus) Publish(ctx context.Context, event any) error {
	b.term.mu.RLock()
	subs := b.term.subs
	b.term.mu.RUnlock()
	for _, s := range subs {
		if err := s(ctx, b.g, event); err != nil {
			return err
		}
	}
	return nil
}

// BusPlugin is the seed's bus_plugin: it looks for a *EventBus plugin param
// in the endpoint's signature and wraps the endpoint to inject one; an
// endpoint without such a param is returned unchanged, at no cost.
func BusPlugin(term *BusTerminal) graft.Plugin {
	return graft.NamedPlugin("bus", graft.PluginFunc(func(g *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
		field := graft.PluginField[*EventBus](sig)
		if field == nil {
			return next, nil
		}
		bus := term.CreateEventBus(g) // stateless: one per endpoint will do
		return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
			field.Set(in, bus)
			return next(ctx, c, in)
		}, nil
	}))
}
