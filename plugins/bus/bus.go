package bus

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// Subscriber receives every event published on a terminal's buses, with
// the app's dependency graph for its own dependencies.
type Subscriber func(ctx context.Context, g *di.Graph, event any) error

// subscription is one subscriber and the event type it takes (nil: all).
type subscription struct {
	typ reflect.Type
	fn  Subscriber
}

// Terminal is the registry of subscribers, one per app (lihil's
// BusTerminal); it makes the Bus handed to endpoints. It is safe for
// concurrent use.
type Terminal struct {
	mu   sync.Mutex
	subs atomic.Pointer[[]subscription] // copy-on-write: Publish reads without a lock
}

// NewTerminal returns a terminal without subscribers.
func NewTerminal() *Terminal {
	t := &Terminal{}
	t.subs.Store(&[]subscription{})
	return t
}

func (t *Terminal) add(s subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := *t.subs.Load()
	next := append(cur[:len(cur):len(cur)], s)
	t.subs.Store(&next)
}

// Subscribe adds fn for every event; a nil fn panics (a setup mistake).
func (t *Terminal) Subscribe(fn Subscriber) {
	if fn == nil {
		panic("bus: Subscribe with a nil subscriber")
	}
	t.add(subscription{fn: fn})
}

// On adds fn for the events of type E only (an interface type E takes
// the events that implement it).
func On[E any](t *Terminal, fn func(ctx context.Context, g *di.Graph, event E) error) {
	if fn == nil {
		panic(fmt.Sprintf("bus: On[%s] with a nil subscriber", reflect.TypeFor[E]()))
	}
	t.add(subscription{typ: reflect.TypeFor[E](), fn: func(ctx context.Context, g *di.Graph, ev any) error {
		return fn(ctx, g, ev.(E))
	}})
}

// Bus publishes events to the subscribers of its terminal; endpoints get
// one in a *Bus plugin field.
type Bus struct {
	term *Terminal
	g    *di.Graph
}

// NewBus returns a bus of t whose subscribers get g (what the plugin
// does per endpoint; for code outside endpoints).
func (t *Terminal) NewBus(g *di.Graph) *Bus { return &Bus{term: t, g: g} }

// Publish delivers event to the terminal's subscribers of its type and
// the untyped ones, in subscription order, stopping at and returning the
// first error. A subscriber's panic is returned as an error naming the
// event's type and the panic's value.
func (b *Bus) Publish(ctx context.Context, event any) error {
	subs := *b.term.subs.Load()
	var typ reflect.Type
	for i := range subs {
		s := &subs[i]
		if s.typ != nil {
			if typ == nil {
				typ = reflect.TypeOf(event)
			}
			if typ == nil || (typ != s.typ && !(s.typ.Kind() == reflect.Interface && typ.Implements(s.typ))) {
				continue
			}
		}
		if err := deliver(ctx, b.g, s.fn, event); err != nil {
			return err
		}
	}
	return nil
}

func deliver(ctx context.Context, g *di.Graph, fn Subscriber, event any) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("bus: a subscriber of %T panicked: %v", event, v)
		}
	}()
	return fn(ctx, g, event)
}

// Plugin returns the bus plugin of t: it fills the *Bus plugin field of
// the endpoints that have one and returns the others unchanged.
func Plugin(t *Terminal) graft.Plugin {
	return graft.NamedPlugin("bus", graft.PluginFunc(func(g *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
		field := graft.PluginField[*Bus](sig)
		if field == nil {
			return next, nil
		}
		if t == nil {
			return nil, fmt.Errorf("bus.Plugin was given a nil *bus.Terminal; make one with bus.NewTerminal")
		}
		b := t.NewBus(g) // stateless: one per endpoint
		return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
			field.Set(in, b)
			return next(ctx, c, in)
		}, nil
	}))
}
