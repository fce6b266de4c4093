package broker

import (
	"context"
	"errors"
)

// Message is one pub/sub message: a WebSocket frame's payload published on
// a topic.
type Message struct {
	// Topic is the topic the message was published on. It may hold any
	// bytes; bus implementations map it to what their bus accepts.
	Topic string
	// Payload is the message body. A Message handed to a deliver function
	// is the receiver's to keep, but it may share Payload with other nodes'
	// deliver calls, so it must be treated as read-only.
	Payload []byte
	// Binary is true for a binary WebSocket frame, false for a text frame.
	Binary bool
	// Position is the message's place in its topic's history (see
	// History) when the topic keeps one, so that every node delivers it
	// with the offset and epoch the publishing node got from Append; the
	// zero Position otherwise.
	Position Position
}

// DeliverFunc receives the messages that other nodes published on topics
// this node is subscribed to. A broker may call it from any goroutine, and
// concurrently for different topics; it must not block for long (a slow
// deliver function makes the bus drop messages for this node) and must not
// call the broker's Close.
type DeliverFunc func(Message)

// Broker connects one graft node to a pub/sub bus shared with other nodes.
//
// The guarantee is at-most-once, as described in the package documentation.
// All methods are safe for concurrent use.
//
// Subscribe and Unsubscribe record what the node wants; the broker
// establishes it on the bus at Start and again after every reconnect. Both
// are idempotent. The node's topic registry reports "first" and "last"
// under its own lock, so two goroutines may call Subscribe and Unsubscribe
// for one topic in the opposite order of the registry changes they follow;
// a node should call them through a [Reconciler], which makes the bus agree
// with the registry's current state.
type Broker interface {
	// Start connects to the bus and subscribes to the topics recorded so
	// far. From then on deliver is called for every message published by
	// another node on a topic this node is subscribed to; never for the
	// node's own messages. ctx bounds the first connection attempt only:
	// Start returns an error if the bus cannot be reached before ctx ends,
	// and later disconnections are retried forever, with backoff, until
	// Close. Start may be called once.
	Start(ctx context.Context, deliver DeliverFunc) error

	// Subscribe makes the node receive messages published on topic by other
	// nodes. It returns once the subscription is sent to the bus (or
	// recorded, when the bus is unreachable); messages published before the
	// bus has processed it may be missed. Subscribing to a topic twice is a
	// no-op. It returns an error only when the broker is closed or the topic
	// cannot be carried by the bus (such as one over a length limit).
	Subscribe(topic string) error

	// Unsubscribe stops the node receiving messages on topic. Messages in
	// flight may still be delivered shortly after it returns. Unsubscribing
	// from a topic the node is not subscribed to is a no-op.
	Unsubscribe(topic string) error

	// Publish sends m to the other nodes subscribed to m.Topic, not to this
	// node's own deliver function (the node delivers to its local
	// subscribers itself). Publish does not keep m.Payload after it returns.
	// A nil error means the bus took the message (or buffered it while
	// reconnecting), not that any node received it. ctx bounds how long
	// Publish may wait.
	Publish(ctx context.Context, m Message) error

	// Close unsubscribes, disconnects and waits for the broker's goroutines
	// to finish; deliver is not called after Close returns. Further calls
	// return ErrClosed. Close is idempotent.
	Close() error
}

// StatsReporter is implemented by brokers that count their traffic; every
// broker in graft does.
type StatsReporter interface {
	// Stats returns the broker's counters since it was created.
	Stats() Stats
}

// Stats counts what a broker sent and received.
type Stats struct {
	// Published counts messages this node handed to the bus.
	Published uint64
	// Delivered counts messages from other nodes passed to deliver.
	Delivered uint64
	// Echoed counts the node's own messages that the bus sent back and
	// the broker dropped.
	Echoed uint64
	// Malformed counts received envelopes that failed to decode, dropped.
	Malformed uint64
	// Dropped counts messages lost for other reasons the broker can see,
	// such as a full delivery queue.
	Dropped uint64
}

var (
	// ErrClosed is returned by a broker's methods after Close.
	ErrClosed = errors.New("broker: closed")
	// ErrNotStarted is returned by Publish before Start.
	ErrNotStarted = errors.New("broker: not started")
	// ErrStarted is returned by a second call to Start.
	ErrStarted = errors.New("broker: already started")
)
