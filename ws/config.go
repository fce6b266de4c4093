package ws

import (
	"context"
	"log/slog"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
)

// Config holds the app-wide WebSocket settings, the WebSocket extension's
// config section [ws] (see Extension and docs/config.md): every field but
// Broker is a key loaded from the TOML file, GRAFT_WS_…
// variables and --ws.… flags (the older --ws-… and --broker-… spellings
// still work). A Behavior field left at its zero value
// takes the value here; a zero value here means the documented default,
// which is uWebSockets'.
type Config struct {
	// MaxPayloadLength bounds a received message, after reassembly of
	// fragments and after decompression; a bigger one closes the
	// connection with 1009. Default 16 KiB. Flag --ws-max-size.
	MaxPayloadLength int `toml:"max-size" flag:"ws.max-size,ws-max-size" help:"largest WebSocket message accepted, in bytes (bigger: close 1009)" default:"16384"`
	// IdleTimeout closes a connection that received nothing for this long;
	// default 120s, -1 none. Flag --ws-idle-timeout.
	IdleTimeout time.Duration `flag:"ws.idle-timeout,ws-idle-timeout" help:"close WebSockets idle this long (negative: never)" default:"2m0s"`
	// MaxBackpressure is the number of bytes a connection may have waiting
	// to be written before Send drops messages; default 64 KiB, -1 no
	// limit. Flag --ws-max-backpressure.
	MaxBackpressure int `flag:"ws.max-backpressure,ws-max-backpressure" help:"bytes a WebSocket may have unsent before Send drops (-1: no limit)" default:"65536"`
	// DisablePings stops the automatic pings sent to idle connections
	// (uWebSockets' sendPingsAutomatically, on by default). Key
	// ws.disable-pings; the older flag --ws-auto-ping=false sets it too.
	DisablePings bool `flag:"ws.disable-pings,!ws-auto-ping" help:"stop the automatic pings to idle WebSockets (--ws-auto-ping=false, the older spelling, does the same)"`
	// PerMessageDeflate negotiates permessage-deflate on every WebSocket
	// route. Flag --ws-per-message-deflate.
	PerMessageDeflate bool `flag:"ws.per-message-deflate,ws-per-message-deflate" help:"negotiate permessage-deflate compression on WebSockets"`
	// MaxLifetime closes every connection this long after it opened;
	// default 0, no limit. Flag --ws-max-lifetime.
	MaxLifetime time.Duration `flag:"ws.max-lifetime,ws-max-lifetime" help:"close WebSockets this long after they opened (0: never)"`
	// CloseOnBackpressureLimit closes a connection, instead of dropping
	// the message, when a Send finds it over MaxBackpressure. Flag
	// --ws-close-on-backpressure-limit.
	CloseOnBackpressureLimit bool `flag:"ws.close-on-backpressure-limit,ws-close-on-backpressure-limit" help:"close a WebSocket, instead of dropping the message, when it is over --ws-max-backpressure"`
	// ResetIdleTimeoutOnSend makes every successful Send count as
	// activity for the idle timeout. Flag --ws-reset-idle-on-send.
	ResetIdleTimeoutOnSend bool `toml:"reset-idle-on-send" flag:"ws.reset-idle-on-send,ws-reset-idle-on-send" help:"count sending as activity for --ws-idle-timeout"`

	// Broker carries published messages to the other nodes of a cluster
	// (see package broker and docs/websocket.md); nil means this node
	// only. The app starts it and closes it at shutdown.
	Broker broker.Broker
	// BrokerWait bounds how long start-up waits for the broker to connect;
	// past it, start-up fails with an error naming the broker. Default
	// 5s. Flag --broker-wait.
	BrokerWait time.Duration `flag:"ws.broker-wait,broker-wait" help:"how long start-up waits for the WebSocket pub/sub broker before failing (or, with --broker-optional, starting without it)" default:"5s"`
	// BrokerOptional starts the app without the broker when it has not
	// connected within BrokerWait, instead of failing: the broker keeps
	// connecting in the background, topics subscribed meanwhile are
	// subscribed on the bus once it connects, and until then Publish
	// reaches this node only (ErrLocalOnly). Flag --broker-optional.
	BrokerOptional bool `flag:"ws.broker-optional,broker-optional" help:"start without the WebSocket broker if it does not connect within --broker-wait, and keep connecting in the background"`

	// History lists the topics that keep a bounded history, so that a
	// client that reconnects gets what it missed (SubscribeFrom, the
	// client protocol of docs/websocket.md): the first rule whose Pattern
	// (a glob where '*' matches any run of bytes, dots included) matches
	// a topic gives its Size and TTL. Each publication on such a topic
	// gets an offset from the history and reaches subscribers with it.
	// Empty: no topic keeps one. Set in code (not a config key).
	History broker.HistoryPolicies `toml:"-"`
	// HistoryStore keeps the histories; nil means the broker's (Redis
	// Streams, JetStream: a broker.HistoryProvider) when Broker is set,
	// else one in memory, for this node only. It must cover every topic
	// History does.
	HistoryStore broker.History `toml:"-"`
	// HistoryFrame builds the text frame that delivers a publication of a
	// history topic to its subscribers, live or recovered: it appends the
	// message to dst and returns it. Nil means the client protocol's "pub"
	// message (docs/websocket.md). An app with a protocol of its own puts
	// the position in its own message (examples/chat adds "offset" to its
	// JSON). It runs once per publication for all the topic's subscribers
	// on this node, from the hub's goroutines, and must not keep data.
	HistoryFrame func(dst []byte, topic string, pos Position, data []byte, op OpCode) []byte `toml:"-"`
	// HistoryCheck is how often a node compares the top of each history
	// topic it has subscribers for with what it delivered, and reads what
	// the bus lost (a publication during a broker outage with none after
	// it) from the history; default 5s. Flag --ws.history-check.
	HistoryCheck time.Duration `flag:"ws.history-check" help:"how often a node checks its WebSocket history topics for publications the bus lost" default:"5s"`
	// Presence lists the patterns of the topics whose subscribers are
	// tracked on every node of the cluster (Hub.Presence,
	// NumClusterSubscribers, Socket.SubscribePresence): globs where '*'
	// matches any run of bytes, as in broker.HistoryRule. Empty: none.
	Presence []string `help:"patterns of the WebSocket topics whose subscribers are tracked cluster-wide (presence), comma-separated globs ('*' matches anything)"`
	// PresenceTTL is how long a node that stopped sending presence
	// heartbeats (one every quarter of it) keeps its subscribers in the
	// other nodes' presence, when it went away without saying so.
	// Default 10s.
	PresenceTTL time.Duration `help:"how long a silent node's WebSocket subscribers stay in the other nodes' presence" default:"10s"`

	// PoolMaxItems is the number of connection objects each route makes
	// up front and keeps for reuse; default 128 (graft's
	// DefaultPoolMaxItems), -1 disables pooling. Flag
	// --ws-factory-maxitems.
	PoolMaxItems int `toml:"factory-maxitems" flag:"ws.factory-maxitems,ws-factory-maxitems" help:"WebSocket connection objects pre-allocated and pooled (-1: no pooling)" default:"128"`
}

