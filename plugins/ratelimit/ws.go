package ratelimit

import (
	"context"

	"github.com/graftgo/graft/ws"
)

// Messages limits the messages of a WebSocket route: it wraps the route's
// Message handler so that each received message counts one unit for
// key(conn) (a user shared by all their connections, an address, the
// connection's id) before next sees it. A message over the limit is
// dropped and the connection closed with 1008 (policy violation) and the
// reason "rate limited", as ws.Behavior.MessageRate does; a store failure
// closes it with 1011 unless Config.FailOpen. A key of "" is not counted.
//
//	Message: ratelimit.Messages(lim, func(c *ws.Conn[Session]) string { return c.Data().User }, onMessage),
//
// For another answer (a reply, a warning before closing), call Take in the
// handler instead.
func Messages[T any](l *Limiter, key func(conn *ws.Conn[T]) string, next func(conn *ws.Conn[T], data []byte, op ws.OpCode)) func(conn *ws.Conn[T], data []byte, op ws.OpCode) {
	if l == nil || key == nil || next == nil {
		panic("ratelimit.Messages: the limiter, key and next handler must not be nil")
	}
	if l.err != nil {
		panic("ratelimit.Messages: " + l.err.Error())
	}
	return func(conn *ws.Conn[T], data []byte, op ws.OpCode) {
		k := key(conn)
		if k == "" {
			next(conn, data, op)
			return
		}
		d, err := l.Take(context.Background(), k)
		switch {
		case err != nil && !l.cfg.FailOpen:
			_ = conn.Close(ws.StatusInternalError, "rate limit unavailable")
		case err == nil && !d.Allowed:
			_ = conn.Close(ws.StatusPolicyViolation, "rate limited")
		default:
			next(conn, data, op)
		}
	}
}
