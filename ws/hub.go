package ws

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/internal/topic"
)

// Hub is an app's WebSocket state and the extension that brings it (see
// Extension): its settings, its open connections, the topic registry, the
// broker and the timer that enforces idle timeouts, pings and lifetimes.
// Its methods are safe for concurrent use.
type Hub struct {
	cfg    Config
	logger *slog.Logger
	reg    topic.Registry[subKey]
	brkSet broker.Broker                 // set by SetBroker before start
	brk    atomic.Pointer[broker.Broker] // the started broker, nil without one
	routes []wsPreparer
	hooks  []connHook // extensions' open and close hooks (OnOpen, OnClose)

	mu      sync.Mutex
	head    *Socket // open connections, a doubly linked list
	ended   Stats   // counters of the connections that closed
	closing bool
	wg      sync.WaitGroup // one per open connection's goroutine

	now    atomic.Int64 // coarse clock (unix ns), advanced by the sweeper
	clock  func() int64 // the rate limiter's clock in tests; nil: monotonic
	ctx    context.Context
	cancel context.CancelFunc

	startOnce, stopOnce sync.Once
	started             atomic.Bool
	startErr            error
	sweepStop, sweepEnd chan struct{}
	retries             sync.WaitGroup // goroutines retrying bus subscriptions

	bus [busStripes]busStripe

	hist      atomic.Pointer[broker.History] // nil without Config.History
	streamsMu sync.RWMutex
	streams   map[string]*stream // history topics with local subscribers

	pres *presence // nil without Config.Presence; set at start-up
}

// subKey is a subscription: the connection and its generation, so that a
// publish iterating an old snapshot never reaches a pooled Socket's next
// life.
type subKey struct {
	s   *Socket
	gen uint32
}

// wsPreparer is a route, as the hub sees it.
type wsPreparer interface {
	prepare(wc *Config) error
	settings() *wsSettings
}

func (r *wsRoute[T]) settings() *wsSettings { return &r.set }

// busStripe serialises broker subscribe/unsubscribe calls for its topics,
// so that the bus subscription always follows the registry.
const busStripes = 32

type busStripe struct {
	mu       sync.Mutex
	subs     map[string]struct{}
	retrying map[string]struct{} // topics a retry goroutine owns
}

// Bus subscription retries back off from busRetryBase to busRetryMax.
var busRetryBase, busRetryMax = 100 * time.Millisecond, 5 * time.Second

// hubHookTimeout is the lifecycle timeout of the hub: its start-up bounds
// its own waits (Config.BrokerWait), which may be longer than
// graft.DefaultHookTimeout.
const hubHookTimeout = 24 * time.Hour

var busSeed = maphash.MakeSeed()

// hubFor returns the hub of the app r belongs to, registering one with the
// default Config when the app registered none (see Extension).
func hubFor(r graft.Router) *Hub {
	return graft.RegisterOnce(r, func() *Hub { return Extension(Config{}) })
}

// HubOf returns the hub of the app r (an App or a Group) belongs to: the
// Extension registered on it or, before the app started, one with the
// default Config, registered now. After start-up an app without WebSocket
// support has no hub: HubOf returns nil, on which Publish reaches nobody
// and the counts are 0.
func HubOf(r graft.Router) *Hub {
	if h, ok := graft.Registered[*Hub](r); ok {
		return h
	}
	return hubBeforeStart(r)
}

// hubBeforeStart is hubFor, or nil once the app started (RegisterOnce
// then refuses to register, with a setup panic this turns into nil).
func hubBeforeStart(r graft.Router) (h *Hub) {
	defer func() {
		if v := recover(); v != nil {
			if msg, ok := v.(string); !ok || !strings.Contains(msg, "after the app started") {
				panic(v)
			}
			h = nil
		}
	}()
	return hubFor(r)
}

// Publish sends data to every subscriber of topic on the app r belongs
// to; see Hub.Publish.
func Publish(r graft.Router, topic string, data []byte, op OpCode) error {
	return HubOf(r).Publish(topic, data, op)
}

// NumSubscribers returns the number of the app's connections on this node
// subscribed to topic; see Hub.NumSubscribers (and NumClusterSubscribers
// for every node's).
func NumSubscribers(r graft.Router, topic string) int {
	return HubOf(r).NumSubscribers(topic)
}

func (h *Hub) addRoute(r wsPreparer) {
	h.routes = append(h.routes, r)
}

