package ws

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"runtime/debug"
	"strings"
	"time"
	"unsafe"

	"github.com/lxzan/gws"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/internal/mixscan"
	"github.com/graftgo/graft/internal/pool"
)

// OpCode is the kind of a WebSocket message: text or binary.
type OpCode uint8

// Message opcodes.
const (
	// OpText is a text message; its payload must be valid UTF-8.
	OpText OpCode = 1
	// OpBinary is a binary message.
	OpBinary OpCode = 2
)

// String returns "text" or "binary".
func (op OpCode) String() string {
	switch op {
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	}
	return fmt.Sprintf("opcode(%d)", uint8(op))
}

// Behavior is one WebSocket route's settings and handlers, uWebSockets'
// behaviour. T is the type of the connection's user data, returned by
// Upgrade. Zero values mean the app-wide default from the extension's Config
// (itself defaulting to uWebSockets' values); a boolean set here or there
// turns its feature on.
//
// Handlers of one connection never run concurrently with each other (Drain
// included), so they may use the connection's user data without locking;
// Subscription runs in the goroutine that called Subscribe or Unsubscribe.
// A panic in a handler is logged and closes that connection with 1011.
type Behavior[T any] struct {
	// MaxPayloadLength bounds a received message (reassembled and
	// decompressed); a bigger one closes the connection with 1009.
	// Default 16 KiB.
	MaxPayloadLength int
	// IdleTimeout closes a connection that received nothing for this long
	// (code 1001, reason "idle timeout"). Default 120s; negative: none.
	IdleTimeout time.Duration
	// MaxBackpressure bounds the bytes waiting to be written; see
	// Socket.Send. Default 64 KiB; negative: no limit.
	MaxBackpressure int
	// CloseOnBackpressureLimit also closes the connection, with 1008
	// "backpressure limit", when a message is dropped because it is over
	// MaxBackpressure; the close frame follows the buffered data.
	CloseOnBackpressureLimit bool
	// ResetIdleTimeoutOnSend counts every accepted Send as activity.
	ResetIdleTimeoutOnSend bool
	// DisablePings stops the automatic ping sent when a connection has been
	// idle for half of IdleTimeout (a live client's pong keeps it open).
	DisablePings bool
	// MaxLifetime closes a connection (1001, "max lifetime") this long
	// after it opened. Default none.
	MaxLifetime time.Duration
	// Compression negotiates permessage-deflate (without context
	// takeover, so a connection keeps no compression window). Messages
	// are then compressed when Send is asked to and, for Publish, when
	// they are at least 512 bytes.
	Compression bool
	// AllowedOrigins lists the Origin values a browser may connect from,
	// as path.Match patterns ("https://*.example.com") or "*" for any.
	// Nil allows the request's own host only (same origin); a request
	// without an Origin header (not a browser) is always allowed. Others
	// are answered 403.
	AllowedOrigins []string
	// Subprotocols lists the subprotocols the server speaks, preferred
	// first. The first one the client also offers is selected
	// (Socket.Subprotocol); if none matches the connection opens without
	// one.
	Subprotocols []string

	// MaxTopics bounds the topics one connection may be subscribed to at
	// once; beyond it TrySubscribe returns ErrTooManyTopics (and Subscribe
	// false) and the connection stays open. 0: no limit.
	MaxTopics int
	// MessageRate bounds the messages a connection may send, per second,
	// with a token bucket of MessageBurst messages (default: MessageRate
	// rounded up, at least 1): a connection may send MessageBurst messages
	// at once, then MessageRate per second. A message over the limit is
	// not given to Message: it goes to RateLimited when set (the
	// connection stays open), otherwise the connection is closed with
	// 1008 (StatusPolicyViolation) and the reason "rate limited". Pings
	// and pongs are not counted. 0: no limit.
	MessageRate float64
	// MessageBurst is the token bucket's size; see MessageRate.
	MessageBurst int
	// MaxPublishLength bounds the payload of a message the connection
	// publishes (Socket.Publish); a longer one is refused with
	// ErrMessageTooLarge and not published. 0: no limit. Hub.Publish and
	// ws.Publish, the app's own publishes, are not limited. PublishLimits
	// set other limits for some topics.
	MaxPublishLength int
	// PublishLimits bound the payload a connection may publish on the
	// topics their patterns match: the first matching rule applies, and
	// MaxPublishLength to topics no rule matches. A publish exactly at a
	// rule's MaxLength passes; one byte more is refused like one over
	// MaxPublishLength.
	PublishLimits []PublishLimit
	// CloseOnPublishLimit also closes a connection whose publish was
	// refused by MaxPublishLength or PublishLimits, with 1009
	// (StatusMessageTooBig) and the reason "publish too large", queued
	// before Publish returns (what the handler sends after it is not
	// sent). Without it the connection stays open and the app answers
	// the error.
	CloseOnPublishLimit bool

	// Receives and Sends declare the messages the route receives from
	// clients and sends to them, Topics the topics its connections
	// subscribe to, Handshake a struct type whose query:, header: and
	// path: tagged fields (doc, validation and example tags as on typed
	// endpoints) are the upgrade request's params, and Description what
	// the route is for: the AsyncAPI document (the openapi extension's
	// /asyncapi.json) is made of them. They change nothing at run time.
	Receives    []Message
	Sends       []Message
	Topics      []Topic
	Handshake   reflect.Type
	Description string

	// Upgrade runs before the handshake with the request context and
	// returns the connection's user data. An error rejects the upgrade and
	// is answered like a handler error (return an *HTTPError to choose the
	// status). Nil means the zero T.
	Upgrade func(c *graft.Ctx) (T, error)
	// Open runs when the connection is established.
	Open func(conn *Conn[T])
	// Message runs for each received text or binary message. data is only
	// valid until Message returns; copy what you keep.
	Message func(conn *Conn[T], data []byte, op OpCode)
	// Drain runs when the send buffer has emptied after a Send reported
	// Backpressure or Dropped.
	Drain func(conn *Conn[T])
	// Dropped runs for each message not sent to the connection because
	// its buffer was over MaxBackpressure (uWebSockets' dropped), whether
	// from Send or from a publish, with the message's payload (valid only
	// until Dropped returns) and opcode. It runs in the goroutine that
	// called Send or Publish (or the broker's, for messages from other
	// nodes), so it may run concurrently with the connection's other
	// handlers; the connection stays valid until it returns. With
	// CloseOnBackpressureLimit the connection is closed after it.
	// Drops are also counted in Socket.Stats and Hub.Stats.
	Dropped func(conn *Conn[T], data []byte, op OpCode)
	// RateLimited runs, instead of Message, for each received message
	// over MessageRate (data is only valid until it returns); the
	// message is dropped and the connection stays open. It may reply, or
	// close the connection with a code of its choice. Nil: a message over
	// the rate closes the connection with 1008 "rate limited".
	RateLimited func(conn *Conn[T], data []byte, op OpCode)
	// Ping runs for each received ping; graft answers it with a pong.
	Ping func(conn *Conn[T], payload []byte)
	// Pong runs for each received pong.
	Pong func(conn *Conn[T], payload []byte)
	// Close runs once when the connection has closed, with the code and
	// reason of the close: the peer's when it closed first (1005 when its
	// close frame had no code), graft's or the app's when the server
	// closed, 1006 when the connection dropped. The connection can no
	// longer send; it goes back to its pool when Close returns.
	Close func(conn *Conn[T], code StatusCode, reason string)
	// Subscription runs when the connection subscribes to or unsubscribes
	// from a topic (also when closing unsubscribes it), with the topic's
	// local number of subscribers after and before.
	Subscription func(conn *Conn[T], topic string, newCount, oldCount int)
	// ClientSubscribe, when set, lets clients subscribe and unsubscribe
	// themselves with the protocol of docs/websocket.md ("History and
	// recovery"; graft-ws.js, ClientScript, speaks it): graft handles
	// their {"type":"subscribe",…} and {"type":"unsubscribe",…} messages
	// before Message sees them, recovering from the epoch and offset the
	// client sends on topics with a history (SubscribeFrom). It decides
	// whether conn may subscribe to topic: nil allows, an error refuses
	// with an "error" message carrying its text. Other messages go to
	// Message.
	ClientSubscribe func(conn *Conn[T], topic string) error
	// Presence receives the join and leave events of the topics the
	// connection watches (Socket.SubscribePresence), on every node of
	// the cluster, in the order this node learnt of them; never the
	// connection's own. It runs in the hub's presence goroutine, one
	// event at a time for all connections, so it may run beside the
	// connection's other handlers and must not block (Send does not).
	Presence func(conn *Conn[T], ev PresenceEvent)
}

