// Package topic is graft's topic registry: which subscribers (WebSocket
// connections, in graft) are subscribed to which topics on this node.
//
// A [Registry] answers the questions pub/sub asks of a node:
//
//   - on Subscribe, whether the topic just got its first local subscriber
//     (so the node must subscribe to the topic on the cluster bus);
//   - on Unsubscribe and UnsubscribeAll, whether a topic just lost its last
//     local subscriber (so the node must leave the topic on the bus);
//   - on Publish, who the topic's subscribers are, without allocating per
//     subscriber and without holding a lock while messages are sent.
//
// The registry is checked against a map-of-sets model by a fuzz target
// (FuzzRegistry), as uWebSockets checks its topic tree.
package topic
