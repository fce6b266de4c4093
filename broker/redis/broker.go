package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/redis/rueidis"
)

// Options configures a Broker. The zero value connects to 127.0.0.1:6379
// with the defaults documented on each field.
type Options struct {
	// Addr is the Redis server's host:port; empty means 127.0.0.1:6379.
	// It is ignored when Client.InitAddress is set.
	Addr string
	// Prefix is prepended to every topic to make its channel name; empty
	// means "graft:ws:". Give each app sharing a Redis its own.
	Prefix string
	// ReconnectWait is the first delay between attempts to restore the
	// subscription connection; it doubles on every failed attempt up to
	// MaxReconnectWait, with up to 50 % random jitter. Zero means 100 ms.
	ReconnectWait time.Duration
	// MaxReconnectWait caps the reconnect delay; zero means 5 s.
	MaxReconnectWait time.Duration
	// CommandTimeout bounds each SUBSCRIBE and UNSUBSCRIBE sent for
	// Subscribe and Unsubscribe; zero means 5 s.
	CommandTimeout time.Duration
	// QueueLen is the number of received messages that may wait for the
	// deliver function; zero means 65536. Past it, messages are dropped.
	QueueLen int
	// Logger receives connection events; nil means slog.Default().
	Logger *slog.Logger
	// Client holds rueidis options (TLS, auth, timeouts). The broker sets
	// InitAddress from Addr when it is empty, ClientName to
	// "graft-<node id>" when it is empty, and DisableCache, since pub/sub
	// needs no client-side cache.
	Client rueidis.ClientOption
}

// Broker is a broker.Broker over Redis pub/sub; see the package
// documentation. Make one with New.
type Broker struct {
	opts  Options
	inbox *broker.Inbox
	log   *slog.Logger
	queue chan []byte
	quit  chan struct{}
	wg    sync.WaitGroup

	// busMu serialises the commands that change the subscription
	// connection's channels (and the swap to a new connection), so that
	// the channels subscribed on Redis follow the order of Subscribe and
	// Unsubscribe calls.
	busMu sync.Mutex
	sub   rueidis.DedicatedClient // nil while disconnected; guarded by busMu

	mu     sync.Mutex
	client rueidis.Client // nil before Start
	topics map[string]struct{}
	state  broker.Lifecycle

	bufs broker.EnvelopeBuffers
}

var (
	_ broker.Broker          = (*Broker)(nil)
	_ broker.StatsReporter   = (*Broker)(nil)
	_ broker.HistoryProvider = (*Broker)(nil)
)

// New returns a Broker configured by opts. It does not connect: Start does.
func New(opts Options) (*Broker, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:6379"
	}
	if opts.Prefix == "" {
		opts.Prefix = "graft:ws:"
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
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = 5 * time.Second
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 65536
	}
	id := broker.NewNodeID()
	if len(opts.Client.InitAddress) == 0 {
		opts.Client.InitAddress = []string{opts.Addr}
	}
	if opts.Client.ClientName == "" {
		opts.Client.ClientName = "graft-" + id.String()
	}
	opts.Client.DisableCache = true
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Broker{
		opts:   opts,
		inbox:  broker.NewInbox(id),
		log:    log.With("broker", "redis", "node", id.String()),
		queue:  make(chan []byte, opts.QueueLen),
		quit:   make(chan struct{}),
		topics: make(map[string]struct{}),
	}, nil
}

// ID returns the node's id, random per Broker.
func (b *Broker) ID() broker.NodeID { return b.inbox.Self() }

// String names the broker by its server addresses, for logs and errors
// ("redis://127.0.0.1:6379"); credentials live in Options.Client and are
// not shown.
func (b *Broker) String() string {
	return "redis://" + strings.Join(b.opts.Client.InitAddress, ",")
}

// NewHistory implements broker.HistoryProvider: a History in Redis
// Streams on the broker's connection, its keys under the broker's Prefix
// followed by "h:" ("graft:ws:h:" by default). It needs a started broker.
func (b *Broker) NewHistory(policies broker.HistoryPolicies) (broker.History, error) {
	b.mu.Lock()
	c := b.client
	b.mu.Unlock()
	if c == nil {
		return nil, errors.New("graft/broker/redis: NewHistory before Start: the history uses the broker's connection")
	}
	return NewHistory(c, HistoryOptions{Policies: policies, Prefix: b.opts.Prefix + "h:"})
}

