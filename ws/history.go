package ws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/graftgo/graft/broker"
)

// Position is a point in a topic's history stream: the offset of the last
// publication a client has seen (0: none yet) and the stream's epoch. It
// is broker.Position.
type Position = broker.Position

// Recovery is what SubscribeFrom did.
type Recovery struct {
	// Position is where the connection now stands in the topic's stream:
	// the publications after it reach the connection live.
	Position Position
	// Recovered reports that every publication after the position given
	// to SubscribeFrom was sent to the connection, in order, before any
	// later one. It is false for a fresh subscription (the zero position)
	// and when Reason says why recovery was impossible.
	Recovered bool
	// Missed is the number of publications recovered.
	Missed int
	// Reason says why the publications after the given position could not
	// all be sent (broker.ReasonEpoch, broker.ReasonTrimmed,
	// broker.ReasonAhead): the client must reload its state from the
	// source of truth and continue from Position. Empty otherwise.
	Reason string
}

// ErrNoHistory is matched (errors.Is) by the error of SubscribeFrom on a
// topic that no rule of Config.History covers. It is broker.ErrNoHistory.
var ErrNoHistory = broker.ErrNoHistory

// errClosing is SubscribeFrom's error on a closing connection.
var errClosing = errors.New("graft: the WebSocket connection is closing")

// Publication frames are JSON text, the same for every subscriber; see
// appendPub and docs/websocket.md.
const (
	storedText   = 1 // the byte that starts a stored text publication
	storedBinary = 2 // and a binary one
)

// DefaultHistoryCheck is how often, by default, a node compares each
// history topic it serves with the history's top (Config.HistoryCheck).
const DefaultHistoryCheck = 5 * time.Second

// historyTimeout bounds one history call made for a publish or a
// recovery.
var historyTimeout = 5 * time.Second

// gapWait is how long a node holds a publication that arrived ahead of a
// missing one (from a concurrent publisher or another node) before it
// reads the missing ones from the history.
var gapWait = 50 * time.Millisecond

// stream is a node's view of one history topic it has subscribers for:
// the last offset delivered to them, so that every publication reaches
// them once and in offset order whatever order the bus and concurrent
// publishers hand them in, and the connections recovering on it.
type stream struct {
	mu      sync.Mutex
	epoch   string // "" until the first delivery or recovery tells
	last    uint64 // the offset delivered last
	pending []heldPub
	filling bool // a goroutine reads the gap from the history
	recov   map[subKey]*recovery
	drops   []dropped // over-limit subscribers, handled after unlocking
	dead    bool      // dropped from the hub's map: a newer one serves the topic
}

// dropped is a publication a subscriber's backpressure limit refused;
// its Dropped handler runs once the stream is unlocked, so that it may
// publish on the topic.
type dropped struct {
	s   *Socket
	msg []byte
}

// unlock unlocks st and then runs the Dropped handling of the deliveries
// made under the lock.
func (st *stream) unlock() {
	drops := st.drops
	st.drops = nil
	st.mu.Unlock()
	for _, d := range drops {
		d.s.overLimit(d.msg, OpText)
	}
}

// heldPub is a publication that arrived ahead of a missing one.
type heldPub struct {
	off  uint64
	op   OpCode
	data []byte // owned
}

// recovery is one connection's SubscribeFrom on a stream: while it reads
// the history the live publications for the connection are buffered;
// after it, the ones it already sent (up to after) are skipped.
type recovery struct {
	buffering bool
	buf       []heldPub
	after     uint64 // with epoch: the connection has everything up to here
	epoch     string
}

// hasHistory reports whether topic keeps a history on this hub.
func (h *Hub) hasHistory(topic string) bool {
	if len(h.cfg.History) == 0 {
		return false
	}
	_, _, ok := h.cfg.History.Lookup(topic)
	return ok
}

// history returns the hub's History, nil before it is available (no
// rules, or a broker that has not connected yet).
func (h *Hub) history() broker.History {
	if p := h.hist.Load(); p != nil {
		return *p
	}
	return nil
}

