package ws

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// wsTestApp starts an app on a loopback port with the routes setup adds,
// and shuts it down (closing WebSockets) when the test ends.
func wsTestApp(t testing.TB, cfg graft.Config, setup func(app *graft.App[graft.Ctx])) *graft.App[graft.Ctx] {
	t.Helper()
	cfg.Host, cfg.Port = "127.0.0.1", -1
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	app := graft.New(cfg)
	setup(app)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := app.Listen()
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s of Shutdown")
		}
	})
	wsWaitFor(t, "the app to listen", func() bool { return app.Addr() != "" })
	return app
}

// wsRawClient is a minimal WebSocket client that writes and reads raw frames,
// for conformance tests.
type wsRawClient struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
	resp *http.Response
}

// wsDial performs a handshake with extra request headers ("Name: value").
func wsDial(t testing.TB, addr, path string, headers ...string) *wsRawClient {
	t.Helper()
	c, err := wsDialErr(addr, path, headers...)
	if err != nil {
		t.Fatal(err)
	}
	c.t = t
	t.Cleanup(func() { c.conn.Close() })
	return c
}

func wsDialErr(addr, path string, headers ...string) (*wsRawClient, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	var key [16]byte
	rand.Read(key[:])
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n", path, addr, base64.StdEncoding.EncodeToString(key[:]))
	for _, h := range headers {
		req.WriteString(h + "\r\n")
	}
	req.WriteString("\r\n")
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, req.String()); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	c := &wsRawClient{conn: conn, br: br, resp: resp}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		return c, &wsStatusError{resp.StatusCode, string(body)}
	}
	return c, nil
}

type wsStatusError struct {
	code int
	body string
}

func (e *wsStatusError) Error() string {
	return fmt.Sprintf("handshake answered %d: %s", e.code, e.body)
}

// wsFrame is one frame as sent or received.
type wsFrame struct {
	fin     bool
	rsv     byte // bits 4-6 of the first byte: 4 = RSV1, 2 = RSV2, 1 = RSV3
	op      byte
	payload []byte
}

// writeFrame writes a masked frame.
func (c *wsRawClient) writeFrame(f wsFrame) {
	c.t.Helper()
	if _, err := c.conn.Write(wsEncodeClientFrame(f)); err != nil {
		c.t.Fatalf("write frame: %v", err)
	}
}

func wsEncodeClientFrame(f wsFrame) []byte {
	b0 := f.op | f.rsv<<4
	if f.fin {
		b0 |= 0x80
	}
	n := len(f.payload)
	out := []byte{b0}
	switch {
	case n <= 125:
		out = append(out, 0x80|byte(n))
	case n <= 0xffff:
		out = append(out, 0x80|126, byte(n>>8), byte(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	out = append(out, mask[:]...)
	for i, b := range f.payload {
		out = append(out, b^mask[i%4])
	}
	return out
}

// wsTextFrame and friends build common frames.
func wsTextFrame(s string) wsFrame { return wsFrame{fin: true, op: 1, payload: []byte(s)} }
func wsBinFrame(b []byte) wsFrame  { return wsFrame{fin: true, op: 2, payload: b} }
func wsPingFrame(s string) wsFrame { return wsFrame{fin: true, op: 9, payload: []byte(s)} }
func wsCloseFrame(code int, reason string) wsFrame {
	return wsFrame{fin: true, op: 8, payload: append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)}
}

// readFrame reads one frame within d.
func (c *wsRawClient) readFrame(d time.Duration) (wsFrame, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	defer c.conn.SetReadDeadline(time.Time{})
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return wsFrame{}, err
	}
	f := wsFrame{fin: h[0]&0x80 != 0, rsv: (h[0] >> 4) & 7, op: h[0] & 0x0f}
	if h[1]&0x80 != 0 {
		return f, errors.New("server wsFrame is masked")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(c.br, l[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(c.br, l[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(l[:])
	}
	f.payload = make([]byte, n)
	_, err := io.ReadFull(c.br, f.payload)
	return f, err
}

// next reads the next frame, failing the test on error.
func (c *wsRawClient) next() wsFrame {
	c.t.Helper()
	f, err := c.readFrame(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return f
}

// expectMessage reads a data frame and checks its opcode and payload,
// inflating it when RSV1 is set.
func (c *wsRawClient) expectMessage(op byte, payload []byte) {
	c.t.Helper()
	f := c.next()
	if f.op != op {
		c.t.Fatalf("got opcode %d (payload %q), want %d", f.op, wsTrunc(f.payload), op)
	}
	p := f.payload
	if f.rsv&4 != 0 {
		p = wsInflate(c.t, p)
	}
	if !bytes.Equal(p, payload) {
		c.t.Fatalf("got payload %q, want %q", wsTrunc(p), wsTrunc(payload))
	}
}

// expectClose reads the next frame, which must be a close frame with
// exactly code (StatusNoStatusReceived: a close frame without a status),
// answers it as a client must and checks that the server then closes the
// connection. Any other frame before the close fails the test.
func (c *wsRawClient) expectClose(code StatusCode) (StatusCode, string) {
	c.t.Helper()
	f, err := c.readFrame(5 * time.Second)
	if err != nil {
		c.t.Fatalf("waiting for close %d: %v", code, err)
	}
	if f.op != 8 {
		c.t.Fatalf("got frame op %d (payload %q) before the expected close %d", f.op, wsTrunc(f.payload), code)
	}
	got, reason := StatusNoStatusReceived, ""
	if len(f.payload) >= 2 {
		got, reason = StatusCode(binary.BigEndian.Uint16(f.payload)), string(f.payload[2:])
	}
	if len(f.payload) == 1 {
		c.t.Fatalf("close frame with a one-byte payload %q", f.payload)
	}
	if got != code {
		c.t.Fatalf("close code %d (%q), want %d", got, reason, code)
	}
	// Answer, as a client must; the server then closes the connection.
	_, _ = c.conn.Write(wsEncodeClientFrame(wsFrame{fin: true, op: 8, payload: f.payload[:min(len(f.payload), 2)]}))
	if f, err := c.readFrame(5 * time.Second); err == nil {
		c.t.Fatalf("frame op %d after close", f.op)
	}
	return got, reason
}

// wsRecv receives from ch within 5 seconds, failing the test with what it
// waited for otherwise.
func wsRecv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out after 5s waiting for %s", what)
		panic("unreachable")
	}
}

func wsInflate(t testing.TB, p []byte) []byte {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff})))
	out, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

func wsDeflate(t testing.TB, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write(p)
	w.Flush()
	out := b.Bytes()
	return out[:len(out)-4]
}

func wsTrunc(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// wsWaitFor polls cond until it holds or 5 seconds pass.
func wsWaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func wsQuietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
