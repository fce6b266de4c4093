package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/graftgo/graft/broker"
	natsgo "github.com/nats-io/nats.go"
)

// Options configures a Broker. The zero value connects to nats.DefaultURL
// (nats://127.0.0.1:4222) with the defaults documented on each field.
type Options struct {
	// URL is the server URL, or a comma-separated list of them; empty means
	// nats.DefaultURL.
	URL string
	// Prefix is the first tokens of every subject the broker uses (see the
	// package documentation); empty means "graft.ws".
	Prefix string
	// Name is the connection name the server shows (in /connz, say); empty
	// means "graft-<node id>".
	Name string
	// ReconnectWait is the first delay between reconnect attempts; it
	// doubles on every failed attempt up to MaxReconnectWait, with up to
	// 50 % random jitter. Zero means 100 ms.
	ReconnectWait time.Duration
	// MaxReconnectWait caps the reconnect delay; zero means 5 s.
	MaxReconnectWait time.Duration
	// QueueLen is the number of received messages that may wait for the
	// deliver function; zero means 65536. Past it, messages are dropped.
	QueueLen int
	// Logger receives connection events (disconnect, reconnect, slow
	// consumer); nil means slog.Default().
	Logger *slog.Logger
	// NATSOptions are applied after the broker's own options, to set TLS,
	// credentials and the like. Options that replace the broker's
	// connection handlers or turn echo back on break the broker.
	NATSOptions []natsgo.Option
}

// Broker is a broker.Broker over NATS core pub/sub; see the package
// documentation. Make one with New.
type Broker struct {
	opts   Options
	prefix string
	inbox  *broker.Inbox
	log    *slog.Logger
	queue  chan *natsgo.Msg
	quit   chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	nc       *natsgo.Conn                    // nil before Start
	subs     map[string]*natsgo.Subscription // topic -> subscription (nil before Start)
	unsubbed uint64                          // messages dropped by subscriptions since removed
	state    broker.Lifecycle

	bufs broker.EnvelopeBuffers
}

var (
	_ broker.Broker          = (*Broker)(nil)
	_ broker.StatsReporter   = (*Broker)(nil)
	_ broker.HistoryProvider = (*Broker)(nil)
)

// New returns a Broker configured by opts. It does not connect: Start does.
func New(opts Options) (*Broker, error) {
	if opts.URL == "" {
		opts.URL = natsgo.DefaultURL
	}
	if opts.Prefix == "" {
		opts.Prefix = "graft.ws"
	}
	if err := validPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if opts.ReconnectWait <= 0 {
		opts.ReconnectWait = 100 * time.Millisecond
	}
	if opts.MaxReconnectWait <= 0 {
		opts.MaxReconnectWait = 5 * time.Second
	}
	if opts.MaxReconnectWait < opts.ReconnectWait {
		opts.MaxReconnectWait = opts.ReconnectWait
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 65536
	}
	id := broker.NewNodeID()
	if opts.Name == "" {
		opts.Name = "graft-" + id.String()
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Broker{
		opts:   opts,
		prefix: opts.Prefix,
		inbox:  broker.NewInbox(id),
		log:    log.With("broker", "nats", "node", id.String()),
		queue:  make(chan *natsgo.Msg, opts.QueueLen),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		subs:   make(map[string]*natsgo.Subscription),
	}, nil
}

// ID returns the node's id, random per Broker.
func (b *Broker) ID() broker.NodeID { return b.inbox.Self() }

// String names the broker by its server URLs, without passwords or
// tokens, for logs and errors ("nats://127.0.0.1:4222").
func (b *Broker) String() string {
	urls := strings.Split(b.opts.URL, ",")
	for i, raw := range urls {
		raw = strings.TrimSpace(raw)
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "redacted")
			} else {
				u.User = url.User("redacted") // a lone user part is a token
			}
			raw = u.String()
		}
		urls[i] = raw
	}
	return strings.Join(urls, ",")
}

// Conn returns the NATS connection, or nil before Start. It is for
// inspection (status, statistics); closing it or changing its
// subscriptions breaks the broker.
func (b *Broker) Conn() *natsgo.Conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nc
}

// NewHistory implements broker.HistoryProvider: a History in JetStream
// (file storage) on the broker's connection, its subjects and streams
// under the broker's Prefix followed by "h" ("graft.wsh" by default). It
// needs a started broker and a server with JetStream enabled.
func (b *Broker) NewHistory(policies broker.HistoryPolicies) (broker.History, error) {
	nc := b.Conn()
	if nc == nil {
		return nil, errors.New("graft/broker/nats: NewHistory before Start: the history uses the broker's connection")
	}
	return NewHistory(nc, HistoryOptions{Policies: policies, Prefix: b.prefix + "h"})
}

// backoff returns the delay before reconnect attempt n (n ≥ 1); see
// broker.Backoff.
func (b *Broker) backoff(n int) time.Duration {
	return broker.Backoff(n, b.opts.ReconnectWait, b.opts.MaxReconnectWait)
}

