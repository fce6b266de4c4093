package ws

import (
	"context"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/lxzan/gws"

	"github.com/graftgo/graft"
)

// SendStatus is what Send did with a message, uWebSockets' SendStatus.
type SendStatus uint8

// Send results.
const (
	// SendSuccess: the message was handed to the operating system.
	SendSuccess SendStatus = iota
	// SendBackpressure: the message was accepted but part of it waits in
	// the connection's buffer because the client is not reading fast
	// enough; wait for the Drain handler before sending more.
	SendBackpressure
	// SendDropped: the message was not sent, because the buffer was
	// already over MaxBackpressure or the connection is closing.
	SendDropped
)

// String returns "success", "backpressure" or "dropped".
func (st SendStatus) String() string {
	switch st {
	case SendSuccess:
		return "success"
	case SendBackpressure:
		return "backpressure"
	case SendDropped:
		return "dropped"
	}
	return fmt.Sprintf("SendStatus(%d)", uint8(st))
}

// wsCloseTimeout bounds how long a closing connection waits for its
// buffered data and close frame to be written and for the peer's close
// frame, and the WebSocket handshake.
const wsCloseTimeout = 2 * time.Second

// wsReadBuffer is the size of a connection's read buffer (net/http's).
const wsReadBuffer = 4096

// Conn is a WebSocket connection with user data of type T. It embeds
// Socket, whose methods (Send, Subscribe, Publish, Close, …) it offers;
// Data returns the user data set by the route's Upgrade handler.
//
// Conns are pooled: one must not be used after its Close handler returned.
type Conn[T any] struct {
	data T // first: a zero-size T then adds no padding
	Socket
}

// Data returns the connection's user data. Mixins embedded in T are bound
// to this connection, so their methods work on the returned value.
func (c *Conn[T]) Data() *T { return &c.data }

// ConnMixin is the connection side's graft.Mixin: embedded by an
// extension's connection mixin type, which an app embeds in its WebSocket
// user data type (as a request mixin is embedded in the app's context
// type). It is bound to the connection when the connection opens, so that
// mixin methods reach it through Socket, as request mixins reach theirs
// through Ctx (socketify's ws.method). State a mixin keeps per connection
// goes in a graft.Property, which works on a Socket as on a Ctx:
//
//	var Name = graft.NewProperty("name", func() string { return "" })
//
//	type PM struct{ ws.ConnMixin }
//
//	func (m *PM) SendPM(to, msg string) error {
//		return m.Socket().Publish("signal-"+to, []byte(Name.Get(m.Socket())+": "+msg), ws.OpText)
//	}
//
//	type Session struct {
//		PM
//		Username string
//	}
//	// conn.Data().SendPM("bob", "hi")
type ConnMixin struct {
	s *Socket
}

// Socket returns the connection the mixin is bound to, or nil outside a
// connection's user data.
func (m *ConnMixin) Socket() *Socket { return m.s }

// Socket is a WebSocket connection without its user data type: what
// Conn[T] embeds and what connection mixins see. Its methods are safe for
// concurrent use.
//
// An idle connection costs its Socket, the engine's connection and read
// buffer, and its read goroutine, so the struct holds only what every
// connection uses; state that few connections need (properties, presence,
// bytes buffered past the handshake, the rate limiter, close details, the
// backpressure counters) lives in a sockExtra made on first use
// (TestSocketSize pins the size).
type Socket struct {
	wire wireConn       // first: wireConn finds its Socket at its own address
	self unsafe.Pointer // the Conn[T] that embeds this Socket
	set  *wsSettings    // the route's settings; set.hub is the Hub
	gc   *gws.Conn
	rc   syscall.RawConn // nil when non-blocking writes are not possible (TLS)
	ctx  context.Context // the upgrade request's values, never cancelled
	x    atomic.Pointer[sockExtra]

	fcheck frameCheck // in front of the engine's reads (framecheck.go); read goroutine

	id     uint64
	opened int64        // unix nanoseconds
	seen   atomic.Int64 // hub clock at the last received frame
	pinged atomic.Int64 // value of seen when the last automatic ping went out

	rawFn  func(fd uintptr) bool // s.rawWriteFD, made once per pooled object
	rawBuf []byte
	rawN   int
	rawErr error

	mu         sync.Mutex // guards the write side and the close state
	gen        uint32     // bumped on release; subscriptions carry it
	ntopics    int32      // topics subscribed to, guarded by mu
	active     bool       // a writer goroutine owns the connection's writes
	needDrain  bool
	sendClosed bool // Send and Publish deliveries are dropped
	wshut      bool // the write side is shut: no frame is accepted
	subClosed  bool // Subscribe refuses
	closeSet   bool // the server closed first: closeCode and x.closeReason hold why
	deflate    bool
	closedCB   bool       // the Close handler started; no Drain after it (guarded by cbMu)
	closeCode  StatusCode // with closeSet
	sniffCode  StatusCode // code of a close frame the engine sent (protocol failures)
	queue      []outFrame
	buffered   int
	sent       [2]uint64 // Stats.SentMessages, Stats.SentBytes
	writers    sync.WaitGroup
	cbMu       sync.Mutex // serialises the connection's handlers

	prev, next *Socket // the hub's list of open connections
}