// Channel returns the Redis channel topic maps to.
func (b *Broker) Channel(topic string) string { return b.opts.Prefix + topic }

// backoff returns the delay before attempt n (n ≥ 1); see broker.Backoff.
func (b *Broker) backoff(n int) time.Duration {
	return broker.Backoff(n, b.opts.ReconnectWait, b.opts.MaxReconnectWait)
}

// Start implements broker.Broker.Start: it connects, retrying until Redis
// answers or ctx ends, opens the subscription connection and subscribes to
// the topics recorded so far. After a failed Start, Start may be called
// again.
func (b *Broker) Start(ctx context.Context, deliver broker.DeliverFunc) error {
	b.mu.Lock()
	err := b.state.Start()
	b.mu.Unlock()
	if err != nil {
		return err
	}

	fail := func(err error) error {
		b.mu.Lock()
		b.state.StartFailed()
		b.mu.Unlock()
		return fmt.Errorf("graft/broker/redis: connect to %v: %w", b.opts.Client.InitAddress, err)
	}
	var client rueidis.Client
	for attempt := 1; ; attempt++ {
		var err error
		if client, err = rueidis.NewClient(b.opts.Client); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fail(errors.Join(context.Cause(ctx), err))
		case <-time.After(b.backoff(attempt)):
		}
	}
	b.inbox.SetDeliver(deliver)
	// The first subscription connection is made here, so that Start
	// reports an unreachable server instead of retrying in the background.
	sub, lost, err := b.connect(ctx, client)
	if err != nil {
		client.Close()
		return fail(err)
	}

	b.mu.Lock()
	if b.state.Closed() { // Close ran while we were connecting
		b.mu.Unlock()
		b.dropSub(sub)
		client.Close()
		return broker.ErrClosed
	}
	b.client = client
	b.mu.Unlock()
	b.wg.Add(2)
	go b.run()
	go b.supervise(client, sub, lost)
	return nil
}

// connect opens a subscription connection, subscribes it to every current
// topic and makes it the broker's. lost receives (or is closed) when the
// connection breaks.
func (b *Broker) connect(ctx context.Context, client rueidis.Client) (rueidis.DedicatedClient, <-chan error, error) {
	sub, _ := client.Dedicate()
	lost := sub.SetPubSubHooks(rueidis.PubSubHooks{
		OnMessage: func(m rueidis.PubSubMessage) {
			select {
			case b.queue <- []byte(m.Message):
			default:
				b.inbox.CountDropped()
			}
		},
	})
	ctx, cancel := context.WithTimeout(ctx, b.opts.CommandTimeout)
	defer cancel()
	// PING proves the connection works even when there is nothing to
	// subscribe to yet.
	if err := sub.Do(ctx, sub.B().Ping().Build()).Error(); err != nil {
		sub.Close()
		return nil, nil, err
	}
	b.busMu.Lock()
	defer b.busMu.Unlock()
	b.mu.Lock()
	channels := make([]string, 0, len(b.topics))
	for t := range b.topics {
		channels = append(channels, b.Channel(t))
	}
	b.mu.Unlock()
	if len(channels) > 0 {
		if err := sub.Do(ctx, sub.B().Subscribe().Channel(channels...).Build()).Error(); err != nil {
			sub.Close()
			return nil, nil, err
		}
	}
	b.sub = sub
	return sub, lost, nil
}

// dropSub forgets and closes sub if it is still the broker's.
func (b *Broker) dropSub(sub rueidis.DedicatedClient) {
	b.busMu.Lock()
	if b.sub == sub {
		b.sub = nil
	}
	b.busMu.Unlock()
	sub.Close()
}