// wsSettings are a route's effective settings, resolved at start-up from
// its Behavior and the extension's Config, and the non-generic hooks the
// connection base calls.
type wsSettings struct {
	hub             *Hub
	userData        func(self unsafe.Pointer) any // the *T of a Conn[T]
	pattern         string
	maxPayload      int
	idle            time.Duration
	maxBackpressure int // <= 0: no limit
	closeOnLimit    bool
	resetIdleOnSend bool
	pings           bool
	lifetime        time.Duration
	compression     bool
	maxTopics       int // <= 0: no limit
	maxPublish      int // <= 0: no limit
	publishLimits   []PublishLimit
	closeOnPublish  bool
	rate            rateLimit // zero: no limit

	drain        func(s *Socket)
	dropped      func(s *Socket, data []byte, op OpCode)
	subscription func(s *Socket, topic string, newCount, oldCount int)
	clientSub    func(s *Socket, topic string) error // nil: no client protocol
	presence     func(s *Socket, ev PresenceEvent)
	hasDrain     bool

	// openHooks and closeHooks are the extensions' hooks for this route
	// (OnOpen, OnClose), fixed at start-up.
	openHooks, closeHooks []connHook
	// message is the route's Message handler inside the extensions'
	// wrappers (WrapMessage); nil when there is neither.
	message MessageHandler
}