// sockExtra is the state of a Socket that few connections need, made on
// first use (Socket.extra) and recycled when the connection is released.
// Its fields are guarded by the Socket's mu unless noted.
type sockExtra struct {
	props       graft.Props // Socket.Properties; the handlers' goroutines
	subprotocol string      // set before the connection runs
	pend        []byte      // bytes net/http had buffered past the handshake, for the frame check; read goroutine
	tat         int64       // rate limiter's theoretical arrival time; read goroutine only
	presInfo    string      // SetPresenceInfo's
	presTopics  []string    // topics the presence knows it on
	closeReason string      // with Socket.closeSet
	sniffReason string      // with Socket.sniffCode
	endErr      error       // why the engine's read loop ended
	// The Stats counters beyond SentMessages and SentBytes.
	backpressuredMessages, backpressuredBytes uint64
	droppedMessages, droppedBytes             uint64
}

var extras = sync.Pool{New: func() any { return new(sockExtra) }}

// extra returns the connection's sockExtra, making it on first use.
func (s *Socket) extra() *sockExtra {
	if x := s.x.Load(); x != nil {
		return x
	}
	x := extras.Get().(*sockExtra)
	if s.x.CompareAndSwap(nil, x) {
		return x
	}
	extras.Put(x)
	return s.x.Load()
}

// releaseExtra clears the connection's sockExtra, if it has one, and
// recycles it, so that an idle pooled Socket holds none.
func (s *Socket) releaseExtra() {
	x := s.x.Swap(nil)
	if x == nil {
		return
	}
	x.props.Reset()
	props := x.props // its slots are kept for the next user
	*x = sockExtra{props: props, presTopics: x.presTopics[:0]}
	extras.Put(x)
}

var connIDs atomic.Uint64

// Properties returns the connection's property slots: a Socket is a
// graft.Holder, so graft.Property values work on connections as on
// request contexts (Cart.Get(conn)).
func (s *Socket) Properties() *graft.Props { return &s.extra().props }

// ID returns the connection's id, unique within the process.
func (s *Socket) ID() uint64 { return s.id }

// UserData returns a pointer to the connection's user data (a *T for a
// Conn[T]) for mixins that do not know T.
func (s *Socket) UserData() any { return s.set.userData(s.self) }

// RemoteAddr returns the address of the client (or the proxy in front).
func (s *Socket) RemoteAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wire.Conn == nil {
		return nil
	}
	return s.wire.Conn.RemoteAddr()
}

// Context returns the context of the upgrade request without its
// cancellation (graft.Ctx.DetachedContext): the values middleware put
// there (a request id, the handshake's trace span) for the connection's
// life, e.g. to link a span per message to the handshake's trace. When no
// middleware added values, it keeps nothing of the request alive but
// net/http's server and local-address values.
func (s *Socket) Context() context.Context {
	if s.ctx == nil {
		return context.Background()
	}
	return s.ctx
}

// Route returns the pattern of the connection's route, e.g. "/chat/{room}",
// for logs, metrics and spans of extension hooks.
func (s *Socket) Route() string { return s.set.pattern }

// Subprotocol returns the negotiated subprotocol, or "".
func (s *Socket) Subprotocol() string {
	if x := s.x.Load(); x != nil {
		return x.subprotocol
	}
	return ""
}

// Compression reports whether permessage-deflate was negotiated.
func (s *Socket) Compression() bool { return s.deflate }

