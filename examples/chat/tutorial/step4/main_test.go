package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/lxzan/gws"
	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type client struct {
	gws.BuiltinEventHandler
	msgs chan string
}

func (c *client) OnMessage(_ *gws.Conn, m *gws.Message) {
	c.msgs <- string(bytes.Clone(m.Bytes()))
	m.Close()
}

func (c *client) next(t *testing.T, what string) string {
	t.Helper()
	select {
	case got := <-c.msgs:
		return got
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
	}
	return ""
}

func serve(t *testing.T, natsURL string) string {
	t.Helper()
	app := newApp(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	if err := app.ParseFlags([]string{"--nats", natsURL}); err != nil {
		t.Fatal(err)
	}
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
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		<-served
	})
	return ln.Addr().String()
}

func dial(t *testing.T, addr, query string) (*client, *gws.Conn) {
	t.Helper()
	c := &client{msgs: make(chan string, 16)}
	conn, res, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws://" + addr + "/ws?" + query})
	if err != nil {
		t.Fatalf("connect %s: %v", query, err)
	}
	res.Body.Close()
	go conn.ReadLoop()
	t.Cleanup(func() { conn.NetConn().Close() })
	return c, conn
}

// Step 4's key behaviour: two nodes over an embedded nats-server with
// JetStream; alice says two things on node A, and bob, connecting to
// node B from offset 1, gets exactly the second from the history.
func TestStep4(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready within 10s")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	a, b := serve(t, ns.ClientURL()), serve(t, ns.ClientURL())

	alice, aconn := dial(t, a, "user=alice")
	var where Where
	if err := json.Unmarshal([]byte(alice.next(t, "alice's position")), &where); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"one", "two"} {
		if err := aconn.WriteMessage(gws.OpcodeText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	alice.next(t, "alice's first message")
	last := alice.next(t, "alice's second message")
	var m struct {
		Offset uint64 `json:"offset"`
	}
	if err := json.Unmarshal([]byte(last), &m); err != nil || m.Offset != where.Offset+2 {
		t.Fatalf("alice's second message %s, want offset %d", last, where.Offset+2)
	}
	bob, _ := dial(t, b, "user=bob&epoch="+where.Epoch+"&offset="+itoa(where.Offset+1))
	want := `{"offset":` + itoa(where.Offset+2) + `,"from":"alice","text":"two"}`
	if got := bob.next(t, "bob's resumed message"); got != want {
		t.Fatalf("bob resumed with %s, want %s", got, want)
	}
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }
