// Package ws serves WebSockets on a graft app, after uWebSockets (and
// socketify): a route's Behavior holds its settings and handlers, each
// connection (Conn[T]) carries typed user data, and topics give pub/sub
// across the app's connections and, through a broker (package broker),
// across nodes.
//
//	ws.Route(app, "/chat", ws.Behavior[Session]{
//		Upgrade: func(c *graft.Ctx) (Session, error) { return Session{Name: c.Query("name")}, nil },
//		Open:    func(conn *ws.Conn[Session]) { conn.Subscribe("room") },
//		Message: func(conn *ws.Conn[Session], data []byte, op ws.OpCode) { conn.Publish("room", data, op) },
//	})
//
// The package is a graft extension: its app-wide settings (Config: the
// defaults of every Behavior, the broker, the connection pool; flags
// --ws-* and --broker-*) arrive with Extension, registered on the app
// before its routes:
//
//	app.Register(ws.Extension(ws.Config{MaxPayloadLength: 1 << 20, Broker: nodes}))
//
// An app that does not register it gets Extension(Config{}) at its first
// Route. The extension's Hub (HubOf) publishes to topics from outside a
// connection (ws.Publish(app, topic, data, op) does the same) and reports
// counts and Stats.
//
// Presence (Config.Presence) tracks who is subscribed to the topics it
// covers on every node of the cluster: Hub.Presence and
// NumClusterSubscribers read the node's replica (NumSubscribers stays
// local), and a connection that subscribes with SubscribePresence gets
// the topic's join and leave events in Behavior.Presence.
//
// One concept per file: route.go (Behavior and Route: the handshake),
// conn.go (Conn, Socket, ConnMixin), write.go (sending and backpressure),
// close.go (StatusCode and the closing handshake), hub.go (connections,
// topics, timers and the broker), presence.go and presence_wire.go
// (cluster-wide presence and the messages nodes exchange for it),
// limit.go (per-connection limits), config.go (Config and the extension).
// See docs/websocket.md for the behaviour in full.
package ws