// BufferedAmount returns the number of bytes accepted by Send (or
// publishes) that the operating system has not taken yet.
func (s *Socket) BufferedAmount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buffered
}

// Stats counts the messages a connection (Socket.Stats) or all of an
// app's connections (Hub.Stats) were given to send: by Send and
// by publishes, not control frames. Bytes are frame bytes as written
// (header included, compressed when compressed), the unit of
// BufferedAmount and MaxBackpressure.
type Stats struct {
	// SentMessages and SentBytes count the messages accepted for sending:
	// written at once or buffered.
	SentMessages, SentBytes uint64
	// BackpressuredMessages and BackpressuredBytes count the accepted
	// messages that had to wait in the buffer because the client was not
	// reading fast enough (Send returned SendBackpressure); they are also
	// counted as sent. A publish to more than 8 local subscribers always
	// queues; it counts here only when the buffer is then over
	// MaxBackpressure.
	BackpressuredMessages, BackpressuredBytes uint64
	// DroppedMessages and DroppedBytes count the messages not sent
	// because the buffer was over MaxBackpressure (the Dropped handler's
	// calls). Messages refused because the connection is closing are not
	// counted.
	DroppedMessages, DroppedBytes uint64
}

func (st *Stats) add(o Stats) {
	st.SentMessages += o.SentMessages
	st.SentBytes += o.SentBytes
	st.BackpressuredMessages += o.BackpressuredMessages
	st.BackpressuredBytes += o.BackpressuredBytes
	st.DroppedMessages += o.DroppedMessages
	st.DroppedBytes += o.DroppedBytes
}

// Stats returns the connection's message counters since it opened.
func (s *Socket) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{SentMessages: s.sent[0], SentBytes: s.sent[1]}
	if x := s.x.Load(); x != nil {
		st.BackpressuredMessages, st.BackpressuredBytes = x.backpressuredMessages, x.backpressuredBytes
		st.DroppedMessages, st.DroppedBytes = x.droppedMessages, x.droppedBytes
	}
	return st
}

// open prepares a pooled Socket for the hijacked connection nc.
func (s *Socket) open(nc net.Conn) {
	s.mu.Lock()
	s.wire.Conn = nc
	s.rc = rawConnOf(nc)
	s.id = connIDs.Add(1)
	s.mu.Unlock()
	now := time.Now().UnixNano()
	s.opened = now
	s.seen.Store(now)
	s.pinged.Store(-1)
}

// reset clears a Socket for its pool.
func (s *Socket) reset() {
	s.mu.Lock()
	s.gen++
	s.gc, s.rc, s.wire.Conn = nil, nil, nil
	s.queue = nil
	s.buffered = 0
	s.active, s.needDrain, s.sendClosed, s.wshut, s.subClosed = false, false, false, false, false
	s.closeSet, s.closeCode, s.sniffCode = false, 0, 0
	s.deflate = false
	s.rawBuf, s.rawErr = nil, nil
	s.sent = [2]uint64{}
	s.fcheck = frameCheck{}
	s.ctx = nil
	s.ntopics = 0
	s.mu.Unlock()
	s.cbMu.Lock()
	s.closedCB = false
	s.cbMu.Unlock()
	s.releaseExtra()
}

// key returns the connection's current subscription key, or false once it
// no longer accepts subscriptions.
func (s *Socket) key() (subKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return subKey{s, s.gen}, !s.subClosed && s.gc != nil
}

// hub returns the connection's Hub.
func (s *Socket) hub() *Hub { return s.set.hub }

// touch records activity for the idle timeout.
func (s *Socket) touch() {
	if s.set.idle > 0 {
		s.seen.Store(s.hub().now.Load())
	}
}