// checkHistory reports, before the broker starts, a history setting
// that cannot work.
func (h *Hub) checkHistory(b broker.Broker) error {
	cfg := &h.cfg
	if len(cfg.History) == 0 {
		if cfg.HistoryStore != nil {
			return errors.New("graft: ws.Config.HistoryStore is set but ws.Config.History has no rule: list the topics that keep a history ({Pattern, Size, TTL})")
		}
		return nil
	}
	if err := cfg.History.Validate(); err != nil {
		return fmt.Errorf("graft: ws.Config.History: %w", err)
	}
	if cfg.HistoryCheck < 0 {
		return fmt.Errorf("graft: ws.Config.HistoryCheck is %v; use 0 for the default (%v)", cfg.HistoryCheck, DefaultHistoryCheck)
	}
	if _, ok := b.(broker.HistoryProvider); b != nil && cfg.HistoryStore == nil && !ok {
		return fmt.Errorf("graft: ws.Config.History needs a history every node shares, and the broker %s offers none: set ws.Config.HistoryStore", brokerName(b))
	}
	return nil
}

// startHistory chooses the History once the broker started:
// Config.HistoryStore, the broker's (a broker.HistoryProvider), or,
// without a broker, one in memory. With BrokerOptional the broker's is
// made once it connects.
func (h *Hub) startHistory(b broker.Broker) error {
	cfg := &h.cfg
	if len(cfg.History) == 0 {
		return nil
	}
	switch {
	case cfg.HistoryStore != nil:
		h.hist.Store(&cfg.HistoryStore)
	case b == nil:
		m, err := broker.NewMemoryHistory(cfg.History)
		if err != nil {
			return fmt.Errorf("graft: ws.Config.History: %w", err)
		}
		var hs broker.History = m
		h.hist.Store(&hs)
	case !cfg.BrokerOptional:
		if err := h.brokerHistory(b); err != nil {
			return err
		}
	}
	h.mu.Lock()
	h.retries.Add(1)
	h.mu.Unlock()
	go h.checkStreams(orDefault(cfg.HistoryCheck, DefaultHistoryCheck))
	return nil
}

// brokerHistory makes the started broker's History the hub's.
func (h *Hub) brokerHistory(b broker.Broker) error {
	hs, err := b.(broker.HistoryProvider).NewHistory(h.cfg.History)
	if err != nil {
		return fmt.Errorf("graft: the history of the WebSocket broker %s: %w", brokerName(b), err)
	}
	h.hist.Store(&hs)
	return nil
}

// stream returns topic's stream state, making it when create is set. The
// lookup of an existing one (every publication) takes the read lock only.
func (h *Hub) stream(topic string, create bool) *stream {
	h.streamsMu.RLock()
	st := h.streams[topic]
	h.streamsMu.RUnlock()
	if st != nil || !create {
		return st
	}
	h.streamsMu.Lock()
	defer h.streamsMu.Unlock()
	st = h.streams[topic]
	if st == nil {
		if h.streams == nil {
			h.streams = make(map[string]*stream)
		}
		st = &stream{}
		h.streams[topic] = st
	}
	return st
}

// lockStream returns topic's stream, locked; never one forgetStream
// dropped, whose deliveries would bypass the recoveries of the new one.
func (h *Hub) lockStream(topic string) *stream {
	for {
		st := h.stream(topic, true)
		st.mu.Lock()
		if !st.dead {
			return st
		}
		st.mu.Unlock()
	}
}

// recoverOn registers rec, k's recovery on topic, and returns the
// stream, starting the node's view of it at base if it had none: in one
// step with the lookup, so that forgetStream cannot drop the stream in
// between.
func (h *Hub) recoverOn(topic string, k subKey, rec *recovery, base Position) *stream {
	h.streamsMu.Lock()
	defer h.streamsMu.Unlock()
	st := h.streams[topic]
	if st == nil {
		if h.streams == nil {
			h.streams = make(map[string]*stream)
		}
		st = &stream{}
		h.streams[topic] = st
	}
	st.mu.Lock()
	if st.recov == nil {
		st.recov = make(map[subKey]*recovery)
	}
	st.recov[k] = rec
	if st.epoch == "" && base.Epoch != "" {
		st.epoch, st.last = base.Epoch, base.Offset
	}
	st.mu.Unlock()
	return st
}

func (st *stream) known() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.epoch != ""
}

// forgetStream drops k's recovery on topic and, once the topic has no
// local subscriber, the node's state for it.
func (h *Hub) forgetStream(topic string, k subKey) {
	if !h.hasHistory(topic) {
		return
	}
	h.streamsMu.Lock()
	defer h.streamsMu.Unlock()
	st := h.streams[topic]
	if st == nil {
		return
	}
	st.mu.Lock()
	delete(st.recov, k)
	if len(st.recov) == 0 && !st.filling && h.reg.NumSubscribers(topic) == 0 {
		delete(h.streams, topic)
		st.dead = true
	}
	st.mu.Unlock()
}

