package ws

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
)

// Presence is one subscriber of a topic, on any node of the cluster: the
// connection and the info it set with Socket.SetPresenceInfo.
type Presence struct {
	// Node is the node the connection is on (Hub.NodeID there).
	Node broker.NodeID
	// Conn is the connection's ID on its node (Socket.ID).
	Conn uint64
	// Info is the connection's presence info at the time it subscribed.
	Info string
}

// PresenceKind says whether a PresenceEvent is a join or a leave.
type PresenceKind uint8

// Presence event kinds.
const (
	// PresenceJoin: a connection subscribed to the topic.
	PresenceJoin PresenceKind = iota + 1
	// PresenceLeave: a connection unsubscribed (or closed), or its node
	// left the cluster or stopped answering for Config.PresenceTTL.
	PresenceLeave
)

// String returns "join" or "leave".
func (k PresenceKind) String() string {
	switch k {
	case PresenceJoin:
		return "join"
	case PresenceLeave:
		return "leave"
	}
	return fmt.Sprintf("PresenceKind(%d)", uint8(k))
}

// PresenceEvent is what Behavior.Presence receives: a connection joined
// or left a topic the receiving connection watches (Socket.SubscribePresence).
type PresenceEvent struct {
	// Kind is PresenceJoin or PresenceLeave.
	Kind PresenceKind
	// Topic is the topic joined or left.
	Topic string
	// Member is the connection that joined or left.
	Member Presence
}

// MaxPresenceInfo is the longest info Socket.SetPresenceInfo accepts, in
// bytes: presence is replicated to every node, so keep it small (a user
// name, an id, a short JSON object).
const MaxPresenceInfo = 1024

// DefaultPresenceTTL is Config.PresenceTTL's default.
const DefaultPresenceTTL = 10 * time.Second

var (
	// ErrNoPresence is returned for a topic that no Config.Presence
	// pattern covers: its subscribers are not tracked.
	ErrNoPresence = errors.New("graft: no presence for this topic: add a pattern that matches it to ws.Config.Presence (--ws.presence)")
	// ErrReservedTopic is returned for a topic starting with "\x00graft.",
	// which graft uses on the bus (for presence).
	ErrReservedTopic = errors.New(`graft: topics starting with "\x00graft." are reserved`)
)

// reservedPrefix starts the bus topics graft uses itself.
const reservedPrefix = "\x00graft."

// presenceTopic is the bus topic the nodes exchange presence on.
const presenceTopic = reservedPrefix + "presence"

func reserved(topic string) bool { return strings.HasPrefix(topic, reservedPrefix) }

// presence is a hub's replicated view of who is subscribed to the topics
// Config.Presence covers, on every node. Each node owns its own members
// and sends their changes, numbered, on the bus; the others apply them in
// order, ask for a snapshot when a number is missing (the bus is at most
// once), and drop a node that says bye or has been silent for the TTL.
type presence struct {
	h     *Hub
	rules []string
	ttl   time.Duration
	beat  time.Duration
	self  broker.NodeID
	brk   broker.Broker // nil: this node only

	mu       sync.Mutex
	topics   map[string]*presTopic
	local    map[string]map[uint64]string // this node's members: topic → conn → info
	nodes    map[broker.NodeID]*presNode  // the other nodes
	seq      uint64                       // this node's last change
	out      []presOp                     // changes not sent yet; the first is seq-len(out)+1
	requests []broker.NodeID              // snapshot requests to send
	snapshot bool                         // a snapshot of this node is wanted
	snapID   uint64
	events   []presDelivery
	stopped  bool

	sendWake, eventWake chan struct{}
	quit                chan struct{}
	wg                  sync.WaitGroup
}

// presTopic is one topic's members, all nodes, and its local watchers.
type presTopic struct {
	members  map[memberKey]string
	watchers map[subKey]uint64 // → the connection's id
}

type memberKey struct {
	node broker.NodeID
	conn uint64
}

