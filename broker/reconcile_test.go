package broker

import (
	"fmt"
	"sync"
	"testing"

	"github.com/graftgo/graft/internal/topic"
)

// TestReconcilerConverges churns local subscribers of a few topics from many
// goroutines, syncing after every first/last, and checks that the bus ends
// up subscribed to exactly the topics with local subscribers.
func TestReconcilerConverges(t *testing.T) {
	bus := NewMemoryBus()
	node := bus.Node()
	if err := node.Start(t.Context(), func(Message) {}); err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	var reg topic.Registry[int]
	rec := &Reconciler{Broker: node, HasSubscribers: func(tp string) bool { return reg.NumSubscribers(tp) > 0 }}

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 3000 {
				tp := fmt.Sprint(i % 3)
				s := g*1000 + i%4
				if (i/3+g)%2 == 0 {
					if reg.Subscribe(s, tp) {
						rec.Sync(tp)
					}
				} else if reg.Unsubscribe(s, tp) {
					rec.Sync(tp)
				}
			}
		})
	}
	wg.Wait()
	bus.mu.RLock()
	defer bus.mu.RUnlock()
	for i := range 3 {
		tp := fmt.Sprint(i)
		local := reg.NumSubscribers(tp) > 0
		onBus := len(bus.subs[tp]) == 1
		if local != onBus {
			t.Errorf("topic %s: local subscribers %v, bus subscription %v", tp, local, onBus)
		}
	}
}

// TestReconcilerReorderedSyncs replays the interleaving that breaks plain
// Subscribe/Unsubscribe calls: three registry changes (first, last, first)
// whose bus calls arrive in the order third, first, second.
func TestReconcilerReorderedSyncs(t *testing.T) {
	bus := NewMemoryBus()
	node := bus.Node()
	node.Start(t.Context(), func(Message) {})
	defer node.Close()
	var reg topic.Registry[int]
	rec := &Reconciler{Broker: node, HasSubscribers: func(tp string) bool { return reg.NumSubscribers(tp) > 0 }}

	if !reg.Subscribe(1, "t") || !reg.Unsubscribe(1, "t") || !reg.Subscribe(2, "t") {
		t.Fatal("registry did not report first, last, first")
	}
	// Plain calls in that arrival order would end with Unsubscribe: the
	// topic would have a local subscriber and no bus subscription.
	for range 3 {
		if err := rec.Sync("t"); err != nil {
			t.Fatal(err)
		}
	}
	bus.mu.RLock()
	n := len(bus.subs["t"])
	bus.mu.RUnlock()
	if n != 1 {
		t.Fatalf("bus subscriptions for t: %d, want 1", n)
	}
	reg.UnsubscribeAll(2)
	rec.Sync("t")
	if len(node.topics) != 0 {
		t.Fatalf("node still subscribed to %v", node.topics)
	}
}