// wsRoute is one registered WebSocket route.
type wsRoute[T any] struct {
	b        Behavior[T]
	hub      *Hub
	set      wsSettings
	mixins   []uintptr                // offsets of ConnMixin fields in T
	ups      map[string]*gws.Upgrader // by selected subprotocol ("" for none)
	pool     *pool.Pool[Conn[T]]
	ev       wsEvents[T]
	origins  []string
	sameOnly bool
	ri       *graft.Route // the route's handle, for the hooks of its scope
}

// connMixinType is the type connection mixins embed.
var connMixinType = reflect.TypeFor[ConnMixin]()

// setupPanic reports a setup mistake, as package graft does: a panic at
// registration whose message names the route and the fix.
func setupPanic(format string, args ...any) {
	panic(fmt.Sprintf("graft: "+format, args...))
}

// orDefault returns v, or def when v is the zero value.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Route registers a WebSocket route on r (an App or a Group) at
// pattern, served with behaviour b. Each connection carries user data of
// type T, returned by b.Upgrade; T may embed mixins built on ConnMixin,
// whose methods then work on conn.Data(). Connection objects are pooled
// (Config.PoolMaxItems, --ws-factory-maxitems).
//
// The app-wide settings come from the Extension registered on the app;
// without one, the first Route registers Extension(Config{}).
//
//	ws.Route(app, "/ws", ws.Behavior[Session]{
//		Upgrade: func(c *graft.Ctx) (Session, error) { return Session{Name: c.Query("name")}, nil },
//		Message: func(conn *ws.Conn[Session], data []byte, op ws.OpCode) { conn.Send(data, op, false) },
//	})
func Route[T any](r graft.Router, pattern string, b Behavior[T]) *graft.Route {
	h := hubFor(r)
	offs, err := connMixinOffsets(reflect.TypeFor[T]())
	if err != nil {
		setupPanic("WebSocket route %s: %v", pattern, err)
	}
	wr := &wsRoute[T]{b: b, hub: h, mixins: offs}
	wr.ev.r = wr
	wr.set.hub = h
	wr.set.userData = func(self unsafe.Pointer) any { return &(*Conn[T])(self).data }
	for _, o := range b.AllowedOrigins {
		if _, err := path.Match(o, ""); err != nil {
			setupPanic("WebSocket route %s: allowed origin %q is not a valid pattern: %v", pattern, o, err)
		}
		wr.origins = append(wr.origins, strings.ToLower(o))
	}
	wr.sameOnly = b.AllowedOrigins == nil
	checkLimits(pattern, b.MaxTopics, b.MessageRate, b.MessageBurst, b.MaxPublishLength, b.RateLimited != nil)
	checkPublishLimits(pattern, b.PublishLimits)
	ri := graft.AddRoute(r, http.MethodGet, pattern, wr.serve, "ws.Route "+reflect.TypeFor[T]().String())
	wr.set.pattern, wr.ri = ri.Pattern(), ri
	declareAPI(ri, &wr.b)
	h.addRoute(wr)
	return ri
}

