package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/lxzan/gws"
	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/goleak"

	"github.com/graftgo/graft/internal/redistest"
)

// TestMain runs main instead of the tests when CHAT_MAIN_ARGS is set (a
// test starts the test binary that way as a chat process: its value is the
// command line, arguments separated by newlines).
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("CHAT_MAIN_ARGS"); ok {
		os.Args = append([]string{"chat"}, strings.Split(args, "\n")...)
		main()
		return
	}
	goleak.VerifyTestMain(m,
		// ncruces/go-sqlite3's wazero runtime and vmihailenco's per-type
		// caches keep package-level goroutines.
		goleak.IgnoreAnyFunction("github.com/tetratelabs/wazero/internal/engine/wazevo.(*engine).addCompiledModule.func1"),
	)
}

var quiet = slog.New(slog.DiscardHandler)

// node is a started chat app and its address.
type node struct {
	app    *graft.App[Ctx]
	chat   *chatExt
	addr   string
	served chan error
	done   bool
}

// stop shuts the node down now (SIGTERM's path), within 10 s.
func (n *node) stop(t *testing.T) {
	t.Helper()
	if n.done {
		return
	}
	n.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.app.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	select {
	case err := <-n.served:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Error("Serve did not return within 10s of Shutdown")
	}
}

func (n *node) url(path string) string { return "http://" + n.addr + path }

// start makes the chat from a command line, as main does, and serves it
// on a free loopback port until the test ends.
func start(t *testing.T, args ...string) *node {
	t.Helper()
	return startOn(t, "127.0.0.1:0", args...)
}

// startOn is start on a given address (a restart on a stopped node's).
func startOn(t *testing.T, addr string, args ...string) *node {
	t.Helper()
	app, chat := newChat(graft.Config{Logger: quiet})
	if err := app.ParseFlags(append([]string{"--host", "127.0.0.1", "--port", "-1"}, args...)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{app: app, chat: chat, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { n.served <- app.Serve(ln) }()
	t.Cleanup(func() { n.stop(t) })
	return n
}

// memDB is the flag for a database that lives as long as the test.
func memDB(t *testing.T) []string {
	return []string{"--db", filepath.Join(t.TempDir(), "chat.db")}
}

// call sends a request with a JSON body (nil: none) and headers
// ("Name: value") and returns the status and body.
func call(t *testing.T, method, url string, body any, headers ...string) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b, res.Header
}

// signup creates a user and returns its token.
func signup(t *testing.T, n *node, name string) string {
	t.Helper()
	code, b, _ := call(t, "POST", n.url("/users"), Credentials{Username: name, Password: "password-" + name})
	if code != http.StatusCreated {
		t.Fatalf("sign up %s: %d %s", name, code, b)
	}
	var out TokenOut
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" {
		t.Fatalf("sign up %s: %s (%v)", name, b, err)
	}
	return out.Token
}

// client is a WebSocket client of the chat: every text message it gets
// goes to msgs, the close code to closed.
type client struct {
	gws.BuiltinEventHandler
	name   string
	conn   *gws.Conn
	msgs   chan []byte
	closed chan uint16
}

func (c *client) OnMessage(_ *gws.Conn, m *gws.Message) {
	b := bytes.Clone(m.Bytes())
	m.Close()
	select {
	case c.msgs <- b:
	default:
		panic("chat test client " + c.name + ": 4096 unread messages")
	}
}

func (c *client) OnClose(_ *gws.Conn, err error) {
	var ce *gws.CloseError
	code := uint16(1006)
	if errors.As(err, &ce) {
		code = ce.Code
	}
	c.closed <- code
}

// connect opens /ws with a token.
func connect(t *testing.T, n *node, name, token string) *client {
	t.Helper()
	c := &client{name: name, msgs: make(chan []byte, 4096), closed: make(chan uint16, 1)}
	conn, res, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws://" + n.addr + "/ws?token=" + token, ReadMaxPayloadSize: 1 << 20})
	if err != nil {
		t.Fatalf("%s connects: %v", name, err)
	}
	res.Body.Close()
	c.conn = conn
	go conn.ReadLoop()
	t.Cleanup(func() { c.drop() })
	return c
}

// drop closes the connection (a client that goes away).
func (c *client) drop() { _ = c.conn.NetConn().Close() }

func (c *client) send(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.conn.WriteMessage(gws.OpcodeText, b); err != nil {
		t.Fatalf("%s sends %s: %v", c.name, b, err)
	}
}

// wire is any server message.
type wire struct {
	Type    string   `json:"type"`
	Room    string   `json:"room"`
	Epoch   string   `json:"epoch"`
	Offset  uint64   `json:"offset"`
	Members []string `json:"members"`
	User    string   `json:"user"`
	Event   string   `json:"event"`
	ID      int64    `json:"id"`
	From    string   `json:"from"`
	Text    string   `json:"text"`
	TS      string   `json:"ts"`
	Message string   `json:"message"`
	Error   string   `json:"error"`
}

// next returns the next server message within 10 s.
func (c *client) next(t *testing.T, what string) wire {
	t.Helper()
	select {
	case b := <-c.msgs:
		var w wire
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatalf("%s waiting for %s got %q: %v", c.name, what, b, err)
		}
		return w
	case code := <-c.closed:
		t.Fatalf("%s waiting for %s: the connection closed with %d", c.name, what, code)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no %s within 10s", c.name, what)
	}
	return wire{}
}

// expect returns the next message of type typ, failing on any other.
func (c *client) expect(t *testing.T, typ string) wire {
	t.Helper()
	w := c.next(t, typ)
	if w.Type != typ {
		t.Fatalf("%s: got %+v, want a %s message", c.name, w, typ)
	}
	return w
}

// skip returns the next message of type typ, passing over the others.
func (c *client) skip(t *testing.T, typ string) wire {
	t.Helper()
	for {
		if w := c.next(t, typ); w.Type == typ {
			return w
		}
	}
}

// quiet checks that nothing arrives for d.
func (c *client) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case b := <-c.msgs:
		t.Fatalf("%s got %s, want nothing", c.name, b)
	case <-time.After(d):
	}
}

// closeCode waits for the connection to close and returns the code.
func (c *client) closeCode(t *testing.T) uint16 {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case code := <-c.closed:
			return code
		case <-c.msgs:
		case <-deadline:
			t.Fatalf("%s: the connection did not close within 10s", c.name)
		}
	}
}

// waitFor polls cond every 10 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}

// startNATS runs an embedded nats-server with JetStream on a free port.
func startNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready within 10s")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.ClientURL()
}

// startRedis runs a real redis-server (no persistence) on a free
// loopback port until the test ends and returns its URL.
func startRedis(t *testing.T) string {
	t.Helper()
	return redistest.Start(t).URL()
}
