// Package broker carries WebSocket pub/sub messages between graft nodes.
//
// A graft app delivers a published message to its own local subscribers
// directly and hands it to its [Broker], which carries it to the other nodes
// of the cluster; each of them delivers it to its local subscribers. With a
// shared bus, several nodes behind a load balancer act as one server.
//
// A node keeps one bus subscription per topic: it calls [Broker.Subscribe]
// when a topic gets its first local subscriber and [Broker.Unsubscribe] when
// it loses its last one (graft's topic registry reports both; a [Reconciler]
// keeps the two in step under concurrency). A node never
// delivers its own message twice: every message travels in an envelope that
// names its origin node ([NodeID]), and a broker drops its own messages when
// the bus echoes them back.
//
// Implementations:
//
//   - [MemoryBus], in this package: several apps in one process, for tests
//     and for single-process setups that want the cluster code path.
//   - github.com/graftgo/graft/broker/nats: NATS (nested module).
//   - github.com/graftgo/graft/broker/redis: Redis pub/sub (nested module).
//
// # History and recovery
//
// A [History] keeps a bounded history of the publications on the topics its
// [HistoryPolicies] cover (a size and a TTL per topic pattern). Each
// publication gets a consecutive offset in its topic's stream, and each
// stream an epoch that changes when the stream is lost; a client that
// reconnects with the [Position] (offset, epoch) it last saw gets every
// publication it missed, in order, exactly once, from [History.Since], or
// an error matching [ErrUnrecoverable] so that it reloads. Backends:
// [MemoryHistory] in this package (one node), Redis Streams in
// graft/broker/redis and JetStream in graft/broker/nats (several nodes).
// graft/broker/brokertest holds the conformance cases all three pass.
//
// Bus implementations share the envelope codec ([AppendEnvelope],
// [DecodeEnvelope]) and the receive path ([Inbox]) of this package, so they
// interoperate in format and count dropped messages alike.
//
// # Delivery guarantee
//
// Every broker here is at-most-once: a message reaches each other node's
// deliver function once or not at all. Messages published while a node is
// disconnected from the bus, or while it has not yet subscribed to the topic,
// are lost for that node; so are messages a slow node cannot take in time.
// Messages from one publishing node on one topic arrive in the order it
// published them; there is no order across publishers. Applications that
// need more (replay, acknowledgements) should use a stream (NATS JetStream,
// Redis streams) beside graft's pub/sub, not instead of it.
package broker