// SetBroker sets the broker that carries published messages to the other
// nodes of a cluster, instead of Config.Broker. The app starts it and
// closes it at shutdown. Call it before the app starts.
func (h *Hub) SetBroker(b broker.Broker) {
	if h.started.Load() {
		setupPanic("setting the WebSocket broker after the app started; do it before Run, Start or the first request")
	}
	h.brkSet = b
}

// Publish sends data to every subscriber of topic: the local ones, and,
// through the broker, those of the other nodes. The frame is encoded once
// for all local subscribers. Local delivery does not fail (a subscriber
// over its backpressure limit misses the message); when the broker could
// not take the message the error is a *BusError, which matches
// ErrLocalOnly: the local subscribers got it, the other nodes did not.
// On a topic with a history (Config.History) the publication is first
// appended to it, and delivered with its epoch and offset in a "pub"
// message (docs/websocket.md); when the history fails nothing is
// delivered and the error says so.
// On a nil Hub (an app without WebSocket support) it does nothing.
func (h *Hub) Publish(topic string, data []byte, op OpCode) error {
	if op != OpText && op != OpBinary {
		return fmt.Errorf("graft: publish on %q: opcode %d is neither OpText nor OpBinary", topic, op)
	}
	if h == nil {
		return nil
	}
	if reserved(topic) {
		return ErrReservedTopic
	}
	if h.hasHistory(topic) {
		return h.publishHistory(topic, data, op)
	}
	h.publishLocal(topic, data, op, nil)
	return h.publishBus(topic, data, op)
}

// NumSubscribers returns the number of this node's connections subscribed
// to topic; NumClusterSubscribers counts every node's, on topics with
// presence.
func (h *Hub) NumSubscribers(topic string) int {
	if h == nil {
		return 0
	}
	return h.reg.NumSubscribers(topic)
}

// NumConns returns the number of open WebSocket connections.
func (h *Hub) NumConns() int {
	if h == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for s := h.head; s != nil; s = s.next {
		n++
	}
	return n
}

