package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type client struct {
	gws.BuiltinEventHandler
	msgs chan string
}

func (c *client) OnMessage(_ *gws.Conn, m *gws.Message) {
	c.msgs <- string(bytes.Clone(m.Bytes()))
	m.Close()
}

func (c *client) want(t *testing.T, s string) {
	t.Helper()
	select {
	case got := <-c.msgs:
		if got != s {
			t.Fatalf("got %s, want %s", got, s)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", s)
	}
}

// isMember reports whether user is among the lobby's members.
func isMember(hub *ws.Hub, user string) bool {
	ms, _ := hub.Presence(room)
	for _, m := range ms {
		if m.Info == user {
			return true
		}
	}
	return false
}

// Step 3's key behaviour: alice sees bob join the lobby, and what bob
// says reaches her (conn.Publish reaches the others, not bob).
func TestStep3(t *testing.T) {
	app := newApp()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ln) }()
	defer func() {
		if err := app.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		<-served
	}()
	dial := func(user string) (*client, *gws.Conn) {
		c := &client{msgs: make(chan string, 16)}
		conn, res, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws://" + ln.Addr().String() + "/ws?user=" + user})
		if err != nil {
			t.Fatalf("%s connects: %v", user, err)
		}
		res.Body.Close()
		go conn.ReadLoop()
		t.Cleanup(func() { conn.NetConn().Close() })
		return c, conn
	}
	alice, _ := dial("alice")
	// alice's Open (presence watch, then the room) runs after her
	// handshake answer: wait for it, or bob could join before alice
	// watches, and she would find him among the members instead of
	// hearing him join.
	hub := ws.HubOf(app)
	for deadline := time.Now().Add(10 * time.Second); !isMember(hub, "alice"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("alice is not in the lobby's presence within 10s")
		}
	}
	_, bconn := dial("bob")
	alice.want(t, `{"presence":"join","user":"bob"}`)
	if err := bconn.WriteMessage(gws.OpcodeText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{alice} { // Publish skips the sender
		for {
			select {
			case got := <-c.msgs:
				if strings.Contains(got, "presence") {
					continue
				}
				if got != `{"from":"bob","text":"hi"}` {
					t.Fatalf("got %s, want bob's hi", got)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no message from bob within 10s")
			}
			break
		}
	}
}
