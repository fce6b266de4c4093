package brokertest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

var appQuiet = slog.New(slog.DiscardHandler)

// RunApp checks that two graft app nodes on two ports, sharing the bus
// through brokers made by h.NewNode, act as one WebSocket server: what is
// published on one reaches the WebSocket clients of the other exactly
// once, and the bus restarting mid-test (if h.StopBus is set) is survived.
// setup is as for [Run].
func RunApp(t *testing.T, setup func(t testing.TB) Harness) {
	h := setup(t)
	a, addrA := startAppNode(t, h)
	b, addrB := startAppNode(t, h)

	ca := dialWS(t, addrA, "/ws?topic=news")
	cb := dialWS(t, addrB, "/ws?topic=news")
	ca.expect(t, "ready")
	cb.expect(t, "ready")

	// The bus subscription is asynchronous: publish until one arrives,
	// then check that each later message arrives exactly once.
	untilDelivered(t, b, ca, "news", cb)
	b.Publish("news", []byte("from b"), graft.OpText)
	ca.expect(t, "from b")
	cb.expect(t, "from b")
	// A client's publish on A reaches B's client, not itself.
	ca.send(t, "from client a")
	cb.expect(t, "from client a")
	a.Publish("news", []byte("marker"), graft.OpText)
	ca.expect(t, "marker") // nothing (no echo, no duplicate) before it
	cb.expect(t, "marker")

	if h.StopBus == nil {
		return
	}
	// The bus restarts: both nodes reconnect and resubscribe.
	h.StopBus(t)
	h.StartBus(t)
	untilDelivered(t, b, ca, "news", cb)
	b.Publish("news", []byte("after restart"), graft.OpText)
	ca.expect(t, "after restart")
	cb.expect(t, "after restart")
}

// AppFigures logs cross-node figures through the bus named bus: messages/s
// from app A's Publish to a WebSocket client of app B, and the latency one
// message adds. It is skipped with -short.
func AppFigures(t *testing.T, bus string, setup func(t testing.TB) Harness) {
	if testing.Short() {
		t.Skip("figures")
	}
	h := setup(t)
	a, _ := startAppNode(t, h)
	_, addrB := startAppNode(t, h)
	cb := dialWS(t, addrB, "/ws?topic=bench")
	cb.expect(t, "ready")
	untilDelivered(t, a, cb, "bench")

	var lat []time.Duration
	for range 200 {
		start := time.Now()
		a.Publish("bench", []byte("x"), graft.OpText)
		cb.expect(t, "x")
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })

	const n = 20000
	msg := []byte(strings.Repeat("m", 32))
	start := time.Now()
	go func() {
		for range n {
			a.Publish("bench", msg, graft.OpText)
		}
	}()
	got := 0
	for got < n {
		if _, err := cb.read(2 * time.Second); err != nil {
			break
		}
		got++
	}
	el := time.Since(start)
	t.Logf("cross-node via %s: %d/%d messages in %v = %.0f msg/s; publish-to-client latency p50 %v p99 %v",
		bus, got, n, el.Round(time.Millisecond), float64(got)/el.Seconds(), lat[len(lat)/2], lat[len(lat)*99/100])
}

// startAppNode serves a graft app whose /ws route subscribes each
// connection to the topic named in its query and acknowledges with "ready".
func startAppNode(t testing.TB, h Harness) (*graft.App[graft.Ctx], string) {
	t.Helper()
	app := graft.New[graft.Ctx](graft.Config{Host: "127.0.0.1", Port: -1, Logger: appQuiet, WebSocket: graft.WSConfig{Broker: h.NewNode(t)}})
	graft.WebSocket(app, "/ws", graft.Behavior[string]{
		Upgrade: func(c *graft.Ctx) (string, error) { return c.Query("topic"), nil },
		Open: func(c *graft.Conn[string]) {
			c.Subscribe(*c.Data())
			c.Send([]byte("ready"), graft.OpText, false)
		},
		Message: func(c *graft.Conn[string], data []byte, op graft.OpCode) {
			c.Publish(*c.Data(), data, op)
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
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
		app.Shutdown(ctx)
		<-errc
	})
	return app, ln.Addr().String()
}

// untilDelivered publishes probes on node from until client c got one,
// then drains the probes that follow it from c and the others.
func untilDelivered(t testing.TB, from *graft.App[graft.Ctx], c *wsClient, topic string, others ...*wsClient) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		from.Publish(topic, []byte("probe"), graft.OpText)
		if m, err := c.read(50 * time.Millisecond); err == nil && m == "probe" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no message crossed the bus within 10s")
		}
	}
	for _, c := range append(others, c) {
		for {
			if _, err := c.read(200 * time.Millisecond); err != nil {
				break
			}
		}
	}
}

// wsClient is a minimal WebSocket client (text frames, masked writes).
type wsClient struct {
	conn net.Conn
	br   *bufio.Reader
}

func dialWS(t testing.TB, addr, path string) *wsClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var key [16]byte
	rand.Read(key[:])
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n", path, addr, base64.StdEncoding.EncodeToString(key[:]))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", err, resp)
	}
	return &wsClient{conn: conn, br: br}
}

func (c *wsClient) send(t testing.TB, s string) {
	t.Helper()
	if len(s) > 125 {
		t.Fatal("short messages only")
	}
	var mask [4]byte
	rand.Read(mask[:])
	b := append([]byte{0x81, 0x80 | byte(len(s))}, mask[:]...)
	for i := range len(s) {
		b = append(b, s[i]^mask[i%4])
	}
	if _, err := c.conn.Write(b); err != nil {
		t.Fatal(err)
	}
}

// read returns the next text message, skipping pings.
func (c *wsClient) read(d time.Duration) (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(d))
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return "", err
		}
		n := int(h[1] & 0x7f)
		if n == 126 {
			var l [2]byte
			if _, err := io.ReadFull(c.br, l[:]); err != nil {
				return "", err
			}
			n = int(l[0])<<8 | int(l[1])
		} else if n == 127 {
			return "", fmt.Errorf("frame too large for this client")
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c.br, p); err != nil {
			return "", err
		}
		switch h[0] & 0x0f {
		case 1:
			return string(p), nil
		case 8:
			return "", fmt.Errorf("closed: %v", p)
		}
	}
}

func (c *wsClient) expect(t testing.TB, want string) {
	t.Helper()
	got, err := c.read(5 * time.Second)
	if err != nil || got != want {
		t.Fatalf("got %q (%v), want %q", got, err, want)
	}
}