// Stats returns the message counters of all the app's WebSocket
// connections, open and closed, since the app started (see Stats).
func (h *Hub) Stats() Stats {
	if h == nil {
		return Stats{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.ended
	for s := h.head; s != nil; s = s.next {
		st.add(s.Stats())
	}
	return st
}

// start prepares the routes, starts the broker and the sweeper.
func (h *Hub) start(ctx context.Context) error {
	h.startOnce.Do(func() {
		h.started.Store(true)
		cfg := &h.cfg
		for _, r := range h.routes {
			if h.startErr = r.prepare(cfg); h.startErr != nil {
				return
			}
		}
		b := h.brkSet
		if b == nil {
			b = cfg.Broker
		}
		if h.startErr = h.checkHistory(b); h.startErr != nil {
			return
		}
		if h.pres, h.startErr = newPresence(h, cfg, b); h.startErr != nil {
			return
		}
		if wait := orDefault(cfg.BrokerWait, DefaultBrokerWait); b != nil && cfg.BrokerOptional {
			// Subscribe before Start records the topic (see
			// broker.Broker), and Publish fails until Start connected, so
			// the hub may use the broker at once.
			h.brk.Store(&b)
			h.startBrokerOptional(b, wait)
		} else if b != nil {
			if h.startErr = h.startBroker(ctx, b, wait); h.startErr != nil {
				return
			}
			h.brk.Store(&b)
		}
		if h.startErr = h.startHistory(b); h.startErr != nil {
			if b != nil {
				b.Close()
			}
			return
		}
		if h.pres != nil {
			if h.startErr = h.pres.start(); h.startErr != nil {
				if b != nil {
					b.Close()
				}
				return
			}
		}
		if tick := h.tick(); tick > 0 {
			h.sweepStop, h.sweepEnd = make(chan struct{}), make(chan struct{})
			go h.sweep(tick)
		}
	})
	return h.startErr
}

// startBroker starts b, waiting for it to connect up to wait, and logs
// the wait and its outcome: a broker that is down must not leave start-up
// hanging without a word.
func (h *Hub) startBroker(ctx context.Context, b broker.Broker, wait time.Duration) error {
	name := brokerName(b)
	log := h.logger
	log.Info("graft: connecting to the WebSocket broker", "broker", name, "wait", wait)
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, wait)
	err := b.Start(wctx, h.deliver)
	cancel()
	if err != nil {
		err = fmt.Errorf("graft: the WebSocket broker %s did not start within %v (--broker-wait; is it running?): %w", name, wait, err)
		log.Error("graft: WebSocket broker unreachable", "broker", name, "err", err)
		return err
	}
	log.Info("graft: WebSocket broker connected", "broker", name, "after", time.Since(start).Round(time.Millisecond))
	return nil
}

// startBrokerOptional starts b in the background, retrying until it
// connects or the app stops, and waits up to wait for it; past that the
// app starts without it, saying so.
func (h *Hub) startBrokerOptional(b broker.Broker, wait time.Duration) {
	name := brokerName(b)
	log := h.logger
	log.Info("graft: connecting to the WebSocket broker", "broker", name, "wait", wait, "optional", true)
	connected := make(chan struct{})
	start := time.Now()
	h.retries.Add(1)
	go func() {
		defer h.retries.Done()
		for attempt := 1; ; attempt++ {
			err := b.Start(h.ctx, h.deliver)
			if err == nil {
				if _, ok := b.(broker.HistoryProvider); ok && len(h.cfg.History) > 0 && h.cfg.HistoryStore == nil {
					if err := h.brokerHistory(b); err != nil {
						log.Error("graft: WebSocket history unavailable", "broker", name, "err", err)
					}
				}
				close(connected)
				log.Info("graft: WebSocket broker connected", "broker", name, "after", time.Since(start).Round(time.Millisecond))
				return
			}
			if h.ctx.Err() != nil || errors.Is(err, broker.ErrStarted) || errors.Is(err, broker.ErrClosed) {
				return
			}
			log.Error("graft: starting the WebSocket broker failed; retrying", "broker", name, "attempt", attempt, "err", err)
			t := time.NewTimer(broker.Backoff(attempt, busRetryBase, busRetryMax))
			select {
			case <-h.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-connected:
	case <-t.C:
		log.Warn("graft: starting without the WebSocket broker (--broker-optional); publishes reach this node only until it connects", "broker", name, "waited", wait)
	}
}

// brokerName names a broker for logs and errors: its String (the bus
// brokers give their server's address), else its type.
func brokerName(b broker.Broker) string {
	if s, ok := b.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", b)
}

// stop ends the sweeper and closes the broker; it runs after shutdown
// closed the connections, or when start-up rolls back.
func (h *Hub) stop(context.Context) error {
	h.stopOnce.Do(func() {
		if h.sweepStop != nil {
			close(h.sweepStop)
			<-h.sweepEnd
		}
		h.mu.Lock()
		h.cancel()
		h.mu.Unlock()
		h.retries.Wait()
		if h.pres != nil {
			h.pres.stop()
		}
		if b := h.broker(); b != nil {
			if err := b.Close(); err != nil {
				h.logger.Error("graft: closing the WebSocket broker", "err", err)
			}
		}
	})
	return nil
}

// tick returns how often the sweeper must look at connections: a quarter
// of the shortest idle timeout or lifetime, between 5ms and 1s; 0 when no
// route needs it.
func (h *Hub) tick() time.Duration {
	var t time.Duration
	for _, r := range h.routes {
		s := r.settings()
		for _, d := range []time.Duration{s.idle, s.lifetime} {
			if d > 0 && (t == 0 || d/4 < t) {
				t = d / 4
			}
		}
	}
	if t == 0 {
		return 0
	}
	return min(max(t, 5*time.Millisecond), time.Second)
}

// sweep enforces idle timeouts, automatic pings and lifetimes.
func (h *Hub) sweep(tick time.Duration) {
	defer close(h.sweepEnd)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-h.sweepStop:
			return
		case now := <-t.C:
			h.sweepOnce(now.UnixNano())
		}
	}
}

func (h *Hub) sweepOnce(now int64) {
	h.now.Store(now)
	// Acting under h.mu is safe: a connection leaves the list before it
	// goes back to its pool, and what is done here never takes h.mu.
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := h.head; s != nil; s = s.next {
		set := s.set
		if set.lifetime > 0 && now-s.opened >= int64(set.lifetime) {
			s.closeWith(StatusGoingAway, "max lifetime")
			continue
		}
		if set.idle <= 0 {
			continue
		}
		last := s.seen.Load()
		switch {
		case now-last >= int64(set.idle):
			s.closeWith(StatusGoingAway, "idle timeout")
		case set.pings && now-last >= int64(set.idle/2) && s.pinged.Load() != last:
			s.pinged.Store(last)
			s.sendControl(0x9, nil)
		}
	}
}

// add registers an open connection; it reports false when the app is
// shutting down, and then the caller drops the connection.
func (h *Hub) add(s *Socket) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.wg.Add(1)
	s.prev, s.next = nil, h.head
	if h.head != nil {
		h.head.prev = s
	}
	h.head = s
	return true
}