// Default values of Config and Behavior fields.
const (
	DefaultMaxPayloadLength = 16 << 10
	DefaultIdleTimeout      = 120 * time.Second
	DefaultMaxBackpressure  = 64 << 10
	DefaultBrokerWait       = 5 * time.Second
)

// poolSize resolves PoolMaxItems' default.
func poolSize(n int) int {
	if n == 0 {
		return graft.DefaultPoolMaxItems
	}
	return n
}

// ExtensionID is the ID of the WebSocket extension.
const ExtensionID = "graft.ws"

// Extension returns the WebSocket extension with the app-wide settings
// cfg. Register it on the app, before its routes, to configure WebSockets:
//
//	app.Register(ws.Extension(ws.Config{MaxPayloadLength: 1 << 20, Broker: b}))
//	ws.Route(app, "/ws", ws.Behavior[Session]{…})
//
// An app that does not register it gets one with the default Config at
// its first Route (or HubOf), so a plain app needs no registration; its
// flags (--ws-*, --broker-*) exist from then on. The extension defines
// the flags when registered, prepares the routes and connects the broker
// at start-up, closes every connection with 1001 when the app stops, then
// stops the broker. The returned Hub is also the handle for publishing.
func Extension(cfg Config) *Hub {
	h := &Hub{cfg: cfg, logger: slog.Default()}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.now.Store(time.Now().UnixNano())
	return h
}

// ID returns ExtensionID.
func (h *Hub) ID() string { return ExtensionID }

// ConfigSection makes Config the app's [ws] config section
// (graft.ConfigSectioner): the loader fills it from the file, the
// environment and the flags, the Config given to Extension being the
// defaults.
func (h *Hub) ConfigSection() (string, any) { return "ws", &h.cfg }

// Extend takes the app's logger and arranges for connections to be closed
// with 1001 when the app stops.
func (h *Hub) Extend(b *graft.Builder) error {
	h.logger = b.Logger()
	b.OnShutdown(h.shutdown)
	return nil
}

// Start prepares the routes, connects the broker (waiting up to
// Config.BrokerWait) and starts the timers.
func (h *Hub) Start(ctx context.Context) error { return h.start(ctx) }

// Stop stops the timers and closes the broker.
func (h *Hub) Stop(ctx context.Context) error { return h.stop(ctx) }

// LifecycleTimeout lets Start wait for the broker as long as BrokerWait
// says (the hub bounds its own waits).
func (h *Hub) LifecycleTimeout() time.Duration { return hubHookTimeout }

var (
	_ graft.Extension        = (*Hub)(nil)
	_ graft.Starter          = (*Hub)(nil)
	_ graft.Stopper          = (*Hub)(nil)
	_ graft.LifecycleTimeout = (*Hub)(nil)
)
