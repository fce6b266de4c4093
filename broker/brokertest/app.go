package brokertest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/ws"
)

var appQuiet = slog.New(slog.DiscardHandler)

// RunApp checks that two graft app nodes on two ports, sharing the bus
// through brokers made by h.NewNode, act as one WebSocket server: what is
// published on one reaches the WebSocket clients of the other exactly
// once, and the bus restarting mid-test (if h.StopBus is set) is survived.
// setup is as for [Run].
func RunApp(t *testing.T, setup func(t testing.TB) Harness) {
	h := setup(t)
	a, addrA, _ := startAppNode(t, h)
	b, addrB, _ := startAppNode(t, h)

	ca := dialWS(t, addrA, "/ws?topic=news")
	cb := dialWS(t, addrB, "/ws?topic=news")
	ca.expect(t, "ready")
	cb.expect(t, "ready")

	// The bus subscription is asynchronous: publish until one arrives,
	// then check that each later message arrives exactly once.
	untilDelivered(t, b, ca, "news", cb)
	ws.Publish(b, "news", []byte("from b"), ws.OpText)
	ca.expect(t, "from b")
	cb.expect(t, "from b")
	// A client's publish on A reaches B's client, not itself.
	ca.send(t, "from client a")
	cb.expect(t, "from client a")
	ws.Publish(a, "news", []byte("marker"), ws.OpText)
	ca.expect(t, "marker") // nothing (no echo, no duplicate) before it
	cb.expect(t, "marker")

	if h.StopBus == nil {
		return
	}
	// The bus restarts: both nodes reconnect and resubscribe.
	h.StopBus(t)
	h.StartBus(t)
	untilDelivered(t, b, ca, "news", cb)
	ws.Publish(b, "news", []byte("after restart"), ws.OpText)
	ca.expect(t, "after restart")
	cb.expect(t, "after restart")
}

// RunAppOutage checks two app nodes while their bus is down (it needs
// h.StopBus): publishes still reach the subscribers of the publishing
// node, every one; a failed Publish returns a *ws.BusError matching
// ws.ErrLocalOnly, exactly when the broker's own Publish fails; a client
// publishing meanwhile stays connected; and a topic first subscribed during
// the outage carries messages across nodes once the bus is back.
func RunAppOutage(t *testing.T, setup func(t testing.TB) Harness) {
	h := setup(t)
	if h.StopBus == nil {
		t.Skip("the bus cannot be stopped")
	}
	a, addrA, na := startAppNode(t, h)
	b, addrB, nb := startAppNode(t, h)
	ca1 := dialWS(t, addrA, "/ws?topic=news")
	ca2 := dialWS(t, addrA, "/ws?topic=news")
	cb := dialWS(t, addrB, "/ws?topic=news")
	for _, c := range []*wsClient{ca1, ca2, cb} {
		c.expect(t, "ready")
	}
	untilDelivered(t, b, ca1, "news", ca2, cb)

	h.StopBus(t, na, nb)
	busFails := na.Publish(context.Background(), broker.Message{Topic: "brokertest probe"}) != nil
	for i := range 20 {
		m := fmt.Sprintf("during outage %d", i)
		err := ws.Publish(a, "news", []byte(m), ws.OpText)
		var be *ws.BusError
		switch {
		case busFails && (!errors.Is(err, ws.ErrLocalOnly) || !errors.As(err, &be) || be.Topic != "news"):
			t.Fatalf("Publish %d with the bus down = %v, want a *ws.BusError for news matching ws.ErrLocalOnly", i, err)
		case !busFails && err != nil:
			t.Fatalf("Publish %d = %v, but the broker buffers while disconnected", i, err)
		}
		ca1.expect(t, m)
		ca2.expect(t, m)
	}
	ca1.send(t, "from a client during the outage")
	ca2.expect(t, "from a client during the outage")
	ws.Publish(a, "news", []byte("sender still connected"), ws.OpText)
	ca1.expect(t, "sender still connected") // not closed, and nothing before it
	ca2.expect(t, "sender still connected")
	late := dialWS(t, addrA, "/ws?topic=late")
	late.expect(t, "ready")

	h.StartBus(t, na, nb)
	untilDelivered(t, b, late, "late")
	untilDelivered(t, b, ca1, "news", ca2, cb)
	ws.Publish(b, "news", []byte("after the outage"), ws.OpText)
	for _, c := range []*wsClient{ca1, ca2, cb} {
		c.expect(t, "after the outage")
	}
}