// checkLimits rejects limit settings that cannot be meant, at
// registration.
func checkLimits(pattern string, maxTopics int, rate float64, burst, maxPublish int, hook bool) {
	switch {
	case maxTopics < 0:
		setupPanic("WebSocket route %s: Behavior.MaxTopics is %d; use 0 for no limit or a positive count", pattern, maxTopics)
	case maxPublish < 0:
		setupPanic("WebSocket route %s: Behavior.MaxPublishLength is %d; use 0 for no limit or a positive byte count", pattern, maxPublish)
	case rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0):
		setupPanic("WebSocket route %s: Behavior.MessageRate is %v; use 0 for no limit or a positive number of messages per second", pattern, rate)
	case burst < 0:
		setupPanic("WebSocket route %s: Behavior.MessageBurst is %d; use 0 for the default or a positive count", pattern, burst)
	case rate == 0 && burst != 0:
		setupPanic("WebSocket route %s: Behavior.MessageBurst is set without MessageRate; set MessageRate (messages per second) too", pattern)
	case rate == 0 && hook:
		setupPanic("WebSocket route %s: Behavior.RateLimited is set without MessageRate; set MessageRate (messages per second) too", pattern)
	}
}

// prepare resolves the route's settings against the app's config and makes
// its upgraders and connection pool. It runs at start-up.
func (r *wsRoute[T]) prepare(wc *Config) error {
	b := &r.b
	s := &r.set
	s.maxPayload = orDefault(b.MaxPayloadLength, orDefault(wc.MaxPayloadLength, DefaultMaxPayloadLength))
	s.idle = orDefault(b.IdleTimeout, orDefault(wc.IdleTimeout, DefaultIdleTimeout))
	s.maxBackpressure = orDefault(b.MaxBackpressure, orDefault(wc.MaxBackpressure, DefaultMaxBackpressure))
	s.closeOnLimit = b.CloseOnBackpressureLimit || wc.CloseOnBackpressureLimit
	s.resetIdleOnSend = b.ResetIdleTimeoutOnSend || wc.ResetIdleTimeoutOnSend
	s.pings = !(b.DisablePings || wc.DisablePings)
	s.lifetime = orDefault(b.MaxLifetime, wc.MaxLifetime)
	s.compression = b.Compression || wc.PerMessageDeflate
	s.maxTopics = b.MaxTopics
	s.maxPublish = b.MaxPublishLength
	s.publishLimits = b.PublishLimits
	s.closeOnPublish = b.CloseOnPublishLimit
	s.rate = newRateLimit(b.MessageRate, b.MessageBurst)
	if b.Drain != nil {
		s.hasDrain = true
		s.drain = func(sk *Socket) { b.Drain((*Conn[T])(sk.self)) }
	}
	if b.Dropped != nil {
		s.dropped = func(sk *Socket, data []byte, op OpCode) { b.Dropped((*Conn[T])(sk.self), data, op) }
	}
	if b.Subscription != nil {
		s.subscription = func(sk *Socket, topic string, n, o int) { b.Subscription((*Conn[T])(sk.self), topic, n, o) }
	}
	if b.Presence != nil {
		s.presence = func(sk *Socket, ev PresenceEvent) { b.Presence((*Conn[T])(sk.self), ev) }
	}
	if b.ClientSubscribe != nil {
		s.clientSub = func(sk *Socket, topic string) error { return b.ClientSubscribe((*Conn[T])(sk.self), topic) }
	}
	var wraps []connHook
	s.openHooks, s.closeHooks, wraps = r.hub.routeHookSets(r.ri)
	var inner MessageHandler
	if h := b.Message; h != nil {
		inner = func(sk *Socket, data []byte, op OpCode) { h((*Conn[T])(sk.self), data, op) }
	}
	var err error
	if s.message, err = messageChain(s.pattern, inner, wraps); err != nil {
		return err
	}
	r.ups = map[string]*gws.Upgrader{"": r.newUpgrader(nil)}
	for _, p := range b.Subprotocols {
		r.ups[p] = r.newUpgrader([]string{p})
	}
	r.pool = pool.New(poolSize(wc.PoolMaxItems), r.newConn)
	return nil
}

