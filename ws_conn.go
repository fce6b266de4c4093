package graft

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/lxzan/gws"
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

// Conn is a WebSocket connection with user data of type T. It embeds
// Socket, whose methods (Send, Subscribe, Publish, Close, …) it offers;
// Data returns the user data set by the route's Upgrade handler.
//
// Conns are pooled: one must not be used after its Close handler returned.
type Conn[T any] struct {
	Socket
	data T
}

// Data returns the connection's user data. Mixins embedded in T are bound
// to this connection, so their methods work on the returned value.
func (c *Conn[T]) Data() *T { return &c.data }

// ConnMixin is embedded by an extension's connection mixin type, which an
// app embeds in its WebSocket user data type; graft binds it to the
// connection when the connection opens, so that mixin methods reach the
// connection (socketify's ws.method):
//
//	type PM struct{ graft.ConnMixin }
//
//	func (m *PM) SendPM(to, msg string) error {
//		return m.Socket().Publish("signal-"+to, []byte(msg), graft.OpText)
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
type Socket struct {
	self  unsafe.Pointer // the Conn[T] that embeds this Socket
	data  any            // *T
	hub   *wsHub
	set   *wsSettings
	gc    *gws.Conn
	nc    net.Conn
	rc    syscall.RawConn // nil when non-blocking writes are not possible (TLS)
	wire  wireConn
	rsv   rsvCheck // in front of the engine's reads with compression
	props Props

	id          uint64
	subprotocol string
	deflate     bool
	opened      int64        // unix nanoseconds
	seen        atomic.Int64 // hub clock at the last received frame
	pinged      atomic.Int64 // value of seen when the last automatic ping went out

	rawFn  func(fd uintptr) bool // s.rawWriteFD, made once per pooled object
	rawBuf []byte
	rawN   int
	rawErr error

	mu          sync.Mutex // guards the write side and the close state
	gen         uint32     // bumped on release; subscriptions carry it
	queue       []outFrame
	buffered    int
	active      bool // a writer goroutine owns the connection's writes
	needDrain   bool
	sendClosed  bool // Send and Publish deliveries are dropped
	wshut       bool // the write side is shut: no frame is accepted
	subClosed   bool // Subscribe refuses
	closeSet    bool // the server closed first: closeCode and closeReason hold why
	closeCode   int
	closeReason string
	sniffCode   int // code of a close frame the engine sent (protocol failures)
	sniffReason string
	endErr      error // why the engine's read loop ended
	stats       WSStats
	writers     sync.WaitGroup

	cbMu     sync.Mutex // serialises the connection's handlers
	closedCB bool       // the Close handler started; no Drain after it

	prev, next *Socket // the hub's list of open connections
}

var connIDs atomic.Uint64

// properties returns the connection's property slots.
func (s *Socket) properties() *Props { return &s.props }

// ID returns the connection's id, unique within the process.
func (s *Socket) ID() uint64 { return s.id }

// UserData returns a pointer to the connection's user data (a *T for a
// Conn[T]) for mixins that do not know T.
func (s *Socket) UserData() any { return s.data }

// RemoteAddr returns the address of the client (or the proxy in front).
func (s *Socket) RemoteAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nc == nil {
		return nil
	}
	return s.nc.RemoteAddr()
}

// Subprotocol returns the negotiated subprotocol, or "".
func (s *Socket) Subprotocol() string { return s.subprotocol }

// Compression reports whether permessage-deflate was negotiated.
func (s *Socket) Compression() bool { return s.deflate }

// BufferedAmount returns the number of bytes accepted by Send (or
// publishes) that the operating system has not taken yet.
func (s *Socket) BufferedAmount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buffered
}