// AppFigures logs cross-node figures through the bus named bus: messages/s
// from app A's Publish to a WebSocket client of app B, and the latency one
// message adds. It fails unless each of the 20 000 messages of the
// throughput run arrives exactly once, in order. It is skipped with -short.
func AppFigures(t *testing.T, bus string, setup func(t testing.TB) Harness) {
	if testing.Short() {
		t.Skip("figures")
	}
	h := setup(t)
	a, _, _ := startAppNode(t, h)
	_, addrB, _ := startAppNode(t, h)
	cb := dialWS(t, addrB, "/ws?topic=bench")
	cb.expect(t, "ready")
	untilDelivered(t, a, cb, "bench")

	hub := ws.HubOf(a)
	var lat []time.Duration
	for range 200 {
		start := time.Now()
		hub.Publish("bench", []byte("x"), ws.OpText)
		cb.expect(t, "x")
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })

	const n = 20000
	pad := strings.Repeat("m", 26)
	start := time.Now()
	published := make(chan error, 1)
	go func() {
		for i := range n {
			if err := hub.Publish("bench", fmt.Appendf(nil, "%05d %s", i, pad), ws.OpText); err != nil {
				published <- fmt.Errorf("publish %d: %w", i, err)
				return
			}
		}
		published <- nil
	}()
	got := 0
	for got < n {
		m, err := cb.read(5 * time.Second)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", got, n, err)
		}
		if want := fmt.Sprintf("%05d %s", got, pad); m != want {
			t.Fatalf("message %d is %q: lost, duplicated or out of order", got, m)
		}
		got++
	}
	el := time.Since(start)
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	if m, err := cb.read(200 * time.Millisecond); err == nil {
		t.Fatalf("message %q after all %d", m, n)
	}
	t.Logf("cross-node via %s: %d/%d messages in %v = %.0f msg/s; publish-to-client latency p50 %v p99 %v",
		bus, got, n, el.Round(time.Millisecond), float64(got)/el.Seconds(), lat[len(lat)/2], lat[len(lat)*99/100])
}

// startAppNode serves a graft app whose /ws route subscribes each
// connection to the topic named in its query and acknowledges with
// "ready"; what a client sends is published to the others on its topic.
// It returns the app, its address and its broker. Connections have no
// backpressure limit, so that what the tests count is what the bus
// delivered.
func startAppNode(t testing.TB, h Harness) (*graft.App[graft.Ctx], string, broker.Broker) {
	t.Helper()
	node := h.NewNode(t)
	app, addr := serveAppNode(t, graft.Config{Logger: appQuiet}, ws.Config{Broker: node})
	return app, addr, node
}

// serveAppNode is startAppNode with the app's config and its WebSocket
// config (host, port and backpressure limit set here).
func serveAppNode(t testing.TB, cfg graft.Config, wcfg ws.Config) (*graft.App[graft.Ctx], string) {
	t.Helper()
	cfg.Host, cfg.Port, wcfg.MaxBackpressure = "127.0.0.1", -1, -1
	app := graft.New(cfg)
	app.Register(ws.Extension(wcfg))
	ws.Route(app, "/ws", ws.Behavior[string]{
		Upgrade: func(c *graft.Ctx) (string, error) { return c.Query("topic"), nil },
		Open: func(c *ws.Conn[string]) {
			c.Subscribe(*c.Data())
			c.Send([]byte("ready"), ws.OpText, false)
		},
		Message: func(c *ws.Conn[string], data []byte, op ws.OpCode) {
			// With the bus down the message still reached this node's
			// subscribers: not a reason to drop the sender.
			if err := c.Publish(*c.Data(), data, op); err != nil && !errors.Is(err, ws.ErrLocalOnly) {
				c.Close(ws.StatusInternalError, "publish failed")
			}
		},
	})
	return startServing(t, app)
}

// startServing starts app, serves it on its loopback port and shuts it
// down when the test ends; it returns app and its address.
func startServing(t testing.TB, app *graft.App[graft.Ctx]) (*graft.App[graft.Ctx], string) {
	t.Helper()
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
		select {
		case <-errc:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s of Shutdown")
		}
	})
	return app, ln.Addr().String()
}