// supervise waits for the subscription connection to break and replaces
// it, with backoff, until Close.
func (b *Broker) supervise(client rueidis.Client, sub rueidis.DedicatedClient, lost <-chan error) {
	defer b.wg.Done()
	for {
		select {
		case <-b.quit:
			b.dropSub(sub)
			return
		case err := <-lost:
			b.dropSub(sub)
			b.log.Warn("graft: Redis broker subscription connection lost; reconnecting", "err", err)
		}
		for attempt := 1; ; attempt++ {
			select {
			case <-b.quit:
				return
			case <-time.After(b.backoff(attempt)):
			}
			var err error
			ctx, cancel := context.WithCancel(context.Background())
			go func() { // Close must not wait for a connection attempt
				select {
				case <-b.quit:
					cancel()
				case <-ctx.Done():
				}
			}()
			sub, lost, err = b.connect(ctx, client)
			cancel()
			if err == nil {
				b.log.Info("graft: Redis broker reconnected", "attempts", attempt)
				break
			}
			b.log.Debug("graft: Redis broker reconnect failed", "attempt", attempt, "err", err)
		}
	}
}

// run delivers received messages from one goroutine.
func (b *Broker) run() {
	defer b.wg.Done()
	for {
		select {
		case data := <-b.queue:
			b.inbox.Receive(data)
		case <-b.quit:
			return
		}
	}
}

// Subscribe implements broker.Broker.Subscribe. It waits for Redis to
// confirm the SUBSCRIBE, up to Options.CommandTimeout; while Redis is
// unreachable it records the topic and returns nil, and the topic is
// subscribed on reconnect.
func (b *Broker) Subscribe(topic string) error {
	return b.change(topic, true)
}

// Unsubscribe implements broker.Broker.Unsubscribe.
func (b *Broker) Unsubscribe(topic string) error {
	return b.change(topic, false)
}

func (b *Broker) change(topic string, subscribe bool) error {
	b.busMu.Lock()
	defer b.busMu.Unlock()
	b.mu.Lock()
	if b.state.Closed() {
		b.mu.Unlock()
		return broker.ErrClosed
	}
	_, had := b.topics[topic]
	if had == subscribe {
		b.mu.Unlock()
		return nil
	}
	if subscribe {
		b.topics[topic] = struct{}{}
	} else {
		delete(b.topics, topic)
	}
	b.mu.Unlock()
	sub := b.sub
	if sub == nil {
		return nil // applied by the next connect
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
	defer cancel()
	var cmd rueidis.Completed
	if subscribe {
		cmd = sub.B().Subscribe().Channel(b.Channel(topic)).Build()
	} else {
		cmd = sub.B().Unsubscribe().Channel(b.Channel(topic)).Build()
	}
	if err := sub.Do(ctx, cmd).Error(); err != nil {
		// The connection is failing: the supervisor replaces it and
		// subscribes to the recorded topics, this one included.
		b.log.Debug("graft: Redis broker (un)subscribe failed; applied on reconnect", "topic", topic, "err", err)
	}
	return nil
}

// Publish implements broker.Broker.Publish: one PUBLISH, waiting for Redis
// to answer or ctx to end. It fails while Redis is unreachable.
func (b *Broker) Publish(ctx context.Context, m broker.Message) error {
	b.mu.Lock()
	client, closed := b.client, b.state.Closed()
	b.mu.Unlock()
	switch {
	case closed:
		return broker.ErrClosed
	case client == nil:
		return broker.ErrNotStarted
	}
	bp := b.bufs.Encode(b.ID(), m)
	// BinaryString does not copy; the buffer is reused only after Do
	// has returned Redis's answer. A failed Do (a broken connection, ctx
	// ended) may return while rueidis is still writing the command, so
	// the buffer is then left to the garbage collector, not the pool.
	err := client.Do(ctx, client.B().Publish().Channel(b.Channel(m.Topic)).Message(rueidis.BinaryString(*bp)).Build()).Error()
	if err != nil {
		if errors.Is(err, rueidis.ErrClosing) {
			return broker.ErrClosed
		}
		return fmt.Errorf("graft/broker/redis: publish on %q: %w", m.Topic, err)
	}
	b.bufs.Release(bp)
	b.inbox.CountPublished()
	return nil
}

// Close implements broker.Broker.Close: it closes the subscription
// connection and the client and waits for the broker's goroutines.
func (b *Broker) Close() error {
	b.mu.Lock()
	if !b.state.Close() {
		b.mu.Unlock()
		return nil
	}
	client := b.client
	b.mu.Unlock()
	if client == nil {
		return nil
	}
	close(b.quit)
	b.wg.Wait()
	client.Close()
	b.inbox.SetDeliver(nil)
	return nil
}

// Stats implements broker.StatsReporter.
func (b *Broker) Stats() broker.Stats { return b.inbox.Stats() }