// publishHistory is Publish on a topic with a history: the publication is
// appended first, to get its offset, then delivered here and handed to
// the broker with its position. A failed append delivers nothing.
func (h *Hub) publishHistory(topic string, data []byte, op OpCode) error {
	hist := h.history()
	if hist == nil {
		return fmt.Errorf("graft: publish on %q: nothing was delivered: the topic keeps a history and the broker's has not connected yet", topic)
	}
	buf := getFrameBuf(len(data) + 1)
	stored := append(append((*buf)[:0], storedByte(op)), data...)
	// No timer per publish: the server backends bound their own calls.
	pos, err := hist.Append(h.ctx, topic, stored)
	*buf = stored
	putFrameBuf(buf)
	if err != nil {
		return fmt.Errorf("graft: publish on %q: nothing was delivered: the history did not take it: %w", topic, err)
	}
	h.deliverPositioned(topic, pos, data, op, false)
	if b := h.broker(); b != nil {
		if err := b.Publish(h.ctx, broker.Message{Topic: topic, Payload: data, Binary: op == OpBinary, Position: pos}); err != nil {
			return &BusError{Topic: topic, Err: err}
		}
	}
	return nil
}

func storedByte(op OpCode) byte {
	if op == OpBinary {
		return storedBinary
	}
	return storedText
}

// unstored splits a publication kept in the history into its opcode and
// payload; ok is false for one graft did not store.
func unstored(b []byte) (OpCode, []byte, bool) {
	if len(b) == 0 {
		return 0, nil, false
	}
	switch b[0] {
	case storedText:
		return OpText, b[1:], true
	case storedBinary:
		return OpBinary, b[1:], true
	}
	return 0, nil, false
}