// WSStats counts the messages a connection (Socket.Stats) or all of an
// app's connections (App.WebSocketStats) were given to send: by Send and
// by publishes, not control frames. Bytes are frame bytes as written
// (header included, compressed when compressed), the unit of
// BufferedAmount and MaxBackpressure.
type WSStats struct {
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

func (st *WSStats) add(o WSStats) {
	st.SentMessages += o.SentMessages
	st.SentBytes += o.SentBytes
	st.BackpressuredMessages += o.BackpressuredMessages
	st.BackpressuredBytes += o.BackpressuredBytes
	st.DroppedMessages += o.DroppedMessages
	st.DroppedBytes += o.DroppedBytes
}

// Stats returns the connection's message counters since it opened.
func (s *Socket) Stats() WSStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close starts the closing handshake with code and reason: frames already
// accepted are written first, then the close frame. Later sends are
// dropped. The Close handler runs once the client answered or after a
// timeout.
//
// A reason longer than 123 bytes (the room a close frame leaves) is cut at
// the last whole UTF-8 character that fits. Close returns an error wrapping
// ErrInvalidClose, and leaves the connection open, for a code that may not
// be sent (RFC 6455 section 7.4: below 1000, 1004, 1005, 1006, 1015,
// 1016-2999 and above 4999) or a reason that is not valid UTF-8. Closing a
// connection that is already closing does nothing and returns nil.
func (s *Socket) Close(code int, reason string) error {
	if !sendableCode(code) {
		return fmt.Errorf("%w: code %d may not be sent; use 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 section 7.4)", ErrInvalidClose, code)
	}
	if !utf8.ValidString(reason) {
		return fmt.Errorf("%w: the reason %q is not valid UTF-8", ErrInvalidClose, reason)
	}
	s.closeWith(code, reason)
	return nil
}

// ErrInvalidClose is wrapped by the error Socket.Close returns for a close
// code that may not be sent or a reason that is not valid UTF-8.
var ErrInvalidClose = errors.New("graft: invalid WebSocket close")

// maxCloseReason is the longest close reason: a control frame carries 125
// bytes, two of which are the code.
const maxCloseReason = 123

// trimReason cuts a valid UTF-8 reason to maxCloseReason bytes without
// splitting a character.
func trimReason(reason string) string {
	if len(reason) <= maxCloseReason {
		return reason
	}
	n := maxCloseReason
	for n > 0 && !utf8.RuneStart(reason[n]) {
		n--
	}
	return reason[:n]
}

// closeWith closes with a sendable code and a valid UTF-8 reason.
func (s *Socket) closeWith(code int, reason string) {
	s.mu.Lock()
	if s.closeSet || s.wshut || s.gc == nil {
		s.mu.Unlock()
		return
	}
	reason = trimReason(reason)
	s.closeSet, s.closeCode, s.closeReason = true, code, reason
	s.sendClosed = true
	gc := s.gc
	s.mu.Unlock()
	if err := gc.WriteClose(uint16(code), []byte(reason)); errors.Is(err, gws.ErrConnClosed) {
		// The engine had already closed (the peer closed first): report
		// what actually happened.
		s.mu.Lock()
		s.closeSet = false
		s.mu.Unlock()
	}
}

// abort drops the connection without a closing handshake, when it cannot
// take a close frame (a failed write, a shutdown past its deadline).
func (s *Socket) abort(code int, reason string) {
	s.mu.Lock()
	if !s.closeSet {
		s.closeSet, s.closeCode, s.closeReason = true, code, reason
	}
	s.sendClosed, s.wshut = true, true
	nc := s.nc
	s.mu.Unlock()
	if nc != nil {
		_ = nc.Close()
	}
}

func sendableCode(c int) bool {
	switch {
	case c < 1000 || c > 4999:
		return false
	case c == 1004 || c == 1005 || c == 1006 || c == 1015:
		return false
	case c >= 1016 && c < 3000:
		return false
	}
	return true
}

// markClosed stops sends once the read side has ended.
func (s *Socket) markClosed() {
	s.mu.Lock()
	s.sendClosed = true
	s.mu.Unlock()
}

// closeInfo returns the code and reason the Close handler reports: the
// server's when it closed first, then the peer's, then what the engine
// sent on a protocol failure, else 1006.
func (s *Socket) closeInfo() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeSet {
		return s.closeCode, s.closeReason
	}
	var ce *gws.CloseError
	if errors.As(s.endErr, &ce) {
		if s.sniffCode == CloseProtocolError || s.sniffCode == CloseInvalidPayload {
			return s.sniffCode, s.sniffReason
		}
		if ce.Code == 0 {
			return CloseNoStatusReceived, ""
		}
		return int(ce.Code), string(ce.Reason)
	}
	if s.sniffCode != 0 && s.sniffCode != CloseNormalClosure {
		return s.sniffCode, s.sniffReason
	}
	return CloseAbnormalClosure, ""
}

// failedByEngine reports whether the engine closed the connection on a
// protocol failure, sending a close frame the peer has not answered yet.
func (s *Socket) failedByEngine() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ce *gws.CloseError
	return !s.closeSet && !errors.As(s.endErr, &ce) && s.sniffCode != 0 && s.sniffCode != CloseNormalClosure
}

// open prepares a pooled Socket for the hijacked connection nc.
func (s *Socket) open(nc net.Conn) {
	s.mu.Lock()
	s.nc = nc
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
	s.gc, s.nc, s.rc, s.wire.Conn = nil, nil, nil, nil
	s.queue = nil
	s.buffered = 0
	s.active, s.needDrain, s.sendClosed, s.wshut, s.subClosed = false, false, false, false, false
	s.closeSet, s.closeCode, s.closeReason = false, 0, ""
	s.sniffCode, s.sniffReason, s.endErr = 0, "", nil
	s.subprotocol, s.deflate = "", false
	s.rawBuf, s.rawErr = nil, nil
	s.rsv = rsvCheck{}
	s.stats = WSStats{}
	s.mu.Unlock()
	s.cbMu.Lock()
	s.closedCB = false
	s.cbMu.Unlock()
	s.props.reset()
}

// key returns the connection's current subscription key, or false once it
// no longer accepts subscriptions.
func (s *Socket) key() (subKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return subKey{s, s.gen}, !s.subClosed && s.gc != nil
}

// touch records activity for the idle timeout.
func (s *Socket) touch() {
	if s.set.idle > 0 {
		s.seen.Store(s.hub.now.Load())
	}
}

