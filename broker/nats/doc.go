// Package nats is a graft [broker.Broker] over NATS core pub/sub, for
// running several graft nodes behind a load balancer as one server.
//
// Each node holds one NATS connection and one NATS subscription per topic
// that has local subscribers. Messages travel in graft's envelope
// ([broker.AppendEnvelope]) carrying the origin node's id; the connection
// also asks the server not to echo the node's own messages (NATS "no echo"),
// and the origin id filters any that come back all the same.
//
// # Topics and subjects
//
// graft topics are arbitrary strings, while NATS subjects may not contain
// spaces and give '.', '*' and '>' a meaning. A topic maps to the subject
//
//	<Prefix>.<base64url(topic), unpadded>
//
// whose last token uses only A–Z a–z 0–9 '-' '_', so no topic can inject a
// wildcard or an extra token, and distinct topics map to distinct subjects.
// The empty topic maps to "<Prefix>._" ("_" alone is never an unpadded
// base64 encoding). Prefix defaults to "graft.ws"; give each app sharing a
// NATS account its own. Topics longer than [MaxTopicLen] bytes are rejected,
// to stay within the server's default max_control_line of 4 KiB.
//
// # Reconnection and delivery
//
// The connection reconnects forever, with exponential backoff and jitter
// between ReconnectWait and MaxReconnectWait; nats.go sends the node's
// subscriptions again after every reconnect (the tests restart the server
// to check it). Delivery is at-most-once: messages published on other nodes
// while this node is disconnected are lost for it. Messages this node
// publishes while disconnected are buffered by nats.go (8 MiB by default)
// and sent after the reconnect; past the buffer Publish fails.
//
// Received messages are queued in one channel (Options.QueueLen) and
// delivered from one goroutine, whatever the number of topics, in the order
// the server sent them; when the queue is full, messages are dropped and
// counted in [broker.Stats].Dropped.
//
// [History] keeps topic histories in JetStream for recovery after a
// reconnect (see [broker.History]): one stream per topic, whose sequence
// is the offset and whose creation time is the epoch; with file storage
// history survives a server restart.
package nats
