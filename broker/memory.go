package broker

import (
	"context"
	"slices"
	"sync"
)

// DefaultQueueLen is the length of a MemoryNode's delivery queue when
// MemoryBus.QueueLen is zero.
const DefaultQueueLen = 1024

// MemoryBus is an in-process bus: the nodes it makes behave like graft
// nodes sharing a NATS or Redis bus, without a server. Several apps in one
// process (a test of a two-node cluster, say) each take a node with Node.
//
// A publish copies the payload once and enqueues it to every other node
// subscribed to the topic; each node delivers from its own queue on its own
// goroutine, so a slow node does not slow down publishers or other nodes.
// When a node's queue is full the message is dropped for that node and
// counted in its Stats, as a real bus drops messages for a slow consumer.
type MemoryBus struct {
	// QueueLen is the length of each node's delivery queue; zero means
	// DefaultQueueLen. Set it before the first call to Node.
	QueueLen int

	mu   sync.RWMutex
	subs map[string][]*MemoryNode // topic -> started nodes subscribed to it
}

// NewMemoryBus returns an empty in-process bus.
func NewMemoryBus() *MemoryBus { return &MemoryBus{subs: make(map[string][]*MemoryNode)} }

// Node returns a new node of the bus: the Broker for one app.
func (b *MemoryBus) Node() *MemoryNode {
	n := b.QueueLen
	if n <= 0 {
		n = DefaultQueueLen
	}
	id := NewNodeID()
	return &MemoryNode{
		bus:    b,
		inbox:  NewInbox(id),
		topics: make(map[string]struct{}),
		queue:  make(chan queued, n),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
}

type queued struct {
	origin NodeID
	m      Message
}

// MemoryNode is one node's Broker on a MemoryBus.
type MemoryNode struct {
	bus   *MemoryBus
	inbox *Inbox
	queue chan queued
	quit  chan struct{}
	done  chan struct{}

	// Guarded by bus.mu.
	topics  map[string]struct{}
	started bool
	closed  bool
}

var (
	_ Broker        = (*MemoryNode)(nil)
	_ StatsReporter = (*MemoryNode)(nil)
)

// ID returns the node's id.
func (n *MemoryNode) ID() NodeID { return n.inbox.Self() }

// Start implements Broker.Start. It never fails for a new node.
func (n *MemoryNode) Start(ctx context.Context, deliver DeliverFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := n.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case n.closed:
		return ErrClosed
	case n.started:
		return ErrStarted
	}
	n.started = true
	n.inbox.SetDeliver(deliver)
	for t := range n.topics {
		b.subs[t] = append(b.subs[t], n)
	}
	go n.run()
	return nil
}

func (n *MemoryNode) run() {
	defer close(n.done)
	for {
		select {
		case q := <-n.queue:
			n.inbox.Deliver(q.origin, q.m)
		case <-n.quit:
			return
		}
	}
}

// Subscribe implements Broker.Subscribe.
func (n *MemoryNode) Subscribe(topic string) error {
	b := n.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	if _, ok := n.topics[topic]; ok {
		return nil
	}
	n.topics[topic] = struct{}{}
	if n.started {
		b.subs[topic] = append(b.subs[topic], n)
	}
	return nil
}

// Unsubscribe implements Broker.Unsubscribe.
func (n *MemoryNode) Unsubscribe(topic string) error {
	b := n.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	if _, ok := n.topics[topic]; !ok {
		return nil
	}
	delete(n.topics, topic)
	if n.started {
		b.removeLocked(n, topic)
	}
	return nil
}

func (b *MemoryBus) removeLocked(n *MemoryNode, topic string) {
	nodes := slices.DeleteFunc(b.subs[topic], func(x *MemoryNode) bool { return x == n })
	if len(nodes) == 0 {
		delete(b.subs, topic)
		return
	}
	b.subs[topic] = nodes
}

// Publish implements Broker.Publish. It does not block: a node whose queue
// is full misses the message.
func (n *MemoryNode) Publish(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := n.bus
	b.mu.RLock()
	defer b.mu.RUnlock()
	switch {
	case n.closed:
		return ErrClosed
	case !n.started:
		return ErrNotStarted
	}
	n.inbox.CountPublished()
	nodes := b.subs[m.Topic]
	if len(nodes) == 0 || len(nodes) == 1 && nodes[0] == n {
		return nil
	}
	q := queued{origin: n.ID(), m: Message{Topic: m.Topic, Payload: slices.Clone(m.Payload), Binary: m.Binary, Position: m.Position}}
	for _, to := range nodes {
		if to == n {
			continue
		}
		select {
		case to.queue <- q:
		default:
			to.inbox.CountDropped()
		}
	}
	return nil
}

// Close implements Broker.Close. Messages still queued for the node are
// discarded.
func (n *MemoryNode) Close() error {
	b := n.bus
	b.mu.Lock()
	if n.closed {
		b.mu.Unlock()
		return nil
	}
	n.closed = true
	if n.started {
		for t := range n.topics {
			b.removeLocked(n, t)
		}
	}
	started := n.started
	b.mu.Unlock()
	if started {
		close(n.quit)
		<-n.done
	}
	n.inbox.SetDeliver(nil)
	return nil
}

// Stats implements StatsReporter.
func (n *MemoryNode) Stats() Stats { return n.inbox.Stats() }