// deliverPositioned delivers a publication with its position to the
// local subscribers of topic, once per offset and in offset order: one
// that arrives ahead of a missing offset is held until the missing ones
// arrive or, after gapWait, are read from the history. owned says data
// is the hub's to keep.
func (h *Hub) deliverPositioned(topic string, pos Position, data []byte, op OpCode, owned bool) {
	if h.reg.NumSubscribers(topic) == 0 {
		return
	}
	st := h.lockStream(topic)
	defer st.unlock()
	switch {
	case st.epoch != pos.Epoch:
		// The first publication seen, or the stream started again: what
		// was held belongs to the old one.
		st.epoch, st.last, st.pending = pos.Epoch, pos.Offset-1, nil
	case pos.Offset <= st.last:
		return // delivered already (from the history, or twice on the bus)
	case pos.Offset > st.last+1:
		i, found := slices.BinarySearchFunc(st.pending, pos.Offset, func(p heldPub, off uint64) int { return cmpUint(p.off, off) })
		if found {
			return
		}
		if !owned {
			data = slices.Clone(data)
		}
		st.pending = slices.Insert(st.pending, i, heldPub{off: pos.Offset, op: op, data: data})
		h.fillLater(topic, st)
		return
	}
	h.fanOut(topic, st, pos.Offset, data, op)
	h.flushPending(topic, st)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// flushPending delivers the held publications that are next in line.
// st.mu is held.
func (h *Hub) flushPending(topic string, st *stream) {
	n := 0
	for n < len(st.pending) && st.pending[n].off <= st.last+1 {
		if p := st.pending[n]; p.off == st.last+1 {
			h.fanOut(topic, st, p.off, p.data, p.op)
		}
		n++
	}
	st.pending = slices.Delete(st.pending, 0, n)
}

// fanOut sends publication off of st's epoch to topic's local
// subscribers, framed once; connections recovering on the topic buffer
// it or skip it when they have it already. st.mu is held.
func (h *Hub) fanOut(topic string, st *stream, off uint64, data []byte, op OpCode) {
	st.last = off
	subs := h.reg.Subscribers(topic)
	if len(subs) == 0 {
		return
	}
	msg := getFrameBuf(pubMessageSize(topic, st.epoch, data, op))
	*msg = h.appendPub((*msg)[:0], topic, Position{Offset: off, Epoch: st.epoch}, data, op)
	f := pubFrame{op: OpText, data: *msg}
	kind := framePublish
	if len(subs) > publishInlineMax {
		kind = framePublishAsync
	}
	for _, k := range subs {
		if len(st.recov) > 0 {
			if r := st.recov[k]; r != nil {
				if r.buffering {
					r.buf = append(r.buf, heldPub{off: off, op: op, data: slices.Clone(data)})
					continue
				}
				if r.epoch == st.epoch && off <= r.after {
					continue
				}
				delete(st.recov, k)
			}
		}
		if k.s.enqueue(f.frameFor(k.s), nil, kind, k.gen) == sendOverLimit {
			st.drops = append(st.drops, dropped{k.s, slices.Clone(*msg)})
		}
	}
	putFrameBuf(msg)
}

// fillLater starts, unless one runs, a goroutine that waits gapWait and
// then reads the missing publications from the history. st.mu is held.
func (h *Hub) fillLater(topic string, st *stream) {
	if st.filling {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		return
	}
	st.filling = true
	h.retries.Add(1) // under h.mu, so never after stop's Wait began
	go func() {
		defer h.retries.Done()
		t := time.NewTimer(gapWait)
		defer t.Stop()
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.fill(topic, st, true)
	}()
}

// fill reads from the history what topic's subscribers on this node
// missed after st.last and delivers it, then what was held. When the
// history cannot give it (trimmed, or the stream started again) the held
// publications are delivered anyway: the clients see the gap in the
// offsets and recover or reload. owner says the caller set st.filling.
func (h *Hub) fill(topic string, st *stream, owner bool) {
	hist := h.history()
	st.mu.Lock()
	if !owner {
		if st.filling {
			st.mu.Unlock()
			return
		}
		st.filling = true
	}
	from := Position{Offset: st.last, Epoch: st.epoch}
	st.mu.Unlock()
	var pubs []broker.Publication
	err := errors.New("no history")
	if hist != nil && from.Epoch != "" {
		ctx, cancel := context.WithTimeout(h.ctx, historyTimeout)
		pubs, _, err = hist.Since(ctx, topic, from, 0)
		cancel()
	}
	st.mu.Lock()
	defer st.unlock()
	st.filling = false
	if st.dead {
		return
	}
	if err != nil && hist != nil && !errors.Is(err, broker.ErrUnrecoverable) {
		h.logger.Warn("graft: reading missed publications from the history failed", "topic", topic, "err", err)
	}
	if st.epoch == from.Epoch {
		for _, p := range pubs {
			if op, data, ok := unstored(p.Data); ok && p.Offset == st.last+1 {
				h.fanOut(topic, st, p.Offset, data, op)
			}
		}
	}
	h.flushPending(topic, st)
	switch {
	case len(st.pending) == 0:
	case err != nil:
		// What is missing is gone from the history (or it fails): go on
		// from what is held; the clients see the gap in the offsets.
		st.last = st.pending[0].off - 1
		h.flushPending(topic, st)
	default:
		// Held publications arrived during the read, ahead of ones the
		// history did not have yet: look again.
		h.fillLater(topic, st)
	}
}

// checkStreams compares, every interval, the history's top of each topic
// with what this node delivered, and fills the difference: a publication
// the bus lost with none after it (during a broker outage) would
// otherwise wait for the next one to be noticed.
func (h *Hub) checkStreams(interval time.Duration) {
	defer h.retries.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		hist := h.history()
		if hist == nil {
			continue
		}
		h.streamsMu.Lock()
		topics := make([]string, 0, len(h.streams))
		for topic := range h.streams {
			topics = append(topics, topic)
		}
		h.streamsMu.Unlock()
		for _, topic := range topics {
			st := h.stream(topic, false)
			if st == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(h.ctx, historyTimeout)
			top, err := hist.Position(ctx, topic)
			cancel()
			if err != nil {
				continue
			}
			st.mu.Lock()
			behind := st.epoch == top.Epoch && top.Offset > st.last
			st.mu.Unlock()
			if behind {
				h.fill(topic, st, false)
			}
		}
	}
}

// SubscribeFrom subscribes the connection to topic, which must keep a
// history (Config.History), and sends it every publication after from
// that it missed, in order, each exactly once, before the live ones:
// publications that arrive while the history is read are held and merged
// by offset. The zero from is a fresh subscription: nothing is recovered
// and Recovery.Position says where the connection starts. When the
// publications after from cannot all be given (the epoch changed, the
// history was trimmed past from.Offset), nothing is recovered,
// Recovery.Reason says why and the connection continues live from
// Recovery.Position: the client reloads its state.
//
// Subscribing again to a topic the connection is on recovers the same
// way. The error is for a topic without a history (ErrNoHistory), a
// history that failed (the connection is then not subscribed), a closing
// connection, and Behavior.MaxTopics (ErrTooManyTopics).
func (s *Socket) SubscribeFrom(topic string, from Position) (Recovery, error) {
	return s.subscribeFrom(topic, from, nil)
}

