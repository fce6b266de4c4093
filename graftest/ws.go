package graftest

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lxzan/gws"
)

// WSMessage is a message a WSConn received.
type WSMessage struct {
	// Text reports a text message (else binary).
	Text bool
	Data []byte
}

// WSConn is a real WebSocket client connection (the gws engine's client)
// to a Server; its messages arrive in a buffered channel that Recv reads
// with a deadline.
type WSConn struct {
	t      testing.TB
	conn   *gws.Conn
	msgs   chan WSMessage
	closed chan struct{}
	code   uint16 // the server's close frame, set before closed is closed
	reason string
}

type wsEvents struct {
	gws.BuiltinEventHandler
	c *WSConn
}

func (e wsEvents) OnMessage(_ *gws.Conn, m *gws.Message) {
	data := append([]byte(nil), m.Bytes()...)
	m.Close()
	e.c.msgs <- WSMessage{Text: m.Opcode == gws.OpcodeText, Data: data}
}

func (e wsEvents) OnClose(_ *gws.Conn, err error) {
	var ce *gws.CloseError
	if errors.As(err, &ce) {
		e.c.code, e.c.reason = ce.Code, string(ce.Reason)
	}
}

// DialWS opens a WebSocket to path on s, with request headers as "Name",
// "value" pairs; a failed handshake fails the test (DialWSError returns
// the answer instead). The connection is closed when the test ends.
func (s *Server) DialWS(path string, header ...string) *WSConn {
	s.t.Helper()
	c, res, err := s.dialWS(path, header...)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		s.t.Fatalf("graftest: WebSocket %s: %v (status %d)", path, err, status)
	}
	return c
}

// DialWSError dials path expecting the handshake to be refused, and
// returns the HTTP answer's status; a handshake that succeeds fails the
// test.
func (s *Server) DialWSError(path string, header ...string) int {
	s.t.Helper()
	c, res, err := s.dialWS(path, header...)
	if err == nil {
		c.Close(1000, "")
		s.t.Fatalf("graftest: WebSocket %s: the handshake succeeded; want it refused", path)
	}
	if res == nil {
		s.t.Fatalf("graftest: WebSocket %s: %v, before any answer", path, err)
	}
	return res.StatusCode
}

func (s *Server) dialWS(path string, header ...string) (*WSConn, *http.Response, error) {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Add(header[i], header[i+1])
	}
	c := &WSConn{t: s.t, msgs: make(chan WSMessage, 256), closed: make(chan struct{})}
	conn, res, err := gws.NewClient(wsEvents{c: c}, &gws.ClientOption{
		Addr:             "ws" + strings.TrimPrefix(s.URL, "http") + path,
		RequestHeader:    h,
		HandshakeTimeout: Timeout,
	})
	if err != nil {
		return nil, res, err
	}
	c.conn = conn
	go func() {
		conn.ReadLoop()
		close(c.closed)
	}()
	s.t.Cleanup(func() {
		conn.NetConn().Close()
		<-c.closed
	})
	return c, res, nil
}

// SendText sends a text message.
func (c *WSConn) SendText(s string) {
	c.t.Helper()
	if err := c.conn.WriteString(s); err != nil {
		c.t.Fatalf("graftest: WebSocket send: %v", err)
	}
}

// SendBinary sends a binary message.
func (c *WSConn) SendBinary(b []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(gws.OpcodeBinary, b); err != nil {
		c.t.Fatalf("graftest: WebSocket send: %v", err)
	}
}

// RecvMessage returns the next message, failing the test if none arrives
// within Timeout or the connection closes first.
func (c *WSConn) RecvMessage() WSMessage {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-c.closed:
		select {
		case m := <-c.msgs:
			return m
		default:
		}
		c.t.Fatalf("graftest: WebSocket closed (%d %q) while waiting for a message", c.code, c.reason)
	case <-time.After(Timeout):
		c.t.Fatalf("graftest: no WebSocket message within %v", Timeout)
	}
	return WSMessage{}
}

// Recv returns the next message's data as a string.
func (c *WSConn) Recv() string {
	c.t.Helper()
	return string(c.RecvMessage().Data)
}

// Close sends a close frame with code and reason and waits, up to
// Timeout, for the server to close the connection.
func (c *WSConn) Close(code uint16, reason string) {
	c.t.Helper()
	c.conn.WriteClose(code, []byte(reason))
	select {
	case <-c.closed:
	case <-time.After(Timeout):
		c.t.Fatalf("graftest: the server did not close the WebSocket within %v of our close frame", Timeout)
	}
}

// WaitClosed waits, up to Timeout, for the server to close the
// connection, and returns the close code and reason it sent (1006 when
// the connection dropped without a close frame).
func (c *WSConn) WaitClosed() (code uint16, reason string) {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(Timeout):
		c.t.Fatalf("graftest: the server did not close the WebSocket within %v", Timeout)
	}
	if c.code == 0 {
		return 1006, ""
	}
	return c.code, c.reason
}
