package bench

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"
	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ws"
)

// Interop: graft's WebSocket server with the two common Go clients,
// gorilla/websocket and coder/websocket, with and without
// permessage-deflate.

// startWSApp serves an echo route at /echo (compressing replies when the
// client negotiated it) whose connections close with 4000 "bye" when told
// "close".
func startWSApp(tb testing.TB, compression bool) string {
	tb.Helper()
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: slog.New(slog.DiscardHandler)})
	ws.Route(app, "/echo", ws.Behavior[struct{}]{
		Compression:      compression,
		MaxPayloadLength: 1 << 20,
		Message: func(c *ws.Conn[struct{}], data []byte, op ws.OpCode) {
			if string(data) == "close" {
				c.Close(4000, "bye")
				return
			}
			c.Send(data, op, c.Compression())
		},
	})
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	ln, err := app.Listen()
	if err != nil {
		tb.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Shutdown(ctx)
		<-errc
	})
	return ln.Addr().String()
}

var interopSizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 19}

func interopPayload(n int) []byte {
	return bytes.Repeat([]byte("graft interop "), n/14+1)[:n]
}

func TestWSInteropGorilla(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "deflate"}[compress], func(t *testing.T) {
			addr := startWSApp(t, compress)
			d := websocket.Dialer{EnableCompression: compress, HandshakeTimeout: 5 * time.Second}
			c, resp, err := d.Dial("ws://"+addr+"/echo", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != compress {
				t.Fatalf("compression negotiated: %v", got)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for _, n := range interopSizes {
				for _, typ := range []int{websocket.TextMessage, websocket.BinaryMessage} {
					msg := interopPayload(n)
					if err := c.WriteMessage(typ, msg); err != nil {
						t.Fatal(err)
					}
					gotTyp, got, err := c.ReadMessage()
					if err != nil || gotTyp != typ || !bytes.Equal(got, msg) {
						t.Fatalf("size %d type %d: got type %d, %d bytes, %v", n, typ, gotTyp, len(got), err)
					}
				}
			}
			pong := make(chan string, 1)
			c.SetPongHandler(func(s string) error { pong <- s; return nil })
			if err := c.WriteControl(websocket.PingMessage, []byte("ping?"), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			c.WriteMessage(websocket.TextMessage, []byte("after ping"))
			if _, got, err := c.ReadMessage(); err != nil || string(got) != "after ping" {
				t.Fatalf("%q %v", got, err)
			}
			if p := <-pong; p != "ping?" {
				t.Fatalf("pong %q", p)
			}
			// The server closes with a code and reason.
			c.WriteMessage(websocket.TextMessage, []byte("close"))
			_, _, err = c.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != 4000 || ce.Text != "bye" {
				t.Fatalf("close: %v", err)
			}
		})
	}
}

func TestWSInteropCoder(t *testing.T) {
	for _, mode := range []coder.CompressionMode{coder.CompressionDisabled, coder.CompressionNoContextTakeover, coder.CompressionContextTakeover} {
		t.Run(map[coder.CompressionMode]string{coder.CompressionDisabled: "plain", coder.CompressionNoContextTakeover: "deflate", coder.CompressionContextTakeover: "deflate-takeover-offer"}[mode], func(t *testing.T) {
			addr := startWSApp(t, mode != coder.CompressionDisabled)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, resp, err := coder.Dial(ctx, "ws://"+addr+"/echo", &coder.DialOptions{CompressionMode: mode})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != (mode != coder.CompressionDisabled) {
				t.Fatalf("compression negotiated: %v", got)
			}
			c.SetReadLimit(1 << 20)
			for _, n := range interopSizes {
				for _, typ := range []coder.MessageType{coder.MessageText, coder.MessageBinary} {
					msg := interopPayload(n)
					if err := c.Write(ctx, typ, msg); err != nil {
						t.Fatal(err)
					}
					gotTyp, got, err := c.Read(ctx)
					if err != nil || gotTyp != typ || !bytes.Equal(got, msg) {
						t.Fatalf("size %d type %v: got %v, %d bytes, %v", n, typ, gotTyp, len(got), err)
					}
				}
			}
			// coder reads the pong in Read, so ping while a read is pending.
			pinged := make(chan error, 1)
			go func() { pinged <- c.Ping(ctx) }()
			time.Sleep(10 * time.Millisecond)
			c.Write(ctx, coder.MessageText, []byte("after ping"))
			if _, got, err := c.Read(ctx); err != nil || string(got) != "after ping" {
				t.Fatalf("%q %v", got, err)
			}
			if err := <-pinged; err != nil {
				t.Fatal(err)
			}
			c.Write(ctx, coder.MessageText, []byte("close"))
			_, _, err = c.Read(ctx)
			if st := coder.CloseStatus(err); st != 4000 {
				t.Fatalf("close: %v", err)
			}
		})
	}
	// A client closing normally is answered.
	addr := startWSApp(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := coder.Dial(ctx, "ws://"+addr+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(coder.StatusNormalClosure, "done"); err != nil {
		t.Fatalf("close handshake: %v", err)
	}
}
