// Package redis is a graft [broker.Broker] over Redis pub/sub (PUBLISH,
// SUBSCRIBE), for running several graft nodes behind a load balancer as one
// server. It uses github.com/redis/rueidis.
//
// Each node publishes through a shared rueidis client and receives on one
// dedicated connection that holds one SUBSCRIBE per topic with local
// subscribers. A topic maps to the channel Prefix+topic (Redis channels are
// binary-safe, so any topic works as it is); Prefix defaults to "graft:ws:".
// Messages travel in graft's envelope ([broker.AppendEnvelope]) carrying the
// origin node's id; Redis sends a node its own messages too, and the origin
// id filters them out.
//
// # Reconnection and delivery
//
// When the subscription connection breaks, the broker opens a new one, with
// exponential backoff and jitter between ReconnectWait and
// MaxReconnectWait, forever, and subscribes to every current topic again
// (the tests kill redis-server and start it again to check it). Subscribe
// and Unsubscribe while disconnected are recorded and applied on reconnect.
//
// Delivery is at-most-once: messages published on other nodes while this
// node is disconnected are lost for it, and Publish fails while Redis is
// unreachable (the message is not buffered). Received messages wait in one
// queue (Options.QueueLen) for one delivery goroutine; when it is full they
// are dropped and counted in [broker.Stats].Dropped. Redis itself
// disconnects a subscriber that falls too far behind
// (client-output-buffer-limit pubsub), which the broker then survives as
// any disconnection.
//
// [History] keeps topic histories in Redis Streams for recovery after a
// reconnect (see [broker.History]): offsets assigned atomically with the
// append by a Lua script, an epoch renewed whenever a stream's keys are
// found missing.
//
// Redis Cluster is not supported: classic pub/sub there broadcasts every
// message to every shard; sharded pub/sub (SSUBSCRIBE) would be the way.
package redis