// presNode is what this node knows of another.
type presNode struct {
	seq     uint64 // the last change applied
	synced  bool   // members hold the node's state as of seq
	fresh   bool   // nothing received from it yet but liveness
	heard   int64  // monotonic time of its last message
	asked   int64  // when a snapshot was last requested
	members map[string]map[uint64]string
	snap    *presSnap
}

// presSnap collects the parts of a snapshot.
type presSnap struct {
	id, seq uint64
	parts   []bool
	got     int
	ents    []presEntry
}

// presDelivery is an event for one watcher.
type presDelivery struct {
	k  subKey
	ev PresenceEvent
}

// newPresence checks cfg's presence settings and makes the hub's view;
// nil when no topic has presence.
func newPresence(h *Hub, cfg *Config, b broker.Broker) (*presence, error) {
	if len(cfg.Presence) == 0 {
		return nil, nil
	}
	for i, p := range cfg.Presence {
		if p == "" {
			return nil, fmt.Errorf("graft: ws.Config.Presence[%d] is empty; use \"*\" for every topic", i)
		}
	}
	if cfg.PresenceTTL < 0 {
		return nil, fmt.Errorf("graft: ws.Config.PresenceTTL is %v; use 0 for the default (%v) or a positive duration", cfg.PresenceTTL, DefaultPresenceTTL)
	}
	ttl := orDefault(cfg.PresenceTTL, DefaultPresenceTTL)
	p := &presence{
		h:         h,
		rules:     slices.Clone(cfg.Presence),
		ttl:       ttl,
		beat:      max(ttl/4, time.Millisecond),
		brk:       b,
		topics:    make(map[string]*presTopic),
		local:     make(map[string]map[uint64]string),
		nodes:     make(map[broker.NodeID]*presNode),
		sendWake:  make(chan struct{}, 1),
		eventWake: make(chan struct{}, 1),
		quit:      make(chan struct{}),
	}
	if id, ok := b.(interface{ ID() broker.NodeID }); ok {
		p.self = id.ID()
	} else {
		p.self = broker.NewNodeID()
	}
	return p, nil
}

// start subscribes the node to the presence topic on the bus and starts
// the goroutines that send this node's changes and deliver events.
func (p *presence) start() error {
	if p.brk != nil {
		if err := p.brk.Subscribe(presenceTopic); err != nil {
			return fmt.Errorf("graft: subscribing to presence on the WebSocket broker: %w", err)
		}
		p.wg.Add(1)
		go p.send()
	}
	p.wg.Add(1)
	go p.dispatch()
	return nil
}

// stop sends what is left and a bye, and ends the goroutines.
func (p *presence) stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	p.mu.Unlock()
	close(p.quit)
	p.wg.Wait()
}

// covers reports whether topic's subscribers are tracked.
func (p *presence) covers(topic string) bool {
	for _, r := range p.rules {
		if broker.MatchPattern(r, topic) {
			return true
		}
	}
	return false
}

func (p *presence) topicLocked(topic string) *presTopic {
	t := p.topics[topic]
	if t == nil {
		t = &presTopic{members: make(map[memberKey]string)} // watchers made by the first
		p.topics[topic] = t
	}
	return t
}

// tidyLocked forgets a topic nobody is on.
func (p *presence) tidyLocked(topic string, t *presTopic) {
	if len(t.members) == 0 && len(t.watchers) == 0 {
		delete(p.topics, topic)
	}
}