func (h *Hub) remove(s *Socket) {
	h.mu.Lock()
	h.ended.add(s.Stats())
	if s.prev != nil {
		s.prev.next = s.next
	} else if h.head == s {
		h.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	}
	s.prev, s.next = nil, nil
	h.mu.Unlock()
}

func (h *Hub) isClosing() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closing
}

// shutdown closes every connection with 1001 and waits for their Close
// handlers; past ctx's deadline it drops the connections that are left.
func (h *Hub) shutdown(ctx context.Context) {
	h.mu.Lock()
	h.closing = true
	for s := h.head; s != nil; s = s.next {
		s.closeWith(StatusGoingAway, "server shutting down")
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	h.mu.Lock()
	for s := h.head; s != nil; s = s.next {
		s.abort(StatusGoingAway, "server shutting down")
	}
	h.mu.Unlock()
	select {
	case <-done:
	case <-time.After(wsCloseTimeout):
		h.logger.Error("graft: WebSocket handlers still running after shutdown")
	}
}

// unsubscribeAll removes a closing connection from its topics.
func (h *Hub) unsubscribeAll(s *Socket) {
	s.mu.Lock()
	s.subClosed = true
	k := subKey{s, s.gen}
	var ptopics []string
	if x := s.x.Load(); x != nil {
		ptopics = x.presTopics
		x.presTopics = nil
	}
	s.mu.Unlock()
	if p := h.pres; p != nil {
		for _, t := range ptopics {
			p.leave(t, k, s.id)
		}
	}
	if s.set.subscription != nil {
		for _, t := range h.reg.Topics(k) {
			before, after := h.reg.UnsubscribeCount(k, t)
			if after == 0 && before == 1 {
				h.syncBus(t)
			}
			h.forgetStream(t, k)
			if before != after {
				s.subscriptionChanged(t, after, before)
			}
		}
		return
	}
	var kept []string // history topics, whose stream state may hold k
	if len(h.cfg.History) > 0 {
		kept = h.reg.Topics(k)
	}
	for _, t := range h.reg.UnsubscribeAll(k) {
		h.syncBus(t)
	}
	for _, t := range kept {
		h.forgetStream(t, k)
	}
}

// syncBus makes the node's bus subscription to topic follow the registry:
// subscribed exactly when the topic has local subscribers. A failed
// subscribe is retried with backoff until it succeeds, the topic has no
// local subscriber left or the app stops.
func (h *Hub) syncBus(topic string) {
	b := h.broker()
	if b == nil {
		return
	}
	st := &h.bus[maphash.String(busSeed, topic)%busStripes]
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.retrying[topic]; ok {
		return // the retry goroutine syncs it
	}
	if err := h.syncBusLocked(b, st, topic); err != nil {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.ctx.Err() != nil {
			return // stopping: the broker is closing
		}
		h.logger.Error("graft: subscribing on the broker failed; retrying", "topic", topic, "err", err)
		if st.retrying == nil {
			st.retrying = make(map[string]struct{})
		}
		st.retrying[topic] = struct{}{}
		h.retries.Add(1) // under h.mu, so never after stop's Wait began
		go h.retrySubscribe(b, st, topic)
	}
}

// syncBusLocked is syncBus under st.mu; it returns a Subscribe error.
func (h *Hub) syncBusLocked(b broker.Broker, st *busStripe, topic string) error {
	want := h.reg.NumSubscribers(topic) > 0
	_, have := st.subs[topic]
	switch {
	case want && !have:
		if err := b.Subscribe(topic); err != nil {
			return err
		}
		if st.subs == nil {
			st.subs = make(map[string]struct{})
		}
		st.subs[topic] = struct{}{}
	case !want && have:
		if err := b.Unsubscribe(topic); err != nil {
			h.logger.Error("graft: unsubscribing on the broker", "topic", topic, "err", err)
		}
		delete(st.subs, topic)
	}
	return nil
}

// retrySubscribe syncs topic with backoff until the bus agrees with the
// registry or the app stops. It owns st.retrying[topic] meanwhile.
func (h *Hub) retrySubscribe(b broker.Broker, st *busStripe, topic string) {
	defer h.retries.Done()
	for attempt := 1; ; attempt++ {
		t := time.NewTimer(broker.Backoff(attempt, busRetryBase, busRetryMax))
		select {
		case <-h.ctx.Done():
			t.Stop()
			st.mu.Lock()
			delete(st.retrying, topic)
			st.mu.Unlock()
			return
		case <-t.C:
		}
		st.mu.Lock()
		err := h.syncBusLocked(b, st, topic)
		if err == nil {
			delete(st.retrying, topic)
		}
		st.mu.Unlock()
		if err == nil {
			h.logger.Info("graft: broker subscription restored", "topic", topic, "attempts", attempt)
			return
		}
		h.logger.Debug("graft: subscribing on the broker failed again", "topic", topic, "attempt", attempt, "err", err)
	}
}

// publishInlineMax is the largest number of subscribers a publish writes
// to from the publishing goroutine.
const publishInlineMax = 8

// publishLocal sends a message to the local subscribers of topic except
// skip, framing it once.
func (h *Hub) publishLocal(topic string, data []byte, op OpCode, skip *Socket) {
	subs := h.reg.Subscribers(topic)
	if len(subs) == 0 || len(subs) == 1 && subs[0].s == skip {
		return
	}
	f := pubFrame{op: op, data: data}
	// To a few subscribers, writing at once is cheapest. To many, the
	// publisher only queues, so that the writes run in parallel on the
	// subscribers' writer goroutines, each of which sends what queued up
	// meanwhile in one writev.
	kind := framePublish
	if len(subs) > publishInlineMax {
		kind = framePublishAsync
	}
	for _, k := range subs {
		if k.s != skip && k.s.enqueue(f.frameFor(k.s), nil, kind, k.gen) == sendOverLimit {
			k.s.overLimit(data, op)
		}
	}
}

// broker returns the started broker, or nil.
func (h *Hub) broker() broker.Broker {
	if p := h.brk.Load(); p != nil {
		return *p
	}
	return nil
}

// publishBus hands a message to the broker, if there is one. Local
// delivery has happened: a broker error becomes a *BusError.
func (h *Hub) publishBus(topic string, data []byte, op OpCode) error {
	b := h.broker()
	if b == nil {
		return nil
	}
	if err := b.Publish(h.ctx, broker.Message{Topic: topic, Payload: data, Binary: op == OpBinary}); err != nil {
		return &BusError{Topic: topic, Err: err}
	}
	return nil
}

// ErrLocalOnly is matched (errors.Is) by the error of a Publish that
// reached this node's subscribers but not the broker, so not the other
// nodes: the broker is down or closed. The error is a *BusError.
var ErrLocalOnly = errors.New("graft: published to this node only")

// BusError is the error of a Publish (App.Publish, Socket.Publish) whose
// message was delivered to this node's subscribers but that the broker did
// not take, so other nodes' subscribers missed it. It matches ErrLocalOnly
// and wraps the broker's error. Callers that treat pub/sub as best effort
// across nodes (the delivery guarantee is at most once) may log it and go
// on; closing the publishing connection over it turns a broker outage into
// a storm of reconnects.
type BusError struct {
	// Topic is the topic published on.
	Topic string
	// Err is the broker's error.
	Err error
}

// Error says what was and was not delivered, and why.
func (e *BusError) Error() string {
	return fmt.Sprintf("graft: publish on %q reached this node only; the broker did not take it: %v", e.Topic, e.Err)
}

// Unwrap returns ErrLocalOnly and the broker's error.
func (e *BusError) Unwrap() []error { return []error{ErrLocalOnly, e.Err} }

// deliver receives the other nodes' messages from the broker.
func (h *Hub) deliver(m broker.Message) {
	if m.Topic == presenceTopic {
		if h.pres != nil {
			h.pres.receive(m.Payload)
		}
		return
	}
	op := OpText
	if m.Binary {
		op = OpBinary
	}
	if m.Position != (broker.Position{}) && h.hasHistory(m.Topic) {
		h.deliverPositioned(m.Topic, m.Position, m.Payload, op, true)
		return
	}
	h.publishLocal(m.Topic, m.Payload, op, nil)
}
