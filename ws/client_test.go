package ws

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// nodeEvent is a line graft-ws-driver.js prints.
type nodeEvent struct {
	Event     string          `json:"event"`
	Topic     string          `json:"topic"`
	Epoch     string          `json:"epoch"`
	Offset    uint64          `json:"offset"`
	Text      *string         `json:"text"`
	Data      json.RawMessage `json:"data"`
	Binary    []byte          `json:"binary"`
	Recovered *bool           `json:"recovered"`
	Reason    string          `json:"reason"`
	Error     string          `json:"error"`
	Code      int             `json:"code"`
}

// nodeClient runs graft-ws.js (ClientScript, as embedded) in a real Node
// process through testdata/graft-ws-driver.js.
type nodeClient struct {
	t      *testing.T
	stdin  io.WriteCloser
	events chan nodeEvent
	done   chan struct{} // closed when node exited, with its result in err
	err    error
}

func startNodeClient(t *testing.T, url string, topics ...string) *nodeClient {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: the graft-ws.js tests need Node.js 20+ (apt-get install -y nodejs)")
	}
	if exec.Command(node, "--experimental-websocket", "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)").Run() != nil {
		t.Skip("this node has no WebSocket (Node.js 20+ is needed for graft-ws.js)")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "graft-ws.js")
	if err := os.WriteFile(script, ClientScript, 0o644); err != nil {
		t.Fatal(err)
	}
	driver, err := filepath.Abs("testdata/graft-ws-driver.js")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, append([]string{"--experimental-websocket", "--no-warnings", driver, script, url}, topics...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &nodeClient{t: t, stdin: stdin, events: make(chan nodeEvent, 4096), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev nodeEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = nodeEvent{Event: "bad line", Error: sc.Text()}
			}
			c.events <- ev
		}
		close(c.events)
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Error("node did not exit within 5s of its stdin closing")
		}
	})
	return c
}

// next returns the next event that is not one of skip, within 10 s.
func (c *nodeClient) next(what string, skip ...string) nodeEvent {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("node exited while waiting for %s", what)
			}
			if ev.Event == "bad line" {
				c.t.Fatalf("node printed %q", ev.Error)
			}
			if os.Getenv("NODE_EVENTS") != "" {
				c.t.Logf("event %+v", ev)
			}
			if !contains(skip, ev.Event) {
				return ev
			}
		case <-timeout:
			c.t.Fatalf("waited 10s for %s from the Node client", what)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *nodeClient) command(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatal(err)
	}
}

