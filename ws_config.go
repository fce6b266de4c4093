package graft

import (
	"flag"
	"strconv"
	"time"

	"github.com/graftgo/graft/broker"
)

// WSConfig holds the app-wide WebSocket defaults (Config.WebSocket). A
// Behavior field left at its zero value takes the value here; a zero value
// here means the documented default, which is uWebSockets'.
type WSConfig struct {
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
}

// Default values of WSConfig and Behavior fields.
const (
	DefaultWSMaxPayloadLength = 16 << 10
	DefaultWSIdleTimeout      = 120 * time.Second
	DefaultWSMaxBackpressure  = 64 << 10
	DefaultBrokerWait         = 5 * time.Second
)

// registerFlags defines the --ws-* flags on fs.
func (c *WSConfig) registerFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.MaxPayloadLength, "ws-max-size", orDefault(c.MaxPayloadLength, DefaultWSMaxPayloadLength), "largest WebSocket message accepted, in bytes (bigger: close 1009)")
	fs.DurationVar(&c.IdleTimeout, "ws-idle-timeout", orDefault(c.IdleTimeout, DefaultWSIdleTimeout), "close WebSockets idle this long (negative: never)")
	fs.IntVar(&c.MaxBackpressure, "ws-max-backpressure", orDefault(c.MaxBackpressure, DefaultWSMaxBackpressure), "bytes a WebSocket may have unsent before Send drops (-1: no limit)")
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