func (r *wsRoute[T]) newUpgrader(subprotocols []string) *gws.Upgrader {
	opt := &gws.ServerOption{
		ReadMaxPayloadSize: r.set.maxPayload,
		CheckUtf8Enabled:   true,
		SubProtocols:       subprotocols,
		NewSession:         func() gws.SessionStorage { return noSession{} },
		Logger:             gwsLogger{r.hub},
		HandshakeTimeout:   wsCloseTimeout,
	}
	if r.set.compression {
		// No context takeover either way: a connection then keeps no
		// 32 KiB window per direction, and a published frame compressed
		// once is valid for every subscriber.
		opt.PermessageDeflate = gws.PermessageDeflate{Enabled: true, PoolSize: 4}
	}
	return gws.NewUpgrader(&r.ev, opt)
}

// newConn makes a pooled connection object.
func (r *wsRoute[T]) newConn() *Conn[T] {
	c := new(Conn[T])
	s := &c.Socket
	s.self = unsafe.Pointer(c)
	s.set = &r.set
	s.rawFn = s.rawWriteFD
	return c
}

// serve is the route's handler: it checks the handshake, runs Upgrade,
// hijacks the connection and hands it to gws, then returns; the
// connection lives on in its own goroutine.
func (r *wsRoute[T]) serve(c *graft.Ctx) error {
	req := c.Request
	if err := checkHandshake(req); err != nil {
		return err
	}
	if !r.originAllowed(req) {
		return &graft.HTTPError{Status: http.StatusForbidden, Detail: "cross-origin WebSocket upgrade refused; list the origin in Behavior.AllowedOrigins"}
	}
	var data T
	if r.b.Upgrade != nil {
		var err error
		if data, err = r.b.Upgrade(c); err != nil {
			return err
		}
	}
	if r.hub.isClosing() {
		return &graft.HTTPError{Status: http.StatusServiceUnavailable, Detail: "the server is shutting down"}
	}
	up := r.ups[""]
	if len(r.b.Subprotocols) > 0 {
		if p := selectSubprotocol(r.b.Subprotocols, req.Header[hdrProtocol]); p != "" {
			up = r.ups[p]
		}
	}
	hj, ok := c.Response().(http.Hijacker)
	if !ok {
		return &graft.HTTPError{Status: http.StatusInternalServerError, Detail: "the connection cannot be taken over for a WebSocket"}
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return &graft.HTTPError{Status: http.StatusInternalServerError, Detail: "taking over the connection failed", Err: err}
	}
	conn := r.pool.Get()
	conn.data = data
	base := unsafe.Pointer(&conn.data)
	for _, off := range r.mixins {
		*(*ConnMixin)(unsafe.Add(base, off)) = ConnMixin{s: &conn.Socket}
	}
	s := &conn.Socket
	s.ctx = c.DetachedContext()
	s.open(nc)
	// The engine reads through the frame check (framecheck.go): it takes
	// a 64-bit length with its top bit set for a negative one (and
	// panics), and checks no reserved bit once compression is on. When
	// nothing came after the handshake (the usual case) the connection
	// gets a reader of its own instead of net/http's, whose buffer the
	// handshake dirtied: an idle connection then keeps no resident read
	// buffer until its first frame arrives.
	deflate := r.set.compression && strings.Contains(headerGet(req.Header, hdrExtensions), "permessage-deflate")
	br := startFrameCheck(s, brw.Reader, wsReadBuffer, deflate)
	gc, err := up.UpgradeFromConn(&s.wire, br, req)
	if err != nil {
		s.finishWrites(false)
		r.release(conn)
		return nil
	}
	s.gc = gc
	if p := gc.SubProtocol(); p != "" {
		s.extra().subprotocol = p
	}
	s.deflate = deflate
	if !r.hub.add(s) {
		s.abort(StatusGoingAway, "server shutting down")
		s.finishWrites(false)
		r.release(conn)
		return nil
	}
	go r.run(conn)
	return nil
}