// untilDelivered publishes probes on node from until client c got one,
// then drains the probes that follow it from c and the others.
func untilDelivered(t testing.TB, from *graft.App[graft.Ctx], c *wsClient, topic string, others ...*wsClient) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws.Publish(from, topic, []byte("probe"), ws.OpText)
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
	if len(s) > 0xffff {
		t.Fatal("messages up to 64 KiB only")
	}
	var mask [4]byte
	rand.Read(mask[:])
	b := []byte{0x81, 0x80 | byte(len(s))}
	if len(s) > 125 {
		b = []byte{0x81, 0x80 | 126, byte(len(s) >> 8), byte(len(s))}
	}
	b = append(b, mask[:]...)
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

// AppBrokerDown checks that an app whose broker b cannot reach its server
// (a closed port, say) fails to start within ws.Config.BrokerWait,
// with an error and a log line naming the broker as name (its URL), and
// never listens. b must not have been started.
func AppBrokerDown(t *testing.T, b broker.Broker, name string) {
	t.Helper()
	var logs lockedBuffer
	const wait = 300 * time.Millisecond
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	app.Register(ws.Extension(ws.Config{Broker: b, BrokerWait: wait}))
	ws.Route(app, "/ws", ws.Behavior[struct{}]{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- app.RunContext(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		cancel()
		<-done
		t.Fatalf("RunContext still waiting for the broker 10s after a %v --broker-wait; log:\n%s", wait, logs.String())
	}
	if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "--broker-wait") {
		t.Fatalf("RunContext = %v, want an error naming %s and --broker-wait", err, name)
	}
	if addr := app.Addr(); addr != "" {
		t.Fatalf("the app listened on %s without its broker", addr)
	}
	for _, want := range []string{"connecting to the WebSocket broker", "WebSocket broker unreachable"} {
		if line := logLine(logs.String(), want); !strings.Contains(line, name) {
			t.Errorf("no log line %q naming %s; log:\n%s", want, name, logs.String())
		}
	}
}

// AppBrokerLate checks an app started with --broker-optional while its
// bus is down: it starts and serves after ws.Config.BrokerWait,
// saying so in a log line naming the broker as name; its publishes reach
// its own clients and report ws.ErrLocalOnly; once startBus has started
// the bus, the broker connects in the background and a topic subscribed
// before that carries messages from another node. newNode returns a new,
// unstarted node for the bus at its final address.
func AppBrokerLate(t *testing.T, newNode func(t testing.TB) broker.Broker, startBus func(t testing.TB), name string) {
	t.Helper()
	var logs lockedBuffer
	a, addrA := serveAppNode(t, graft.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		ws.Config{Broker: newNode(t), BrokerWait: 200 * time.Millisecond, BrokerOptional: true})
	if line := logLine(logs.String(), "starting without the WebSocket broker"); !strings.Contains(line, name) {
		t.Fatalf("no log line saying the app started without %s; log:\n%s", name, logs.String())
	}
	ca := dialWS(t, addrA, "/ws?topic=news")
	ca.expect(t, "ready")
	err := ws.Publish(a, "news", []byte("local only"), ws.OpText)
	if !errors.Is(err, ws.ErrLocalOnly) {
		t.Fatalf("Publish before the broker connected = %v, want ws.ErrLocalOnly", err)
	}
	ca.expect(t, "local only")

	startBus(t)
	WaitFor(t, "the broker to connect in the background", func() bool {
		return strings.Contains(logs.String(), "WebSocket broker connected")
	})
	b, _ := serveAppNode(t, graft.Config{Logger: appQuiet}, ws.Config{Broker: newNode(t)})
	untilDelivered(t, b, ca, "news")
	ws.Publish(b, "news", []byte("from b"), ws.OpText)
	ca.expect(t, "from b")
	if err := ws.Publish(a, "news", []byte("bus up"), ws.OpText); err != nil {
		t.Fatalf("Publish once the broker connected = %v", err)
	}
	ca.expect(t, "bus up")
}

// logLine returns the first line of log holding s, or "".
func logLine(log, s string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

// lockedBuffer is a bytes.Buffer a logger and a test may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
