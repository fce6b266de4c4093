package ws

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// TestWSCountsAgainstMaxConns: a WebSocket holds its place under
// graft.Config.MaxConns until it closes, and works through the limited
// listener (echo); once it closes, a waiting HTTP connection is served.
func TestWSCountsAgainstMaxConns(t *testing.T) {
	app := wsTestApp(t, graft.Config{MaxConns: 1}, func(app *graft.App[graft.Ctx]) {
		app.GET("/", func(c *graft.Ctx) error { return c.Text(http.StatusOK, "hello") })
		Route(app, "/ws", Behavior[struct{}]{
			Message: func(c *Conn[struct{}], data []byte, op OpCode) { c.Send(data, op, false) },
		})
	})
	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsTextFrame("echo"))
	c.expectMessage(1, []byte("echo"))

	h, err := net.DialTimeout("tcp", app.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := io.WriteString(h, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(h)
	_ = h.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var ne net.Error
	if res, err := http.ReadResponse(br, nil); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("MaxConns 1: an HTTP request was answered (%v %v) while a WebSocket was open", res, err)
	}
	c.writeFrame(wsCloseFrame(1000, ""))
	c.expectClose(1000)
	_ = h.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("after the WebSocket closed: %v %v", res, err)
	}
	res.Body.Close()
}