// The JavaScript client, run by a real Node process against a real app:
// it keeps every publication of a history topic exactly once and in
// order while the server drops its connection again and again and
// refuses it for a while (it reconnects with backoff and resumes), tells
// the app to reload when the history was trimmed past its offset, and
// passes the app's own messages through.
func TestClientScriptWithNode(t *testing.T) {
	var refuse atomic.Bool
	var mu sync.Mutex
	var current *Conn[struct{}]
	hub := Extension(Config{History: testHistory})
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(hub)
		Route(app, "/ws", Behavior[struct{}]{
			Upgrade: func(c *graft.Ctx) (struct{}, error) {
				if refuse.Load() {
					return struct{}{}, graft.NewError(503, "not now")
				}
				return struct{}{}, nil
			},
			Open: func(c *Conn[struct{}]) {
				mu.Lock()
				current = c
				mu.Unlock()
			},
			Close: func(c *Conn[struct{}], _ StatusCode, _ string) {
				mu.Lock()
				if current == c {
					current = nil
				}
				mu.Unlock()
			},
			ClientSubscribe: func(*Conn[struct{}], string) error { return nil },
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				c.Send(append([]byte("echo "), data...), op, false)
			},
		})
	})
	drop := func() {
		mu.Lock()
		if current != nil {
			current.Close(StatusGoingAway, "test drops the connection")
		}
		mu.Unlock()
	}
	nc := startNodeClient(t, "ws://"+app.Addr()+"/ws", "chat.js", "small.js")
	subscribed := map[string]bool{}
	for len(subscribed) < 2 {
		if ev := nc.next("the two subscriptions", "open"); ev.Event == "subscribed" {
			subscribed[ev.Topic] = true
		} else {
			t.Fatalf("got %+v, want subscribed", ev)
		}
	}

	const total = 400
	pubErr := make(chan error, 1)
	go func() {
		for i := 1; i <= total; i++ {
			if err := hub.Publish("chat.js", []byte("m"+strconv.Itoa(i)), OpText); err != nil {
				pubErr <- err
				return
			}
			switch {
			case i%60 == 0:
				drop()
			case i == 200:
				refuse.Store(true)
				drop()
			case i == 260:
				refuse.Store(false)
			}
			time.Sleep(200 * time.Microsecond)
		}
		pubErr <- nil
	}()
	var last uint64
	for got := 0; got < total; {
		ev := nc.next("publication "+strconv.Itoa(got+1), "open", "close", "subscribed")
		if ev.Event != "pub" || ev.Topic != "chat.js" || ev.Text == nil {
			t.Fatalf("got %+v, want a text pub on chat.js", ev)
		}
		got++
		if want := "m" + strconv.Itoa(got); *ev.Text != want || (last != 0 && ev.Offset != last+1) {
			t.Fatalf("publication %d: %q at offset %d (after %d), want %q at the next offset", got, *ev.Text, ev.Offset, last, want)
		}
		last = ev.Offset
	}
	if err := wsRecv(t, pubErr, "the publisher"); err != nil {
		t.Fatal(err)
	}

	// JSON and binary payloads.
	mustPublish(t, hub, "chat.js", `{"n":[1,2]}`, OpText)
	mustPublish(t, hub, "chat.js", "\x00\x01\xff", OpBinary)
	if ev := nc.next("a JSON pub", "open", "close", "subscribed"); ev.Offset != last+1 || string(ev.Data) != `{"n":[1,2]}` {
		t.Fatalf("got %+v, want data {\"n\":[1,2]} at offset %d", ev, last+1)
	}
	if ev := nc.next("a binary pub", "open", "close", "subscribed"); ev.Offset != last+2 || string(ev.Binary) != "\x00\x01\xff" {
		t.Fatalf("got %+v, want binary 00 01 ff", ev)
	}

	// Away while small.js (5 kept) moves on by 20: the client must reload.
	refuse.Store(true)
	drop()
	if ev := nc.next("the close", "open", "subscribed"); ev.Event != "close" {
		t.Fatalf("got %+v, want close", ev)
	}
	mustPublish(t, hub, "small.js", "before", OpText)
	for i := 0; i < 20; i++ {
		mustPublish(t, hub, "small.js", "gone", OpText)
	}
	refuse.Store(false)
	ev := nc.next("the reset", "open", "close", "subscribed")
	if ev.Event != "reset" || ev.Topic != "small.js" || ev.Reason != "history trimmed" || ev.Offset != 21 {
		t.Fatalf("got %+v, want a reset of small.js (history trimmed) at offset 21", ev)
	}
	mustPublish(t, hub, "small.js", "after", OpText)
	if ev := nc.next("the pub after the reset", "open", "close", "subscribed"); ev.Event != "pub" || ev.Offset != 22 || ev.Text == nil || *ev.Text != "after" {
		t.Fatalf("got %+v, want pub 22 \"after\"", ev)
	}

	// The app's own messages pass through both ways.
	nc.command("send hello")
	if ev := nc.next("the echo", "open", "close", "subscribed"); ev.Event != "message" || string(ev.Data) != `"echo hello"` {
		t.Fatalf("got %+v, want the message \"echo hello\"", ev)
	}
	nc.command("close")
	select {
	case <-nc.done:
		if nc.err != nil {
			t.Fatalf("node exited with %v", nc.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("node did not exit within 10s of close")
	}
}