// recoverCallback, deferred around a handler, turns a panic into a log
// line and, when close is set, a 1011 close of this connection only.
func (s *Socket) recoverCallback(close bool) {
	if v := recover(); v != nil {
		s.hub().logger.Error("graft: panic in WebSocket handler", "route", s.set.pattern, "conn", s.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if close {
			s.closeWith(StatusInternalError, "internal error")
		}
	}
}

// callDrain runs the Drain handler, unless the Close handler already ran.
func (s *Socket) callDrain() {
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	if s.closedCB {
		return
	}
	func() {
		defer s.recoverCallback(true)
		s.set.drain(s)
	}()
}

// Subscribe subscribes the connection to topic and reports whether it was
// not subscribed before. The first local subscriber of a topic subscribes
// the node on the broker. Over Behavior.MaxTopics it reports false; use
// TrySubscribe to tell that apart.
func (s *Socket) Subscribe(topic string) bool {
	ok, _ := s.TrySubscribe(topic)
	return ok
}

// TrySubscribe is Subscribe returning ErrTooManyTopics when the connection
// is already subscribed to Behavior.MaxTopics other topics (subscribing
// again to one of them is not an error), and ErrReservedTopic for a topic
// graft uses itself.
func (s *Socket) TrySubscribe(topic string) (bool, error) {
	return s.subscribe(topic, nil)
}

// subscribe is TrySubscribe; with members set it also watches the
// topic's presence and stores its members there.
func (s *Socket) subscribe(topic string, members *[]Presence) (bool, error) {
	if reserved(topic) {
		return false, ErrReservedTopic
	}
	s.mu.Lock()
	if s.subClosed || s.gc == nil {
		s.mu.Unlock()
		return false, nil
	}
	k := subKey{s, s.gen}
	if m := s.set.maxTopics; m > 0 && int(s.ntopics) >= m {
		sub := s.hub().reg.IsSubscribed(k, topic)
		if sub && members != nil {
			s.presenceJoined(topic, k, false, members)
		}
		s.mu.Unlock()
		if sub {
			return false, nil
		}
		return false, ErrTooManyTopics
	}
	before, after := s.hub().reg.SubscribeCount(k, topic)
	if before != after {
		s.ntopics++
	}
	if before != after || members != nil {
		s.presenceJoined(topic, k, before != after, members)
	}
	s.mu.Unlock()
	if before == after {
		return false, nil
	}
	if before == 0 {
		s.hub().syncBus(topic)
	}
	s.subscriptionChanged(topic, after, before)
	return true, nil
}

// Unsubscribe unsubscribes the connection from topic and reports whether
// it was subscribed. The last local subscriber of a topic leaving
// unsubscribes the node on the broker.
func (s *Socket) Unsubscribe(topic string) bool {
	s.mu.Lock()
	k := subKey{s, s.gen}
	before, after := s.hub().reg.UnsubscribeCount(k, topic)
	if before != after {
		s.ntopics--
		s.presenceLeft(topic, k)
	}
	s.mu.Unlock()
	if before == after {
		return false
	}
	if after == 0 {
		s.hub().syncBus(topic)
	}
	s.hub().forgetStream(topic, k)
	s.subscriptionChanged(topic, after, before)
	return true
}

func (s *Socket) subscriptionChanged(topic string, newCount, oldCount int) {
	if s.set.subscription == nil {
		return
	}
	defer s.recoverCallback(true)
	s.set.subscription(s, topic, newCount, oldCount)
}

// NumSubscribers returns the number of this node's connections subscribed
// to topic, as Hub.NumSubscribers does; for mixins, which see no Hub.
// NumClusterSubscribers counts every node's.
func (s *Socket) NumSubscribers(topic string) int { return s.hub().reg.NumSubscribers(topic) }

// IsSubscribed reports whether the connection is subscribed to topic.
func (s *Socket) IsSubscribed(topic string) bool {
	k, _ := s.key()
	return s.hub().reg.IsSubscribed(k, topic)
}

// Topics returns the topics the connection is subscribed to, sorted.
func (s *Socket) Topics() []string {
	k, _ := s.key()
	return s.hub().reg.Topics(k)
}

// Publish sends data to every subscriber of topic except this connection,
// on this node and, through the broker, on the others. On a topic with a
// history (Config.History) it reaches this connection too, if subscribed,
// so that the offsets it receives have no holes (see Hub.Publish). The frame is
// encoded once for all local subscribers. A subscriber over its
// backpressure limit misses the message (see Send). When the broker could
// not take the message the error is a *BusError (errors.Is(err,
// ErrLocalOnly)): delivered on this node, not to the others. A message
// over Behavior.MaxPublishLength, or over the topic's
// Behavior.PublishLimits rule, is refused with ErrMessageTooLarge (and,
// with Behavior.CloseOnPublishLimit, the connection closed with 1009).
func (s *Socket) Publish(topic string, data []byte, op OpCode) error {
	if err := s.checkPublish(topic, len(data)); err != nil {
		return err
	}
	if reserved(topic) {
		return ErrReservedTopic
	}
	if op != OpText && op != OpBinary {
		return fmt.Errorf("graft: publish on %q: opcode %d is neither OpText nor OpBinary", topic, op)
	}
	if s.hub().hasHistory(topic) {
		return s.hub().publishHistory(topic, data, op)
	}
	s.hub().publishLocal(topic, data, op, s)
	return s.hub().publishBus(topic, data, op)
}

// wireConn is the net.Conn the engine sees: reads go straight to the
// connection, writes (the handshake response, close frames) join the
// connection's write queue, and Close shuts the write side after the queue
// is written instead of dropping what is still buffered.
type wireConn struct {
	net.Conn
}

// socket returns the Socket whose first field w is.
func (w *wireConn) socket() *Socket { return (*Socket)(unsafe.Pointer(w)) }

// Write queues b, a whole frame or handshake response from the engine.
func (w *wireConn) Write(b []byte) (int, error) {
	s := w.socket()
	buf := getFrameBuf(len(b))
	*buf = append((*buf)[:0], b...)
	if len(b) >= 2 && b[0] == 0x88 {
		s.sniffClose(*buf)
	}
	if s.enqueue(*buf, buf, frameControl, 0) == SendDropped {
		return 0, net.ErrClosed
	}
	return len(b), nil
}

// Close shuts the write side once the queue is written.
func (w *wireConn) Close() error {
	w.socket().shutdownWrites()
	return nil
}

// wsEvents adapts the engine's event interface to a route's handlers.
type wsEvents[T any] struct {
	r *wsRoute[T]
}

var _ gws.Event = (*wsEvents[struct{}])(nil)

func sock(gc *gws.Conn) *Socket { return gc.NetConn().(*wireConn).socket() }

func (e *wsEvents[T]) OnOpen(gc *gws.Conn) {
	if e.r.b.Open == nil && len(e.r.set.openHooks) == 0 {
		return
	}
	s := sock(gc)
	s.cbMu.Lock()
	if s.runOpenHooks() && e.r.b.Open != nil {
		func() {
			defer s.recoverCallback(true)
			e.r.b.Open((*Conn[T])(s.self))
		}()
	}
	s.cbMu.Unlock()
}

func (e *wsEvents[T]) OnClose(gc *gws.Conn, err error) {
	s := sock(gc)
	x := s.extra()
	s.mu.Lock()
	x.endErr = err
	s.mu.Unlock()
}

func (e *wsEvents[T]) OnPing(gc *gws.Conn, payload []byte) {
	s := sock(gc)
	s.touch()
	s.sendControl(0xA, payload)
	if e.r.b.Ping == nil {
		return
	}
	s.cbMu.Lock()
	func() {
		defer s.recoverCallback(true)
		e.r.b.Ping((*Conn[T])(s.self), payload)
	}()
	s.cbMu.Unlock()
}

func (e *wsEvents[T]) OnPong(gc *gws.Conn, payload []byte) {
	s := sock(gc)
	s.touch()
	if e.r.b.Pong == nil {
		return
	}
	s.cbMu.Lock()
	func() {
		defer s.recoverCallback(true)
		e.r.b.Pong((*Conn[T])(s.self), payload)
	}()
	s.cbMu.Unlock()
}

func (e *wsEvents[T]) OnMessage(gc *gws.Conn, msg *gws.Message) {
	s := sock(gc)
	s.touch()
	if !s.allowMessage() {
		if h := e.r.b.RateLimited; h != nil {
			s.cbMu.Lock()
			func() {
				defer s.recoverCallback(true)
				h((*Conn[T])(s.self), msg.Bytes(), OpCode(msg.Opcode))
			}()
			s.cbMu.Unlock()
		} else {
			s.closeWith(StatusPolicyViolation, "rate limited")
		}
		_ = msg.Close()
		return
	}
	if s.set.clientSub != nil {
		s.cbMu.Lock()
		handled := s.clientControl(msg.Bytes(), OpCode(msg.Opcode))
		s.cbMu.Unlock()
		if handled {
			_ = msg.Close()
			return
		}
	}
	if h := e.r.set.message; h != nil {
		s.cbMu.Lock()
		func() {
			defer s.recoverCallback(true)
			h(s, msg.Bytes(), OpCode(msg.Opcode))
		}()
		s.cbMu.Unlock()
	}
	_ = msg.Close()
}