// subscribeFrom is SubscribeFrom; reply, if set, makes a message sent
// before the recovered publications (the protocol's "subscribed").
func (s *Socket) subscribeFrom(topic string, from Position, reply func(Recovery) []byte) (Recovery, error) {
	h := s.hub()
	if !h.hasHistory(topic) {
		return Recovery{}, fmt.Errorf("graft: SubscribeFrom: %w", broker.NoHistory(topic))
	}
	hist := h.history()
	if hist == nil {
		return Recovery{}, fmt.Errorf("graft: SubscribeFrom(%q): the history is not available yet: the broker has not connected", topic)
	}
	k, ok := s.key()
	if !ok {
		return Recovery{}, errClosing
	}
	var base Position
	if st := h.stream(topic, false); st == nil || !st.known() {
		// The node's first subscriber: start its view of the stream at
		// the history's top, so that what arrives from now on is put in
		// offset order.
		ctx, cancel := context.WithTimeout(h.ctx, historyTimeout)
		top, err := hist.Position(ctx, topic)
		cancel()
		if err != nil {
			return Recovery{}, fmt.Errorf("graft: SubscribeFrom(%q): reading the history: %w", topic, err)
		}
		base = top
	}
	rec := &recovery{buffering: true}
	st := h.recoverOn(topic, k, rec, base)
	added, err := s.TrySubscribe(topic)
	if err == nil && !added && !s.IsSubscribed(topic) {
		err = errClosing
	}
	if err != nil {
		h.forgetStream(topic, k)
		return Recovery{}, err
	}

	var pubs []broker.Publication
	var top Position
	ctx, cancel := context.WithTimeout(h.ctx, historyTimeout)
	if from == (Position{}) {
		top, err = hist.Position(ctx, topic)
	} else {
		pubs, top, err = hist.Since(ctx, topic, from, 0)
	}
	cancel()
	res := Recovery{Position: top, Recovered: from != (Position{}), Missed: len(pubs)}
	var ue *broker.UnrecoverableError
	if errors.As(err, &ue) {
		res, pubs, err = Recovery{Position: ue.Current, Reason: ue.Reason}, nil, nil
	}
	if err != nil {
		if added {
			s.Unsubscribe(topic)
		}
		h.forgetStream(topic, k)
		return Recovery{}, fmt.Errorf("graft: SubscribeFrom(%q): reading the history: %w", topic, err)
	}

	// One buffer for the reply, the recovered publications and those that
	// arrived meanwhile: enqueued at once, so that a recovery is not cut
	// by the backpressure limit it would otherwise fill itself.
	st.mu.Lock()
	defer st.unlock()
	buf := getFrameBuf(0)
	out := (*buf)[:0]
	var msg []byte
	if reply != nil {
		out = appendFrame(out, OpText, false, reply(res))
	}
	after := res.Position
	for _, p := range pubs {
		if op, data, ok := unstored(p.Data); ok {
			msg = s.hub().appendPub(msg[:0], topic, Position{Offset: p.Offset, Epoch: after.Epoch}, data, op)
			out = appendFrame(out, OpText, false, msg)
		}
	}
	for _, p := range rec.buf {
		if st.epoch == after.Epoch && p.off <= after.Offset {
			continue
		}
		msg = s.hub().appendPub(msg[:0], topic, Position{Offset: p.off, Epoch: st.epoch}, p.data, p.op)
		out = appendFrame(out, OpText, false, msg)
		after = Position{Offset: p.off, Epoch: st.epoch}
	}
	*buf = out
	if len(out) == 0 {
		putFrameBuf(buf)
	} else {
		s.enqueue(out, buf, frameRecovery, k.gen)
	}
	if st.epoch == "" {
		st.epoch, st.last = after.Epoch, after.Offset
	}
	if st.epoch == after.Epoch && after.Offset > st.last {
		// This node is behind the history: skip, for this connection, the
		// live publications it was just sent.
		rec.buffering, rec.buf, rec.after, rec.epoch = false, nil, after.Offset, after.Epoch
	} else {
		delete(st.recov, k)
	}
	return res, nil
}