// emitLocked queues an event for topic's watchers, except the member
// itself.
func (p *presence) emitLocked(t *presTopic, kind PresenceKind, topic string, m Presence) {
	for k, id := range t.watchers {
		if m.Node == p.self && id == m.Conn {
			continue
		}
		p.events = append(p.events, presDelivery{k: k, ev: PresenceEvent{Kind: kind, Topic: topic, Member: m}})
	}
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// join records a local connection's subscription to topic (joined: it
// is new) and, with watch, makes it a watcher; it returns the members
// then when watching. The caller holds the connection's mu, so that its
// joins and leaves are recorded in the order they happened.
func (p *presence) join(topic string, k subKey, id uint64, info string, joined, watch bool) []Presence {
	p.mu.Lock()
	t := p.topicLocked(topic)
	if joined {
		m := Presence{Node: p.self, Conn: id, Info: info}
		t.members[memberKey{p.self, id}] = info
		l := p.local[topic]
		if l == nil {
			l = make(map[uint64]string)
			p.local[topic] = l
		}
		l[id] = info
		p.emitLocked(t, PresenceJoin, topic, m)
		p.changeLocked(presOp{join: true, topic: topic, conn: id, info: info})
	}
	var members []Presence
	if watch {
		if t.watchers == nil {
			t.watchers = make(map[subKey]uint64)
		}
		t.watchers[k] = id
		members = membersOf(t)
	}
	p.mu.Unlock()
	wake(p.eventWake)
	return members
}

// leave records that a local connection left topic.
func (p *presence) leave(topic string, k subKey, id uint64) {
	p.mu.Lock()
	t := p.topics[topic]
	if t == nil {
		p.mu.Unlock()
		return
	}
	delete(t.watchers, k)
	mk := memberKey{p.self, id}
	if info, ok := t.members[mk]; ok {
		delete(t.members, mk)
		if l := p.local[topic]; l != nil {
			delete(l, id)
			if len(l) == 0 {
				delete(p.local, topic)
			}
		}
		p.emitLocked(t, PresenceLeave, topic, Presence{Node: p.self, Conn: id, Info: info})
		p.changeLocked(presOp{topic: topic, conn: id})
	}
	p.tidyLocked(topic, t)
	p.mu.Unlock()
	wake(p.eventWake)
}

// changeLocked numbers a change of this node's members and queues it for
// the bus.
func (p *presence) changeLocked(op presOp) {
	p.seq++
	if p.brk == nil {
		return
	}
	p.out = append(p.out, op)
	wake(p.sendWake)
}

func membersOf(t *presTopic) []Presence {
	out := make([]Presence, 0, len(t.members))
	for k, info := range t.members {
		out = append(out, Presence{Node: k.node, Conn: k.conn, Info: info})
	}
	slices.SortFunc(out, func(a, b Presence) int {
		if c := bytes.Compare(a.Node[:], b.Node[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.Conn, b.Conn)
	})
	return out
}

// members returns topic's members on every node.
func (p *presence) members(topic string) []Presence {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.topics[topic]; t != nil {
		return membersOf(t)
	}
	return []Presence{}
}

// count returns the number of topic's members on every node.
func (p *presence) count(topic string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.topics[topic]; t != nil {
		return len(t.members)
	}
	return 0
}

// dispatch delivers the queued events, in order, from one goroutine.
func (p *presence) dispatch() {
	defer p.wg.Done()
	for {
		select {
		case <-p.quit:
			return
		case <-p.eventWake:
		}
		p.mu.Lock()
		evs := p.events
		p.events = nil
		p.mu.Unlock()
		for _, d := range evs {
			d.k.s.presenceEvent(d.k.gen, d.ev)
		}
	}
}

// presenceEvent runs the route's Presence handler, if the subscription
// that asked for it is still the connection's.
func (s *Socket) presenceEvent(gen uint32, ev PresenceEvent) {
	s.mu.Lock()
	ok := s.gen == gen && !s.subClosed && !s.sendClosed && s.gc != nil && s.set.presence != nil
	if ok {
		s.writers.Add(1) // the connection is not released before the handler returns
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	defer s.writers.Done()
	defer s.recoverCallback(true)
	s.set.presence(s, ev)
}

// send carries this node's changes, snapshots, requests and heartbeats
// to the bus, in order, from one goroutine, and expires silent nodes.
func (p *presence) send() {
	defer p.wg.Done()
	t := time.NewTicker(p.beat)
	defer t.Stop()
	var sent uint64 // the last change sent
	p.publish(encodeRequest(p.self, broker.NodeID{}))
	for {
		select {
		case <-p.quit:
			// A bus that failed the last changes would only make the bye
			// wait for its timeout too: the TTL drops this node then.
			if p.flush(&sent) {
				p.publish(encodeBye(p.self))
			}
			return
		case <-p.sendWake:
			p.flush(&sent)
		case <-t.C:
			p.flush(&sent)
			p.publish(encodeHeartbeat(p.self, sent))
			p.expire()
		}
	}
}

// flush sends the queued changes, then the snapshot requests, then this
// node's snapshot if one was asked for; it reports whether the bus took
// them all.
func (p *presence) flush(sent *uint64) bool {
	p.mu.Lock()
	ops, reqs := p.out, p.requests
	p.out, p.requests = nil, nil
	first := p.seq - uint64(len(ops)) + 1
	var snap [][]byte
	if p.snapshot {
		p.snapshot = false
		p.snapID++
		var ents []presEntry
		for topic, l := range p.local {
			for id, info := range l {
				ents = append(ents, presEntry{topic: topic, conn: id, info: info})
			}
		}
		snap = encodeSnapshot(p.self, p.seq, p.snapID, ents)
	}
	seq := p.seq
	p.mu.Unlock()
	ok := true
	if len(ops) > 0 {
		for _, m := range encodeChanges(p.self, first, ops) {
			ok = p.publish(m) && ok
		}
	}
	for _, r := range reqs {
		ok = p.publish(encodeRequest(p.self, r)) && ok
	}
	for _, m := range snap {
		ok = p.publish(m) && ok
	}
	*sent = seq
	return ok
}

// publish puts one presence message on the bus and reports whether the
// bus took it. A failure is not
// retried: the heartbeats that follow tell the other nodes they missed a
// change, and they ask for a snapshot. It does not use the hub's
// context, which ends before the last changes and the bye are sent.
func (p *presence) publish(m []byte) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.brk.Publish(ctx, broker.Message{Topic: presenceTopic, Payload: m, Binary: true}); err != nil {
		p.h.logger.Debug("graft: sending presence on the broker failed; the other nodes resync from the next heartbeat", "err", err)
		return false
	}
	return true
}

// expire drops the nodes silent for longer than the TTL.
func (p *presence) expire() {
	now := monoNow()
	p.mu.Lock()
	var gone []broker.NodeID
	for id, n := range p.nodes {
		if now-n.heard > int64(p.ttl) {
			p.dropNodeLocked(id, n)
			gone = append(gone, id)
		}
	}
	p.mu.Unlock()
	if len(gone) > 0 {
		wake(p.eventWake)
		for _, id := range gone {
			p.h.logger.Info("graft: WebSocket node silent for the presence TTL; its subscribers left", "node", id.String(), "ttl", p.ttl)
		}
	}
}

// receive applies a presence message from another node.
func (p *presence) receive(data []byte) {
	m, err := decodePresence(data)
	if err != nil {
		p.h.logger.Debug("graft: dropped a presence message", "err", err)
		return
	}
	if m.node == p.self {
		return
	}
	now := monoNow()
	p.mu.Lock()
	defer wake(p.eventWake)
	defer p.mu.Unlock()
	n := p.nodes[m.node]
	switch m.kind {
	case presBye:
		if n != nil {
			p.dropNodeLocked(m.node, n)
		}
		return
	case presRequest:
		if m.target == (broker.NodeID{}) || m.target == p.self {
			p.snapshot = true
			wake(p.sendWake)
		}
		return
	}
	if n == nil {
		n = &presNode{fresh: true, members: make(map[string]map[uint64]string)}
		p.nodes[m.node] = n
	}
	n.heard = now
	fresh := n.fresh
	n.fresh = false
	switch m.kind {
	case presHeartbeat:
		switch {
		case fresh && m.seq == 0:
			n.synced = true // a new node, with nothing to tell yet
		case n.synced && m.seq != n.seq:
			n.synced = false // a change was lost
		}
	case presChanges:
		if fresh && m.seq == 1 {
			n.synced = true // its first changes ever
		}
		last := m.seq + uint64(len(m.ops)) - 1
		switch {
		case !n.synced:
		case m.seq == n.seq+1:
			for _, op := range m.ops {
				p.applyLocked(m.node, n, op)
			}
			n.seq = last
		case last <= n.seq: // already applied
		default:
			n.synced = false
		}
	case presSnapshot:
		p.snapshotPartLocked(m.node, n, &m)
	}
	if !n.synced && (n.asked == 0 || now-n.asked > int64(p.beat)) {
		n.asked = now
		p.requests = append(p.requests, m.node)
		wake(p.sendWake)
	}
}

// applyLocked applies one change of node id.
func (p *presence) applyLocked(id broker.NodeID, n *presNode, op presOp) {
	mk := memberKey{id, op.conn}
	if op.join {
		t := p.topicLocked(op.topic)
		t.members[mk] = op.info
		l := n.members[op.topic]
		if l == nil {
			l = make(map[uint64]string)
			n.members[op.topic] = l
		}
		l[op.conn] = op.info
		p.emitLocked(t, PresenceJoin, op.topic, Presence{Node: id, Conn: op.conn, Info: op.info})
		return
	}
	l := n.members[op.topic]
	info, ok := l[op.conn]
	if !ok {
		return
	}
	delete(l, op.conn)
	if len(l) == 0 {
		delete(n.members, op.topic)
	}
	if t := p.topics[op.topic]; t != nil {
		delete(t.members, mk)
		p.emitLocked(t, PresenceLeave, op.topic, Presence{Node: id, Conn: op.conn, Info: info})
		p.tidyLocked(op.topic, t)
	}
}

// snapshotPartLocked collects a snapshot part and, once all are there,
// replaces the node's members with it, as joins and leaves.
func (p *presence) snapshotPartLocked(id broker.NodeID, n *presNode, m *presMsg) {
	if n.synced && m.seq <= n.seq {
		return // nothing newer than what is applied
	}
	s := n.snap
	if s == nil || s.id != m.id || s.seq != m.seq || len(s.parts) != m.total {
		s = &presSnap{id: m.id, seq: m.seq, parts: make([]bool, m.total)}
		n.snap = s
	}
	if s.parts[m.index] {
		return
	}
	s.parts[m.index] = true
	s.got++
	s.ents = append(s.ents, m.ents...)
	if s.got < len(s.parts) {
		return
	}
	n.snap = nil
	want := make(map[string]map[uint64]string)
	for _, e := range s.ents {
		l := want[e.topic]
		if l == nil {
			l = make(map[uint64]string)
			want[e.topic] = l
		}
		l[e.conn] = e.info
	}
	for topic, l := range n.members {
		for conn, info := range l {
			if w, ok := want[topic][conn]; !ok || w != info {
				p.applyLocked(id, n, presOp{topic: topic, conn: conn})
			}
		}
	}
	for topic, l := range want {
		for conn, info := range l {
			if have, ok := n.members[topic][conn]; !ok || have != info {
				p.applyLocked(id, n, presOp{join: true, topic: topic, conn: conn, info: info})
			}
		}
	}
	n.seq, n.synced = s.seq, true
}

// dropNodeLocked removes node id and its members, as leaves.
func (p *presence) dropNodeLocked(id broker.NodeID, n *presNode) {
	for topic, l := range n.members {
		for conn := range l {
			p.applyLocked(id, n, presOp{topic: topic, conn: conn})
		}
	}
	delete(p.nodes, id)
}

// NodeID returns this node's id in the cluster, the Node of its
// connections' Presence entries: the broker's, or a random one without a
// broker. It is zero before the app starts or without Config.Presence.
func (h *Hub) NodeID() broker.NodeID {
	if h == nil || h.pres == nil {
		return broker.NodeID{}
	}
	return h.pres.self
}

// Presence returns the subscribers of topic on every node of the
// cluster, sorted by node and connection id, from this node's replica of
// the cluster's presence (see docs/websocket.md for its consistency). It
// fails with ErrNoPresence for a topic no Config.Presence pattern covers.
func (h *Hub) Presence(topic string) ([]Presence, error) {
	if h == nil || h.pres == nil || !h.pres.covers(topic) {
		return nil, noPresence(topic)
	}
	return h.pres.members(topic), nil
}

// NumClusterSubscribers returns the number of subscribers of topic on
// every node of the cluster, from this node's replica of the cluster's
// presence; NumSubscribers counts this node's only. It fails with
// ErrNoPresence for a topic no Config.Presence pattern covers.
func (h *Hub) NumClusterSubscribers(topic string) (int, error) {
	if h == nil || h.pres == nil || !h.pres.covers(topic) {
		return 0, noPresence(topic)
	}
	return h.pres.count(topic), nil
}

// NumClusterSubscribers returns the number of subscribers of topic on
// every node of the app r belongs to; see Hub.NumClusterSubscribers.
func NumClusterSubscribers(r graft.Router, topic string) (int, error) {
	return HubOf(r).NumClusterSubscribers(topic)
}

func noPresence(topic string) error {
	return fmt.Errorf("%w (topic %q)", ErrNoPresence, topic)
}

// SetPresenceInfo sets the info the connection's presence carries on the
// topics it subscribes to from now on (a user name, say); subscriptions
// made before keep the info they had. It fails for info longer than
// MaxPresenceInfo.
func (s *Socket) SetPresenceInfo(info string) error {
	if len(info) > MaxPresenceInfo {
		return fmt.Errorf("graft: presence info of %d bytes is over MaxPresenceInfo (%d)", len(info), MaxPresenceInfo)
	}
	s.mu.Lock()
	if info != "" || s.x.Load() != nil {
		s.extra().presInfo = info
	}
	s.mu.Unlock()
	return nil
}

// PresenceInfo returns the info set with SetPresenceInfo.
func (s *Socket) PresenceInfo() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x := s.x.Load(); x != nil {
		return x.presInfo
	}
	return ""
}

// SubscribePresence subscribes the connection to topic, if it is not
// already, and asks for the topic's join and leave events, which the
// route's Behavior.Presence handler receives (never for the connection
// itself) until it unsubscribes. It returns the topic's subscribers at
// that moment, on every node, this connection included: together with
// the events that follow, the connection knows who is there. It fails
// with ErrNoPresence for a topic no Config.Presence pattern covers, when
// the route has no Presence handler, and as TrySubscribe does.
func (s *Socket) SubscribePresence(topic string) ([]Presence, error) {
	p := s.hub().pres
	switch {
	case p == nil || !p.covers(topic):
		return nil, noPresence(topic)
	case s.set.presence == nil:
		return nil, fmt.Errorf("graft: SubscribePresence(%q) on WebSocket route %s, which has no Behavior.Presence handler to receive the events", topic, s.set.pattern)
	}
	var members []Presence
	_, err := s.subscribe(topic, &members)
	if err != nil {
		return nil, err
	}
	if members == nil {
		return nil, fmt.Errorf("graft: SubscribePresence(%q): the connection is closing", topic)
	}
	return members, nil
}

// Presence returns the subscribers of topic on every node, as
// Hub.Presence does; for mixins, which see no Hub.
func (s *Socket) Presence(topic string) ([]Presence, error) { return s.hub().Presence(topic) }

// NumClusterSubscribers returns the number of subscribers of topic on
// every node, as Hub.NumClusterSubscribers does.
func (s *Socket) NumClusterSubscribers(topic string) (int, error) {
	return s.hub().NumClusterSubscribers(topic)
}

// presenceJoined records, under s.mu, a subscription the registry just
// made (joined) or a watch on an existing one; members receives the
// topic's members when watch is set.
func (s *Socket) presenceJoined(topic string, k subKey, joined bool, members *[]Presence) {
	p := s.hub().pres
	if p == nil || !p.covers(topic) {
		return
	}
	x := s.extra()
	if joined {
		x.presTopics = append(x.presTopics, topic)
	}
	m := p.join(topic, k, s.id, x.presInfo, joined, members != nil)
	if members != nil {
		*members = m
	}
}

// presenceLeft records, under s.mu, that the connection left topic.
func (s *Socket) presenceLeft(topic string, k subKey) {
	p := s.hub().pres
	if p == nil {
		return
	}
	x := s.x.Load()
	if x == nil {
		return
	}
	i := slices.Index(x.presTopics, topic)
	if i < 0 {
		return
	}
	x.presTopics = slices.Delete(x.presTopics, i, i+1)
	p.leave(topic, k, s.id)
}
