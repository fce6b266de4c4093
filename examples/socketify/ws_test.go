package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
)

// client is a real WebSocket client (gws) that queues received text.
type client struct {
	gws.BuiltinEventHandler
	name string
	conn *gws.Conn
	msgs chan string
	done chan struct{}
}

func (c *client) OnMessage(_ *gws.Conn, m *gws.Message) {
	c.msgs <- m.Data.String()
	m.Close()
}

func (c *client) OnClose(*gws.Conn, error) { close(c.done) }

func dial(t *testing.T, addr, name string) *client {
	t.Helper()
	c := &client{name: name, msgs: make(chan string, 256), done: make(chan struct{})}
	conn, res, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws://" + addr + "/ws?username=" + name})
	if err != nil {
		t.Fatalf("dial as %s: %v", name, err)
	}
	res.Body.Close()
	c.conn = conn
	go conn.ReadLoop()
	t.Cleanup(func() {
		c.conn.WriteClose(1000, nil)
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			t.Errorf("client %s did not close", name)
		}
	})
	return c
}

func (c *client) send(t *testing.T, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := c.conn.WriteString(string(b)); err != nil {
		t.Fatalf("%s sends %s: %v", c.name, b, err)
	}
}

func (c *client) pm(t *testing.T, to, message string) {
	t.Helper()
	c.send(t, PMRequest{To: to, Message: message})
}

func (c *client) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-c.msgs:
		if got != want {
			t.Fatalf("%s got %s, want %s", c.name, got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s got no message within 5s, want %s", c.name, want)
	}
}

// expectPMs checks that exactly the messages from arrive, in order, and
// nothing after them within a short wait.
func (c *client) expectPMs(t *testing.T, from string, messages ...string) {
	t.Helper()
	for _, m := range messages {
		c.expect(t, pmJSON(from, m))
	}
	select {
	case got := <-c.msgs:
		t.Fatalf("%s got %s after the %d expected messages", c.name, got, len(messages))
	case <-time.After(100 * time.Millisecond):
	}
}

func pmJSON(from, message string) string {
	b, _ := json.Marshal(PM{Type: "pm", Username: from, Message: message})
	return string(b)
}

func numbered(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// serve serves app on a loopback port until the test ends.
func serve(t *testing.T, app *graft.App[Ctx]) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		select {
		case err := <-served:
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.Error(err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s of Shutdown")
		}
	})
	return ln.Addr().String()
}

// Any number of private messages in both directions arrive, each exactly
// once and in order: the first through the recipient's signal topic, the
// rest, once it joined, through the conversation topic both share (the
// topic used to be pm-TO+ME, different for each side and never joined by
// the recipient, so only the first message each way arrived).
func TestWebSocketPrivateMessages(t *testing.T) {
	app := newApp(graft.Config{Logger: quiet}, ws.Config{PoolMaxItems: 2})
	addr := serve(t, app)
	bob := dial(t, addr, "bob")
	alice := dial(t, addr, "alice")
	waitSubscribers(t, app, "signal-bob", 1)
	waitSubscribers(t, app, "signal-alice", 1)

	alice.pm(t, "bob", "a1")
	bob.expect(t, pmJSON("alice", "a1"))
	// bob joins on the signal while alice and he keep writing.
	bob.send(t, JoinRequest{Join: "alice"})
	for i := 2; i <= 20; i++ {
		alice.pm(t, "bob", fmt.Sprintf("a%d", i))
		bob.pm(t, "alice", fmt.Sprintf("b%d", i-1))
	}
	bob.expectPMs(t, "alice", numbered("a", 2, 20)...)
	alice.expectPMs(t, "bob", numbered("b", 1, 19)...)
	conv := conversation("bob", "alice")
	if conv != conversation("alice", "bob") {
		t.Fatalf("conversation topics differ: %s and %s", conv, conversation("alice", "bob"))
	}
	waitSubscribers(t, app, conv, 2)

	// A recipient that never joins gets every message on its signal
	// topic; replying joins it.
	carol := dial(t, addr, "carol")
	dave := dial(t, addr, "dave")
	waitSubscribers(t, app, "signal-dave", 1)
	for _, m := range numbered("c", 1, 5) {
		carol.pm(t, "dave", m)
	}
	dave.expectPMs(t, "carol", numbered("c", 1, 5)...)
	dave.pm(t, "carol", "d1")
	carol.expectPMs(t, "dave", "d1")
	carol.pm(t, "dave", "c6")
	dave.expectPMs(t, "carol", "c6")

	// Bad input closes that connection with 1003 and nothing else.
	mallory := dial(t, addr, "mallory")
	if err := mallory.conn.WriteString(`not json`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-mallory.done:
	case <-time.After(5 * time.Second):
		t.Fatal("bad input did not close the connection")
	}
	alice.pm(t, "bob", "still here")
	bob.expectPMs(t, "alice", "still here")

	// No username, or one with a topic separator: the upgrade is refused
	// with a problem+json 400.
	for _, q := range []string{"", "?username=a%2Bb", "?username=x%23y"} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/ws"+q, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("upgrade with %q: %d", q, res.StatusCode)
		}
	}
}