// run reads the connection until it closes, then runs the Close handler and
// releases the connection.
func (r *wsRoute[T]) run(conn *Conn[T]) {
	s := &conn.Socket
	defer r.hub.wg.Done()
	r.readLoop(s)
	s.markClosed()
	code, reason := s.closeInfo()
	linger := s.failedByEngine()
	s.cbMu.Lock()
	s.closedCB = true
	if r.b.Close != nil {
		func() {
			defer s.recoverCallback(false)
			r.b.Close(conn, code, reason)
		}()
	}
	s.runCloseHooks(code, reason)
	s.cbMu.Unlock()
	r.hub.unsubscribeAll(s)
	s.finishWrites(linger)
	r.hub.remove(s)
	r.release(conn)
}

// readLoop runs the engine's read loop. A panic in the engine (a frame it
// mishandles that the frame check does not know of) is not a user's: it is
// logged with the route and closes this connection with 1011, and the
// process goes on, instead of dying with every other connection.
func (r *wsRoute[T]) readLoop(s *Socket) {
	defer func() {
		if v := recover(); v != nil {
			s.hub().logger.Error("graft: panic in the WebSocket engine's read loop", "route", s.set.pattern, "conn", s.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.closeWith(StatusInternalError, "internal error")
		}
	}()
	s.gc.ReadLoop()
}

func (r *wsRoute[T]) release(conn *Conn[T]) {
	conn.Socket.reset()
	var zero T
	conn.data = zero
	r.pool.Put(conn)
}

// checkHandshake answers requests that are not WebSocket handshakes before
// the connection is taken over, so that they get an ordinary HTTP error.
func checkHandshake(r *http.Request) error {
	if r.ProtoMajor != 1 {
		return &graft.HTTPError{Status: http.StatusBadRequest, Detail: "WebSocket upgrades need HTTP/1.1; HTTP/2 WebSockets (RFC 8441) are not supported"}
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return &graft.HTTPError{Status: http.StatusUpgradeRequired, Detail: "this route serves WebSocket connections only", Header: http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}}
	}
	if headerGet(r.Header, hdrVersion) != "13" {
		return &graft.HTTPError{Status: http.StatusUpgradeRequired, Detail: "unsupported WebSocket version; use 13", Header: http.Header{"Sec-WebSocket-Version": {"13"}}}
	}
	if !validKey(headerGet(r.Header, hdrKey)) {
		return &graft.HTTPError{Status: http.StatusBadRequest, Detail: "missing or malformed Sec-WebSocket-Key"}
	}
	return nil
}

