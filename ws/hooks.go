package ws

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/graftgo/graft"
)

// connHook is one extension's open or close hook, for the WebSocket routes
// of the extension's scope.
type connHook struct {
	ext    string                  // the extension that added it, for logs
	covers func(*graft.Route) bool // the extension's Builder.Covers: routes of its scope
	open   func(s *Socket)
	close  func(s *Socket, code StatusCode, reason string)
	wrap   func(pattern string, next MessageHandler) MessageHandler
}

// MessageHandler handles one message a connection received: the route's
// Message handler as extensions see it (see WrapMessage). data is valid
// only until it returns.
type MessageHandler func(s *Socket, data []byte, op OpCode)

// OnOpen adds fn to run when a connection of any WebSocket route in the
// scope of the extension that b was given to (the app, or its group and
// the sub-groups) opens, before the route's own Open handler: how an
// extension sets up per-connection state (a graft.Property on the Socket)
// for every WebSocket route, as Builder.Use does for requests. Call it from
// Extend. The extension must list ExtensionID ("graft.ws") in its
// Requires, so that the WebSocket extension is found (graft.Require); an
// error says so, as it does for a nil fn or a call after start-up.
//
// Open hooks run in the order the extensions were extended (dependencies
// first), each under the connection's handler lock, so never concurrently
// with the connection's other handlers. A panic in a hook is logged once,
// naming the extension, and closes the connection with 1011; the later
// open hooks and the Open handler then do not run, the close hooks and the
// Close handler do. The hooks of a route are fixed at start-up.
func OnOpen(b *graft.Builder, fn func(s *Socket)) error {
	if fn == nil {
		return fmt.Errorf("ws.OnOpen from extension %s: the hook is nil", b.ID())
	}
	return addHook(b, connHook{open: fn}, "ws.OnOpen")
}

// OnClose adds fn to run once when a connection of any WebSocket route in
// the scope of the extension that b was given to has closed, after the
// route's own Close handler, with the same code and reason (see
// Behavior.Close): how an extension releases what its open hook set up.
// Close hooks run in the reverse order of the extensions (dependencies
// last), so an extension's close hook still sees what the ones it requires
// set up. A panic in one is logged, naming the extension, and the next
// hooks still run. The other rules are OnOpen's.
func OnClose(b *graft.Builder, fn func(s *Socket, code StatusCode, reason string)) error {
	if fn == nil {
		return fmt.Errorf("ws.OnClose from extension %s: the hook is nil", b.ID())
	}
	return addHook(b, connHook{close: fn}, "ws.OnClose")
}

// WrapMessage adds mw around the handling of every message received on
// the WebSocket routes in the scope of the extension that b was given to:
// mw gets the handler it wraps (the route's Message handler, or one that
// does nothing when the route has none) and returns the one to call, so
// it runs code before and after each message, as Builder.Use does for
// requests (a message counter, a span per message). mw is called once
// per route at start-up with the route's pattern, so it can resolve what
// it needs for the route then (a counter with the route's label) rather
// than per message. The wrappers of a route are composed the first
// extension's outermost; messages refused by the route's rate limit
// reach none of them.
//
// The handler runs under the connection's handler lock, like Message; a
// panic in a wrapper or in the handler is logged naming the route and
// closes the connection with 1011. The other rules are OnOpen's.
func WrapMessage(b *graft.Builder, mw func(pattern string, next MessageHandler) MessageHandler) error {
	if mw == nil {
		return fmt.Errorf("ws.WrapMessage from extension %s: the wrapper is nil", b.ID())
	}
	return addHook(b, connHook{wrap: mw}, "ws.WrapMessage")
}

func addHook(b *graft.Builder, h connHook, what string) error {
	hub, err := graft.Require[*Hub](b)
	if err != nil {
		return fmt.Errorf("%s: %w (list ws.ExtensionID in Requires)", what, err)
	}
	if hub.started.Load() {
		return errors.New(what + " from extension " + b.ID() + " after the WebSocket extension started; call it from Extend")
	}
	h.ext, h.covers = b.ID(), b.Covers
	hub.hooks = append(hub.hooks, h)
	b.Contribute(hookNames[what])
	return nil
}

// hookNames are the contributions app.Extensions() lists for each hook.
var hookNames = map[string]string{
	"ws.OnOpen":      "ws open hook",
	"ws.OnClose":     "ws close hook",
	"ws.WrapMessage": "ws message wrapper",
}

// routeHooks returns the open hooks (extension order) and the close hooks
// (reverse order) that apply to route ri: those of the extensions whose
// scope holds it.
func (h *Hub) routeHooks(ri *graft.Route) (open, closing []connHook) {
	open, closing, _ = h.routeHookSets(ri)
	return open, closing
}

// routeHookSets returns routeHooks' lists and the message wrappers of
// route ri, in extension order.
func (h *Hub) routeHookSets(ri *graft.Route) (open, closing, wraps []connHook) {
	for i := range h.hooks {
		if hk := h.hooks[i]; hk.covers(ri) && hk.wrap != nil {
			wraps = append(wraps, hk)
		}
	}
	for i := range h.hooks {
		if hk := h.hooks[i]; hk.covers(ri) && hk.open != nil {
			open = append(open, hk)
		}
	}
	for i := len(h.hooks) - 1; i >= 0; i-- {
		if hk := h.hooks[i]; hk.covers(ri) && hk.close != nil {
			closing = append(closing, hk)
		}
	}
	return open, closing, wraps
}

// messageChain composes the route's message handler inside the wrappers,
// the first outermost; nil when there is neither.
func messageChain(pattern string, inner MessageHandler, wraps []connHook) (MessageHandler, error) {
	if len(wraps) == 0 {
		return inner, nil
	}
	if inner == nil {
		inner = func(*Socket, []byte, OpCode) {}
	}
	for i := len(wraps) - 1; i >= 0; i-- {
		if inner = wraps[i].wrap(pattern, inner); inner == nil {
			return nil, fmt.Errorf("graft: WebSocket route %s: the ws.WrapMessage wrapper of extension %s returned a nil handler; return next or a handler that calls it", pattern, wraps[i].ext)
		}
	}
	return inner, nil
}

// runOpenHooks runs the route's open hooks and reports whether they all
// returned; after a panic the connection is closing with 1011.
func (s *Socket) runOpenHooks() (ok bool) {
	for i := range s.set.openHooks {
		hk := &s.set.openHooks[i]
		if !s.callHook(hk.ext, func() { hk.open(s) }, true) {
			return false
		}
	}
	return true
}

// runCloseHooks runs the route's close hooks, each to its end.
func (s *Socket) runCloseHooks(code StatusCode, reason string) {
	for i := range s.set.closeHooks {
		hk := &s.set.closeHooks[i]
		s.callHook(hk.ext, func() { hk.close(s, code, reason) }, false)
	}
}

// callHook runs one extension hook, turning a panic into one log line that
// names the extension and, when close is set, a 1011 close.
func (s *Socket) callHook(ext string, fn func(), close bool) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			s.hub().logger.Error("graft: panic in WebSocket extension hook", "extension", ext, "route", s.set.pattern, "conn", s.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if close {
				s.closeWith(StatusInternalError, "internal error")
			}
		}
	}()
	fn()
	return true
}
