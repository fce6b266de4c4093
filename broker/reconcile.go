package broker

import "sync"

// Reconciler keeps a node's bus subscriptions in step with its local
// subscribers, whatever the interleaving of goroutines.
//
// A topic registry reports "first subscriber" and "last subscriber gone"
// under its own lock, but the Broker calls that follow run outside it, so
// they may reach the broker in the opposite order: connection 1 subscribes
// (first), unsubscribes (last), connection 2 subscribes (first), and the
// broker sees Subscribe, Subscribe, Unsubscribe — the topic has a local
// subscriber and no bus subscription. Calling Sync(topic) instead of
// Subscribe or Unsubscribe fixes that: Sync reads the registry's current
// state under one lock and makes the bus agree, so the last Sync after the
// last change always leaves the bus right.
type Reconciler struct {
	// Broker is the node's broker.
	Broker Broker
	// HasSubscribers reports whether topic has local subscribers now (for
	// graft's registry, NumSubscribers(topic) > 0). It must not call Sync.
	HasSubscribers func(topic string) bool

	mu sync.Mutex
	on map[string]struct{} // topics subscribed on the bus
}

// Sync subscribes or unsubscribes topic on the bus so that the bus
// subscription exists exactly when HasSubscribers(topic) is true. Call it
// after every registry change that reported first or last. Calls for all
// topics are serialised; a Broker's Subscribe and Unsubscribe are quick (a
// buffered write for NATS, one round trip for Redis), and subscription
// changes are rare next to publishes.
func (r *Reconciler) Sync(topic string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	want := r.HasSubscribers(topic)
	_, have := r.on[topic]
	switch {
	case want && !have:
		if err := r.Broker.Subscribe(topic); err != nil {
			return err
		}
		if r.on == nil {
			r.on = make(map[string]struct{})
		}
		r.on[topic] = struct{}{}
	case !want && have:
		if err := r.Broker.Unsubscribe(topic); err != nil {
			return err
		}
		delete(r.on, topic)
	}
	return nil
}