// Start implements broker.Broker.Start: it connects, waiting until the
// server is reached or ctx ends, and subscribes to the topics recorded so
// far. After a failed Start, Start may be called again.
func (b *Broker) Start(ctx context.Context, deliver broker.DeliverFunc) error {
	b.mu.Lock()
	err := b.state.Start()
	b.mu.Unlock()
	if err != nil {
		return err
	}

	b.inbox.SetDeliver(deliver)
	opts := append([]natsgo.Option{
		natsgo.Name(b.opts.Name),
		natsgo.NoEcho(),
		natsgo.MaxReconnects(-1),
		natsgo.RetryOnFailedConnect(true),
		natsgo.CustomReconnectDelay(b.backoff),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			b.log.Warn("graft: NATS broker disconnected; reconnecting", "err", err)
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			b.log.Info("graft: NATS broker reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, sub *natsgo.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			b.log.Error("graft: NATS broker error", "subject", subject, "err", err)
		}),
	}, b.opts.NATSOptions...)
	nc, err := natsgo.Connect(b.opts.URL, opts...)
	if err != nil {
		return fmt.Errorf("graft/broker/nats: connect to %s: %w", b.opts.URL, err)
	}
	if err := waitConnected(ctx, nc); err != nil {
		nc.Close()
		b.mu.Lock()
		b.state.StartFailed() // Start may be tried again
		b.mu.Unlock()
		return fmt.Errorf("graft/broker/nats: connect to %s: %w", b.opts.URL, err)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Closed() { // Close ran while we were connecting
		nc.Close()
		return broker.ErrClosed
	}
	b.nc = nc
	for topic := range b.subs {
		if err := b.subscribeLocked(topic); err != nil {
			nc.Close()
			b.nc = nil
			return err
		}
	}
	go b.run()
	return nil
}

func waitConnected(ctx context.Context, nc *natsgo.Conn) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !nc.IsConnected() {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
	return nil
}

// run delivers received messages, from one goroutine so that the number of
// goroutines does not grow with the number of topics.
func (b *Broker) run() {
	defer close(b.done)
	for {
		select {
		case m := <-b.queue:
			b.inbox.Receive(m.Data) // nats.go gives every message its own Data
		case <-b.quit:
			return
		}
	}
}

// subscribeLocked subscribes topic on the connection. b.mu is held.
func (b *Broker) subscribeLocked(topic string) error {
	subject, err := Subject(b.prefix, topic)
	if err != nil {
		return err
	}
	sub, err := b.nc.ChanSubscribe(subject, b.queue)
	if err != nil {
		return fmt.Errorf("graft/broker/nats: subscribe to %q: %w", topic, err)
	}
	b.subs[topic] = sub
	return nil
}

// Subscribe implements broker.Broker.Subscribe. The subscription is written
// to the connection's buffer and flushed in the background; it is sent
// again after every reconnect.
func (b *Broker) Subscribe(topic string) error {
	if len(topic) > MaxTopicLen {
		_, err := Subject(b.prefix, topic)
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Closed() {
		return broker.ErrClosed
	}
	if _, ok := b.subs[topic]; ok {
		return nil
	}
	if b.nc == nil {
		b.subs[topic] = nil // subscribed at Start
		return nil
	}
	return b.subscribeLocked(topic)
}

// Unsubscribe implements broker.Broker.Unsubscribe.
func (b *Broker) Unsubscribe(topic string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Closed() {
		return broker.ErrClosed
	}
	sub, ok := b.subs[topic]
	if !ok {
		return nil
	}
	delete(b.subs, topic)
	if sub == nil {
		return nil
	}
	if n, err := sub.Dropped(); err == nil {
		b.unsubbed += uint64(n)
	}
	if err := sub.Unsubscribe(); err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) {
		return fmt.Errorf("graft/broker/nats: unsubscribe from %q: %w", topic, err)
	}
	return nil
}

// Publish implements broker.Broker.Publish. It does not wait for the
// server: the message is written to the connection's buffer (or, while
// reconnecting, to the reconnect buffer), so ctx is only checked first.
func (b *Broker) Publish(ctx context.Context, m broker.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	subject, err := Subject(b.prefix, m.Topic)
	if err != nil {
		return err
	}
	b.mu.Lock()
	nc, closed := b.nc, b.state.Closed()
	b.mu.Unlock()
	switch {
	case closed:
		return broker.ErrClosed
	case nc == nil:
		return broker.ErrNotStarted
	}
	bp := b.bufs.Encode(b.ID(), m)
	err = nc.Publish(subject, *bp) // copies into the connection's buffer
	b.bufs.Release(bp)
	if err != nil {
		if errors.Is(err, natsgo.ErrConnectionClosed) {
			return broker.ErrClosed
		}
		return fmt.Errorf("graft/broker/nats: publish on %q: %w", m.Topic, err)
	}
	b.inbox.CountPublished()
	return nil
}

// Close implements broker.Broker.Close: it closes the connection (the
// server drops the node's subscriptions with it) and waits for the delivery
// goroutine to stop.
func (b *Broker) Close() error {
	b.mu.Lock()
	if !b.state.Close() {
		b.mu.Unlock()
		return nil
	}
	nc := b.nc
	b.mu.Unlock()
	if nc == nil {
		return nil
	}
	nc.Close()
	close(b.quit)
	<-b.done
	b.inbox.SetDeliver(nil)
	return nil
}

// Stats implements broker.StatsReporter. Dropped includes messages the
// subscriptions dropped because the queue was full.
func (b *Broker) Stats() broker.Stats {
	s := b.inbox.Stats()
	b.mu.Lock()
	defer b.mu.Unlock()
	s.Dropped += b.unsubbed
	for _, sub := range b.subs {
		if sub == nil {
			continue
		}
		if n, err := sub.Dropped(); err == nil {
			s.Dropped += uint64(n)
		}
	}
	return s
}
