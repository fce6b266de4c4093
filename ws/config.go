package ws

import (
	"context"
	"flag"
	"log/slog"
	"strconv"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
)

// Config holds the app-wide WebSocket settings, the WebSocket extension's
// config section (see Extension). A Behavior field left at its zero value
// takes the value here; a zero value here means the documented default,
// which is uWebSockets'.
type Config struct {
	// MaxPayloadLength bounds a received message, after reassembly of
	// fragments and after decompression; a bigger one closes the
	// connection with 1009. Default 16 KiB. Flag --ws-max-size.
	MaxPayloadLength int
	// IdleTimeout closes a connection that received nothing for this long;
	// default 120s, -1 none. Flag --ws-idle-timeout.
	IdleTimeout time.Duration
	// MaxBackpressure is the number of bytes a connection may have waiting
	// to be written before Send drops messages; default 64 KiB, -1 no
	// limit. Flag --ws-max-backpressure.
	MaxBackpressure int
	// DisablePings stops the automatic pings sent to idle connections
	// (uWebSockets' sendPingsAutomatically, on by default). Flag
	// --ws-auto-ping=false.
	DisablePings bool
	// PerMessageDeflate negotiates permessage-deflate on every WebSocket
	// route. Flag --ws-per-message-deflate.
	PerMessageDeflate bool
	// MaxLifetime closes every connection this long after it opened;
	// default 0, no limit. Flag --ws-max-lifetime.
	MaxLifetime time.Duration
	// CloseOnBackpressureLimit closes a connection, instead of dropping
	// the message, when a Send finds it over MaxBackpressure. Flag
	// --ws-close-on-backpressure-limit.
	CloseOnBackpressureLimit bool
	// ResetIdleTimeoutOnSend makes every successful Send count as
	// activity for the idle timeout. Flag --ws-reset-idle-on-send.
	ResetIdleTimeoutOnSend bool

	// Broker carries published messages to the other nodes of a cluster
	// (see package broker and docs/websocket.md); nil means this node
	// only. The app starts it and closes it at shutdown.
	Broker broker.Broker
	// BrokerWait bounds how long start-up waits for the broker to connect;
	// past it, start-up fails with an error naming the broker. Default
	// 5s. Flag --broker-wait.
	BrokerWait time.Duration
	// BrokerOptional starts the app without the broker when it has not
	// connected within BrokerWait, instead of failing: the broker keeps
	// connecting in the background, topics subscribed meanwhile are
	// subscribed on the bus once it connects, and until then Publish
	// reaches this node only (ErrLocalOnly). Flag --broker-optional.
	BrokerOptional bool

	// PoolMaxItems is the number of connection objects each route makes
	// up front and keeps for reuse; default 1024 (graft's
	// DefaultPoolMaxItems), -1 disables pooling. Flag
	// --ws-factory-maxitems.
	PoolMaxItems int
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

// registerFlags defines the --ws-* and --broker-* flags on fs.
func (c *Config) registerFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.PoolMaxItems, "ws-factory-maxitems", poolSize(c.PoolMaxItems), "WebSocket connection objects pre-allocated and pooled (-1: no pooling)")
	fs.IntVar(&c.MaxPayloadLength, "ws-max-size", orDefault(c.MaxPayloadLength, DefaultMaxPayloadLength), "largest WebSocket message accepted, in bytes (bigger: close 1009)")
	fs.DurationVar(&c.IdleTimeout, "ws-idle-timeout", orDefault(c.IdleTimeout, DefaultIdleTimeout), "close WebSockets idle this long (negative: never)")
	fs.IntVar(&c.MaxBackpressure, "ws-max-backpressure", orDefault(c.MaxBackpressure, DefaultMaxBackpressure), "bytes a WebSocket may have unsent before Send drops (-1: no limit)")
	fs.Var((*invertedBool)(&c.DisablePings), "ws-auto-ping", "ping idle WebSockets automatically (default true; --ws-auto-ping=false turns pings off)")
	fs.BoolVar(&c.PerMessageDeflate, "ws-per-message-deflate", c.PerMessageDeflate, "negotiate permessage-deflate compression on WebSockets")
	fs.DurationVar(&c.MaxLifetime, "ws-max-lifetime", c.MaxLifetime, "close WebSockets this long after they opened (0: never)")
	fs.BoolVar(&c.CloseOnBackpressureLimit, "ws-close-on-backpressure-limit", c.CloseOnBackpressureLimit, "close a WebSocket, instead of dropping the message, when it is over --ws-max-backpressure")
	fs.BoolVar(&c.ResetIdleTimeoutOnSend, "ws-reset-idle-on-send", c.ResetIdleTimeoutOnSend, "count sending as activity for --ws-idle-timeout")
	fs.DurationVar(&c.BrokerWait, "broker-wait", orDefault(c.BrokerWait, DefaultBrokerWait), "how long start-up waits for the WebSocket pub/sub broker before failing (or, with --broker-optional, starting without it)")
	fs.BoolVar(&c.BrokerOptional, "broker-optional", c.BrokerOptional, "start without the WebSocket broker if it does not connect within --broker-wait, and keep connecting in the background")
}

// invertedBool is a boolean flag stored as its negation, so that a field
// whose zero value means "on" (DisablePings) can have a flag that says
// what it turns on (--ws-auto-ping, default true).
type invertedBool bool

func (b *invertedBool) String() string {
	if b == nil {
		return "true"
	}
	return strconv.FormatBool(!bool(*b))
}

func (b *invertedBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*b = invertedBool(!v)
	return nil
}

func (b *invertedBool) IsBoolFlag() bool { return true }

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

// DefineFlags defines the --ws-* and --broker-* flags, with the Config's
// values as defaults.
func (h *Hub) DefineFlags(fs *flag.FlagSet) { h.cfg.registerFlags(fs) }

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
	_ graft.FlagDefiner      = (*Hub)(nil)
	_ graft.Starter          = (*Hub)(nil)
	_ graft.Stopper          = (*Hub)(nil)
	_ graft.LifecycleTimeout = (*Hub)(nil)
)