// recoverCallback, deferred around a handler, turns a panic into a log
// line and, when close is set, a 1011 close of this connection only.
func (s *Socket) recoverCallback(close bool) {
	if v := recover(); v != nil {
		s.hub.core.logger.Error("graft: panic in WebSocket handler", "route", s.set.pattern, "conn", s.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if close {
			s.closeWith(CloseInternalError, "internal error")
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
// the node on the broker.
func (s *Socket) Subscribe(topic string) bool {
	s.mu.Lock()
	if s.subClosed || s.gc == nil {
		s.mu.Unlock()
		return false
	}
	before, after := s.hub.reg.SubscribeCount(subKey{s, s.gen}, topic)
	s.mu.Unlock()
	if before == after {
		return false
	}
	if before == 0 {
		s.hub.syncBus(topic)
	}
	s.subscriptionChanged(topic, after, before)
	return true
}

// Unsubscribe unsubscribes the connection from topic and reports whether
// it was subscribed. The last local subscriber of a topic leaving
// unsubscribes the node on the broker.
func (s *Socket) Unsubscribe(topic string) bool {
	k, _ := s.key()
	before, after := s.hub.reg.UnsubscribeCount(k, topic)
	if before == after {
		return false
	}
	if after == 0 {
		s.hub.syncBus(topic)
	}
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
// to topic, as App.NumSubscribers does; for mixins, which see no App.
func (s *Socket) NumSubscribers(topic string) int { return s.hub.reg.NumSubscribers(topic) }

// IsSubscribed reports whether the connection is subscribed to topic.
func (s *Socket) IsSubscribed(topic string) bool {
	k, _ := s.key()
	return s.hub.reg.IsSubscribed(k, topic)
}

// Topics returns the topics the connection is subscribed to, sorted.
func (s *Socket) Topics() []string {
	k, _ := s.key()
	return s.hub.reg.Topics(k)
}

// Publish sends data to every subscriber of topic except this connection,
// on this node and, through the broker, on the others. The frame is
// encoded once for all local subscribers. A subscriber over its
// backpressure limit misses the message (see Send). When the broker could
// not take the message the error is a *BusError (errors.Is(err,
// ErrLocalOnly)): delivered on this node, not to the others.
func (s *Socket) Publish(topic string, data []byte, op OpCode) error {
	if op != OpText && op != OpBinary {
		return fmt.Errorf("graft: publish on %q: opcode %d is neither OpText nor OpBinary", topic, op)
	}
	s.hub.publishLocal(topic, data, op, s)
	return s.hub.publishBus(topic, data, op)
}

// wireConn is the net.Conn the engine sees: reads go straight to the
// connection, writes (the handshake response, close frames) join the
// connection's write queue, and Close shuts the write side after the queue
// is written instead of dropping what is still buffered.
type wireConn struct {
	net.Conn
	s *Socket
}

// Write queues b, a whole frame or handshake response from the engine.
func (w *wireConn) Write(b []byte) (int, error) {
	s := w.s
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
	w.s.shutdownWrites()
	return nil
}

// inflateTooLarge is the reason gws gives, with 1011, when a compressed
// message inflates past the payload limit.
const inflateTooLarge = "gws: message too large"

// sniffClose records the code of a close frame the engine writes, and turns
// the engine's 1011 for an oversized inflated message into 1009.
func (s *Socket) sniffClose(b []byte) {
	n := int(b[1] & 0x7f)
	if n < 2 || len(b) < 2+n {
		return
	}
	code := int(b[2])<<8 | int(b[3])
	s.mu.Lock()
	if code == 1011 && !s.closeSet && string(b[4:2+n]) == inflateTooLarge {
		// gws v1.9.1 reports a compressed message that inflates past the
		// limit as an internal error; RFC 6455 wants 1009.
		code, b[3] = CloseMessageTooBig, byte(CloseMessageTooBig&0xff)
	}
	if s.sniffCode == 0 {
		s.sniffCode, s.sniffReason = code, string(b[4:2+n])
	}
	s.mu.Unlock()
}

// wsEvents adapts the engine's event interface to a route's handlers.
type wsEvents[T any] struct {
	r *wsRoute[T]
}

var _ gws.Event = (*wsEvents[struct{}])(nil)

func sock(gc *gws.Conn) *Socket { return gc.NetConn().(*wireConn).s }

func (e *wsEvents[T]) OnOpen(gc *gws.Conn) {
	if e.r.b.Open == nil {
		return
	}
	s := sock(gc)
	s.cbMu.Lock()
	func() {
		defer s.recoverCallback(true)
		e.r.b.Open((*Conn[T])(s.self))
	}()
	s.cbMu.Unlock()
}

func (e *wsEvents[T]) OnClose(gc *gws.Conn, err error) {
	s := sock(gc)
	s.mu.Lock()
	s.endErr = err
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
	if h := e.r.b.Message; h != nil {
		s.cbMu.Lock()
		func() {
			defer s.recoverCallback(true)
			h((*Conn[T])(s.self), msg.Bytes(), OpCode(msg.Opcode))
		}()
		s.cbMu.Unlock()
	}
	_ = msg.Close()
}
