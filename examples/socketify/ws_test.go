package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/lxzan/gws"
)

// client is a real WebSocket client (gws) that queues received text.
type client struct {
	gws.BuiltinEventHandler
	conn *gws.Conn
	msgs chan string
	done chan struct{}
}

func (c *client) OnMessage(_ *gws.Conn, m *gws.Message) {
	c.msgs <- m.Data.String()
	m.Close()
}

func (c *client) OnClose(*gws.Conn, error) { close(c.done) }

func dial(t *testing.T, addr, path string) *client {
	t.Helper()
	c := &client{msgs: make(chan string, 16), done: make(chan struct{})}
	conn, res, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws://" + addr + path})
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	res.Body.Close()
	c.conn = conn
	go conn.ReadLoop()
	t.Cleanup(func() {
		c.conn.WriteClose(1000, nil)
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			t.Error("client did not close")
		}
	})
	return c
}

func (c *client) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-c.msgs:
		if got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no message, want %s", want)
	}
}

func TestWebSocketPrivateMessages(t *testing.T) {
	app := newApp(graft.Config{WSPoolMaxItems: 2})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	addr := ln.Addr().String()

	bob := dial(t, addr, "/ws?username=bob")
	alice := dial(t, addr, "/ws?username=alice")
	waitSubscribers(t, app, "signal-bob", 1)
	waitSubscribers(t, app, "signal-alice", 1)

	if err := alice.conn.WriteString(`{"to":"bob","message":"hi"}`); err != nil {
		t.Fatal(err)
	}
	bob.expect(t, `{"type":"pm","username":"alice","message":"hi"}`)
	waitSubscribers(t, app, "pm-bob+alice", 1)

	// bob answers: alice is signalled on signal-alice.
	if err := bob.conn.WriteString(`{"to":"alice","message":"hey"}`); err != nil {
		t.Fatal(err)
	}
	alice.expect(t, `{"type":"pm","username":"bob","message":"hey"}`)

	// Bad input closes that connection with 1003 and nothing else.
	mallory := dial(t, addr, "/ws?username=mallory")
	if err := mallory.conn.WriteString(`not json`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-mallory.done:
	case <-time.After(5 * time.Second):
		t.Fatal("bad input did not close the connection")
	}
	if err := alice.conn.WriteString(`{"to":"bob","message":"still here"}`); err != nil {
		t.Fatal(err)
	}

	// No username: the upgrade is refused with a problem+json 400.
	req, _ := http.NewRequest("GET", "http://"+addr+"/ws", nil)
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
		t.Fatalf("upgrade without username: %d", res.StatusCode)
	}
}

func waitSubscribers(t *testing.T, app *graft.App[Ctx], topic string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for app.NumSubscribers(topic) != n {
		if time.Now().After(deadline) {
			t.Fatalf("topic %s has %d subscribers, want %d", topic, app.NumSubscribers(topic), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
