package ws

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/graftgo/graft"
)

// TestCallbackPanicsMatrix: a panic in each of a route's callbacks is
// contained as docs/reliability.md says: an Upgrade panic answers 500
// before the upgrade; a panic in Open, Message or Ping closes that
// connection with 1011; a panic in Close (the connection is gone already)
// is only logged. Each is logged exactly once, and a fresh connection on the
// same route is served afterwards.
func TestCallbackPanicsMatrix(t *testing.T) {
	var logs syncBuffer
	closed := make(chan StatusCode, 8)
	app := wsTestApp(t, graft.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/ws", Behavior[string]{
			Upgrade: func(c *graft.Ctx) (string, error) {
				where := c.Request.URL.Query().Get("panic")
				if where == "upgrade" {
					panic("fault in upgrade")
				}
				return where, nil
			},
			Open: func(c *Conn[string]) {
				if *c.Data() == "open" {
					panic("fault in open")
				}
			},
			Message: func(c *Conn[string], data []byte, op OpCode) {
				if *c.Data() == "message" {
					panic("fault in message")
				}
				c.Send(data, op, false)
			},
			Ping: func(c *Conn[string], _ []byte) {
				if *c.Data() == "ping" {
					panic("fault in ping")
				}
			},
			Close: func(c *Conn[string], code StatusCode, _ string) {
				closed <- code
				if *c.Data() == "close" {
					panic("fault in close")
				}
			},
		})
	})
	healthy := func(t *testing.T) {
		t.Helper()
		c := wsDial(t, app.Addr(), "/ws")
		c.writeFrame(wsTextFrame("still here"))
		c.expectMessage(1, []byte("still here"))
		c.writeFrame(wsCloseFrame(1000, ""))
		c.expectClose(StatusNormalClosure)
		wsRecv(t, closed, "the Close handler of the healthy connection")
	}
	for _, where := range []string{"upgrade", "open", "message", "ping", "close"} {
		t.Run(where, func(t *testing.T) {
			before := len(logs.String())
			switch where {
			case "upgrade":
				_, err := wsDialErr(app.Addr(), "/ws?panic=upgrade")
				if se, ok := err.(*wsStatusError); !ok || se.code != 500 {
					t.Fatalf("upgrade panic: %v, want a 500 answer", err)
				}
			case "open":
				c := wsDial(t, app.Addr(), "/ws?panic=open")
				c.expectClose(StatusInternalError)
				wsRecv(t, closed, "the Close handler after the Open panic")
			case "message":
				c := wsDial(t, app.Addr(), "/ws?panic=message")
				c.writeFrame(wsTextFrame("x"))
				c.expectClose(StatusInternalError)
				wsRecv(t, closed, "the Close handler after the Message panic")
			case "ping":
				c := wsDial(t, app.Addr(), "/ws?panic=ping")
				c.writeFrame(wsPingFrame("p"))
				for {
					f := c.next()
					if f.op == 10 { // the pong still goes out
						continue
					}
					if f.op != 8 || len(f.payload) < 2 || StatusCode(int(f.payload[0])<<8|int(f.payload[1])) != StatusInternalError {
						t.Fatalf("after a Ping panic: frame op %d %q, want a 1011 close", f.op, f.payload)
					}
					break
				}
				wsRecv(t, closed, "the Close handler after the Ping panic")
			case "close":
				c := wsDial(t, app.Addr(), "/ws?panic=close")
				c.writeFrame(wsCloseFrame(1000, ""))
				c.expectClose(StatusNormalClosure)
				wsRecv(t, closed, "the Close handler that panics")
			}
			wsWaitFor(t, "the panic log record", func() bool { return strings.Contains(logs.String()[before:], "fault in "+where) })
			healthy(t)
			got := logs.String()[before:]
			if n := strings.Count(got, "\n"); n != 1 {
				t.Errorf("%d log records for one panic, want 1:\n%s", n, got)
			}
		})
	}
}