// The handshake's headers in canonical form (http.CanonicalHeaderKey), so
// that reading them allocates nothing: http.Header.Get canonicalises
// "Sec-WebSocket-Key" into a new string on every call.
const (
	hdrKey        = "Sec-Websocket-Key"
	hdrVersion    = "Sec-Websocket-Version"
	hdrExtensions = "Sec-Websocket-Extensions"
	hdrProtocol   = "Sec-Websocket-Protocol"
)

// headerGet is http.Header.Get for a key already in canonical form.
func headerGet(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// validKey reports whether key is a Sec-WebSocket-Key: 16 bytes in
// base64 (RFC 6455 section 4.1), decoded without allocating.
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	var dst [18]byte
	n, err := base64.StdEncoding.Decode(dst[:], []byte(key))
	return err == nil && n == 16
}

// headerHasToken reports whether a comma-separated header holds token,
// case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// originAllowed applies AllowedOrigins, or the same-origin rule without it.
func (r *wsRoute[T]) originAllowed(req *http.Request) bool {
	origin := req.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if r.sameOnly {
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, req.Host)
	}
	origin = strings.ToLower(origin)
	for _, o := range r.origins {
		if o == "*" || o == origin {
			return true
		}
		if ok, _ := path.Match(o, origin); ok {
			return true
		}
	}
	return false
}

// selectSubprotocol returns the first of the server's subprotocols that the
// client offered, or "".
func selectSubprotocol(server []string, offered []string) string {
	for _, p := range server {
		for _, v := range offered {
			for o := range strings.SplitSeq(v, ",") {
				if strings.TrimSpace(o) == p {
					return p
				}
			}
		}
	}
	return ""
}

// connMixinOffsets finds every ConnMixin inside T's struct fields (embedded
// or not, at any depth, by value) and returns its offset in T. A ConnMixin
// that cannot be bound (behind a pointer, in a container) and methods that
// two embedded mixins define alike are errors naming the field or methods.
func connMixinOffsets(t reflect.Type) ([]uintptr, error) {
	var offs []uintptr
	var walk func(t reflect.Type, base uintptr, path string) error
	walk = func(t reflect.Type, base uintptr, path string) error {
		if t == connMixinType {
			offs = append(offs, base)
			return nil
		}
		if t.Kind() != reflect.Struct {
			if at := mixscan.Inside(t, connMixinType, map[reflect.Type]bool{}); at != "" {
				return fmt.Errorf("WebSocket data type %s: the connection mixin %s at %s cannot be bound (it is behind a %s); hold mixins by value in structs", t, at, path, t.Kind())
			}
			return nil
		}
		for i := range t.NumField() {
			f := t.Field(i)
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			if err := walk(f.Type, base+f.Offset, p); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(t, 0, ""); err != nil {
		return nil, err
	}
	if t.Kind() == reflect.Struct {
		if err := mixscan.Clashes(t, "WebSocket data type", nil); err != nil {
			return nil, err
		}
	}
	return offs, nil
}

// noSession replaces gws's per-connection session map: graft keeps
// connection state in the Conn itself.
type noSession struct{}

func (noSession) Len() int                     { return 0 }
func (noSession) Load(string) (any, bool)      { return nil, false }
func (noSession) Delete(string)                {}
func (noSession) Store(string, any)            {}
func (noSession) Range(func(string, any) bool) {}

var _ gws.SessionStorage = noSession{}

// gwsLogger sends gws's own error logs to the app's logger.
type gwsLogger struct{ h *Hub }

func (l gwsLogger) Error(v ...any) {
	l.h.logger.Error("graft: websocket engine", "err", fmt.Sprint(v...))
}
