package topic

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Registry records which subscribers of type S are subscribed to which
// topics. Topics are arbitrary strings (any bytes, including the empty
// string). The zero value is an empty registry ready to use; a Registry must
// not be copied after first use. All methods are safe for concurrent use.
//
// # Why lazy snapshots
//
// Publishing reads a topic's subscribers far more often than subscribing
// changes them, and a publish to a large topic must neither allocate per
// subscriber nor hold a lock while it sends (a send may be slow, and a
// subscriber's callback may itself subscribe or unsubscribe, which would
// deadlock under a held lock). Two common designs each fail one of those:
//
//   - Iterating under a read lock holds the lock for the whole fan-out; with
//     sync.RWMutex a waiting writer then blocks every new reader, so one slow
//     fan-out stalls all subscribes and publishes, and a callback that
//     subscribes deadlocks.
//   - Copy-on-write on every change makes Subscribe O(n) in the topic's size,
//     so n connections joining one broadcast topic cost O(n²) copies.
//
// Instead each topic keeps a mutable slice (O(1) add, O(1) swap-remove via an
// index map) and an immutable snapshot that is built lazily: a change only
// drops the snapshot, and the next publish copies the slice once (a single
// allocation, whatever the number of subscribers) and caches it. Publishes
// between changes share the cached snapshot and allocate nothing. A publish
// is O(n) anyway, so the copy at most doubles the cost of the first publish
// after a change, and a burst of changes costs one copy, not one per change.
//
// A consequence shared with any lock-free fan-out: a subscriber removed while
// a publish is iterating an older snapshot may still receive that message.
type Registry[S comparable] struct {
	mu     sync.RWMutex
	topics map[string]*entry[S]
	subs   map[S]map[string]struct{}
}

// entry is one topic's subscribers.
type entry[S comparable] struct {
	list  []S       // mutable, guarded by Registry.mu
	index map[S]int // position of each subscriber in list
	// snap is an immutable copy of list, or nil after a change. It is
	// written under the read lock by publishers (all of them compute the
	// same value, since writers are excluded) and cleared under the write
	// lock, hence atomic.
	snap atomic.Pointer[[]S]
}

// Subscribe subscribes s to topic. It reports first when the topic had no
// subscribers before this call, i.e. when the node must subscribe to the
// topic on the bus. Subscribing twice is a no-op that reports false.
func (r *Registry[S]) Subscribe(s S, topic string) (first bool) {
	before, after := r.SubscribeCount(s, topic)
	return before == 0 && after == 1
}

// SubscribeCount is Subscribe reporting the topic's number of subscribers
// before and after the call (equal when s was already subscribed), which is
// what uWebSockets' subscription handler receives.
func (r *Registry[S]) SubscribeCount(s S, topic string) (before, after int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.topics == nil {
		r.topics = make(map[string]*entry[S])
		r.subs = make(map[S]map[string]struct{})
	}
	e := r.topics[topic]
	if e == nil {
		e = &entry[S]{index: make(map[S]int)}
		r.topics[topic] = e
	}
	n := len(e.list)
	if _, ok := e.index[s]; ok {
		return n, n
	}
	e.index[s] = n
	e.list = append(e.list, s)
	e.snap.Store(nil)
	ts := r.subs[s]
	if ts == nil {
		ts = make(map[string]struct{})
		r.subs[s] = ts
	}
	ts[topic] = struct{}{}
	return n, n + 1
}

// Unsubscribe unsubscribes s from topic. It reports last when s was the
// topic's last subscriber, i.e. when the node must leave the topic on the
// bus. Unsubscribing from a topic s is not subscribed to is a no-op that
// reports false.
func (r *Registry[S]) Unsubscribe(s S, topic string) (last bool) {
	before, after := r.UnsubscribeCount(s, topic)
	return before == 1 && after == 0
}

// UnsubscribeCount is Unsubscribe reporting the topic's number of
// subscribers before and after the call (equal when s was not subscribed).
func (r *Registry[S]) UnsubscribeCount(s S, topic string) (before, after int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.topics[topic]
	if e == nil {
		return 0, 0
	}
	n := len(e.list)
	if !r.remove(e, s, topic) {
		return n, n
	}
	ts := r.subs[s]
	delete(ts, topic)
	if len(ts) == 0 {
		delete(r.subs, s)
	}
	return n, n - 1
}

// UnsubscribeAll unsubscribes s from every topic, as when a connection
// closes, and returns the topics that lost their last subscriber (so the
// node must leave them on the bus), in no particular order.
func (r *Registry[S]) UnsubscribeAll(s S) (emptied []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for topic := range r.subs[s] {
		e := r.topics[topic]
		r.remove(e, s, topic)
		if len(e.list) == 0 {
			emptied = append(emptied, topic)
		}
	}
	delete(r.subs, s)
	return emptied
}

// remove takes s out of e's list; it drops the topic when it empties. It
// does not touch r.subs. The caller holds the write lock.
func (r *Registry[S]) remove(e *entry[S], s S, topic string) bool {
	i, ok := e.index[s]
	if !ok {
		return false
	}
	last := len(e.list) - 1
	if i != last {
		moved := e.list[last]
		e.list[i] = moved
		e.index[moved] = i
	}
	var zero S
	e.list[last] = zero // let a removed subscriber be collected
	e.list = e.list[:last]
	delete(e.index, s)
	e.snap.Store(nil)
	if len(e.list) == 0 {
		delete(r.topics, topic)
	}
	return true
}

// IsSubscribed reports whether s is subscribed to topic.
func (r *Registry[S]) IsSubscribed(s S, topic string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.subs[s][topic]
	return ok
}

// Topics returns the topics s is subscribed to, sorted.
func (r *Registry[S]) Topics(s S) []string {
	r.mu.RLock()
	ts := r.subs[s]
	out := make([]string, 0, len(ts))
	for t := range ts {
		out = append(out, t)
	}
	r.mu.RUnlock()
	slices.Sort(out)
	return out
}

// NumSubscribers returns the number of subscribers of topic.
func (r *Registry[S]) NumSubscribers(topic string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e := r.topics[topic]; e != nil {
		return len(e.list)
	}
	return 0
}

// NumTopics returns the number of topics with at least one subscriber.
func (r *Registry[S]) NumTopics() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.topics)
}

// Subscribers returns the subscribers of topic at the time of the call, in
// no particular order, for a publish to iterate. The slice is a shared
// snapshot: the caller must not modify it, and may keep it as long as it
// likes. Between changes to the topic, calls return the same slice and do
// not allocate; the first call after a change allocates the snapshot once.
// It returns nil for a topic without subscribers.
func (r *Registry[S]) Subscribers(topic string) []S {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.topics[topic]
	if e == nil {
		return nil
	}
	if p := e.snap.Load(); p != nil {
		return *p
	}
	snap := slices.Clone(e.list)
	e.snap.Store(&snap)
	return snap
}

// Each calls fn for every subscriber of topic, from a snapshot taken at the
// time of the call (see Subscribers); no lock is held while fn runs, so fn
// may subscribe and unsubscribe freely.
func (r *Registry[S]) Each(topic string, fn func(S)) {
	for _, s := range r.Subscribers(topic) {
		fn(s)
	}
}