// Two nodes on one bus: alice on one, bob on the other, messages both ways
// arrive exactly once and in order (across nodes they keep to the signal
// topics, since neither node sees the other side join).
func TestWebSocketPrivateMessagesAcrossNodes(t *testing.T) {
	bus := broker.NewMemoryBus()
	appA := newApp(graft.Config{Logger: quiet}, ws.Config{Broker: bus.Node()})
	appB := newApp(graft.Config{Logger: quiet}, ws.Config{Broker: bus.Node()})
	alice := dial(t, serve(t, appA), "alice")
	bob := dial(t, serve(t, appB), "bob")
	waitSubscribers(t, appA, "signal-alice", 1)
	waitSubscribers(t, appB, "signal-bob", 1)
	// The bus subscription is asynchronous: wait until a first message
	// crosses it.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if err := ws.Publish(appA, "signal-bob", []byte("probe"), ws.OpText); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-bob.msgs:
			if m != "probe" {
				t.Fatalf("bob got %s, want probe", m)
			}
		case <-time.After(20 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("nothing crossed the bus within 5s")
			}
			continue
		}
		break
	}
	for drained := false; !drained; {
		select {
		case <-bob.msgs:
		case <-time.After(100 * time.Millisecond):
			drained = true
		}
	}
	for i := 1; i <= 20; i++ {
		alice.pm(t, "bob", fmt.Sprintf("a%d", i))
		if i == 1 {
			bob.expect(t, pmJSON("alice", "a1"))
			bob.send(t, JoinRequest{Join: "alice"})
		}
		bob.pm(t, "alice", fmt.Sprintf("b%d", i))
	}
	bob.expectPMs(t, "alice", numbered("a", 2, 20)...)
	alice.expectPMs(t, "bob", numbered("b", 1, 20)...)
}

// With the bus down, a PM still reaches a recipient on the same node and
// the sender stays connected (it used to be closed with 1011, so a broker
// outage made every sender reconnect).
func TestWebSocketPrivateMessagesBusDown(t *testing.T) {
	node := broker.NewMemoryBus().Node()
	app := newApp(graft.Config{Logger: quiet}, ws.Config{Broker: node})
	addr := serve(t, app)
	alice := dial(t, addr, "alice")
	bob := dial(t, addr, "bob")
	waitSubscribers(t, app, "signal-bob", 1)
	node.Close() // every publish on the bus fails from now on
	for _, m := range numbered("a", 1, 3) {
		alice.pm(t, "bob", m)
	}
	bob.expectPMs(t, "alice", numbered("a", 1, 3)...)
	select {
	case <-alice.done:
		t.Fatal("the sender was disconnected over the bus failure")
	default:
	}
}

var quiet = slog.New(slog.DiscardHandler)

func waitSubscribers(t *testing.T, app *graft.App[Ctx], topic string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for ws.NumSubscribers(app, topic) != n {
		if time.Now().After(deadline) {
			t.Fatalf("topic %s has %d subscribers, want %d", topic, ws.NumSubscribers(app, topic), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
