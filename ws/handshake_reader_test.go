package ws

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// TestFramesWithTheHandshake sends the handshake and two frames in one
// write, so that net/http has buffered the frames when the connection is
// taken over: they must reach the handler in order (the connection then
// keeps net/http's reader), as a frame sent after the handshake does (it
// gets a reader of its own, whose pages an idle connection never touches:
// that is what keeps idle memory per connection at gws's; see
// docs/benchmarks.md). With and without permessage-deflate, whose
// reserved-bit check sits in front of the same reader.
func TestFramesWithTheHandshake(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		t.Run(fmt.Sprintf("deflate=%v", deflate), func(t *testing.T) {
			app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
				if deflate {
					app.Register(Extension(Config{PerMessageDeflate: true}))
				}
				Route(app, "/echo", Behavior[struct{}]{
					Message: func(c *Conn[struct{}], data []byte, op OpCode) { c.Send(data, op, false) },
				})
			})
			addr := app.Addr()
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var key [16]byte
			_, _ = rand.Read(key[:])
			var b strings.Builder
			ext := ""
			if deflate {
				ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
			}
			fmt.Fprintf(&b, "GET /echo HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n%s\r\n", addr, base64.StdEncoding.EncodeToString(key[:]), ext)
			b.Write(wsEncodeClientFrame(wsTextFrame("first")))
			b.Write(wsEncodeClientFrame(wsTextFrame("second")))
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write([]byte(b.String())); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("handshake: %v %v", resp, err)
			}
			if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != deflate {
				t.Fatalf("deflate negotiated: %v, want %v", got, deflate)
			}
			c := &wsRawClient{t: t, conn: conn, br: br, resp: resp}
			c.expectMessage(1, []byte("first"))
			c.expectMessage(1, []byte("second"))
			c.writeFrame(wsTextFrame("third")) // after the handshake, on its own
			c.expectMessage(1, []byte("third"))
		})
	}
}
