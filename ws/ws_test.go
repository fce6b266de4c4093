package ws

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// closeRecord is what a Close handler saw.
type closeRecord struct {
	code   StatusCode
	reason string
}

func TestWSEchoAndCloseHandler(t *testing.T) {
	closed := make(chan closeRecord, 4)
	opened := make(chan uint64, 4)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/ws", Behavior[string]{
			Upgrade: func(c *graft.Ctx) (string, error) { return c.Query("name"), nil },
			Open:    func(c *Conn[string]) { opened <- c.ID() },
			Message: func(c *Conn[string], data []byte, op OpCode) {
				c.Send([]byte(*c.Data()+":"+string(data)), op, false)
			},
			Close: func(c *Conn[string], code StatusCode, reason string) { closed <- closeRecord{code, reason} },
		})
	})
	a := wsDial(t, app.Addr(), "/ws?name=ann")
	b := wsDial(t, app.Addr(), "/ws?name=bob")
	idA, idB := wsRecv(t, opened, "the first Open"), wsRecv(t, opened, "the second Open")
	if idA == idB || idA == 0 {
		t.Fatalf("connection ids %d and %d", idA, idB)
	}
	a.writeFrame(wsTextFrame("hi"))
	a.expectMessage(1, []byte("ann:hi"))
	b.writeFrame(wsBinFrame([]byte{1, 2}))
	b.expectMessage(2, []byte("bob:\x01\x02"))
	if n := HubOf(app).NumConns(); n != 2 {
		t.Fatalf("NumConns = %d", n)
	}

	// The client closes: the handler sees its code and reason.
	a.writeFrame(wsCloseFrame(4001, "bye"))
	a.expectClose(4001) // codes from 3000 are echoed, others answered 1000
	if got := wsRecv(t, closed, "the Close handler after the client closed"); got != (closeRecord{4001, "bye"}) {
		t.Fatalf("Close handler got %+v", got)
	}
	// The connection drops without a close frame: 1006.
	b.conn.Close()
	if got := wsRecv(t, closed, "the Close handler after the connection dropped"); got.code != StatusAbnormalClosure {
		t.Fatalf("Close handler got %+v, want 1006", got)
	}
	wsWaitFor(t, "connections to be released", func() bool { return HubOf(app).NumConns() == 0 })
}

func TestWSServerClose(t *testing.T) {
	closed := make(chan closeRecord, 1)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/ws", Behavior[struct{}]{
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				c.Send([]byte("last words"), OpText, false)
				c.Close(4000, "done")
				if st := c.Send([]byte("too late"), OpText, false); st != SendDropped {
					t.Errorf("send after Close: %v", st)
				}
			},
			Close: func(c *Conn[struct{}], code StatusCode, reason string) { closed <- closeRecord{code, reason} },
		})
	})
	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsTextFrame("close please"))
	c.expectMessage(1, []byte("last words"))
	f := c.next()
	if f.op != 8 || string(f.payload) != "\x0f\xa0done" {
		t.Fatalf("got frame op %d %q, want close 4000 done", f.op, f.payload)
	}
	c.writeFrame(wsCloseFrame(4000, ""))
	if got := wsRecv(t, closed, "the Close handler after the server closed"); got != (closeRecord{4000, "done"}) {
		t.Fatalf("Close handler got %+v", got)
	}
}

func TestWSHandshakeRules(t *testing.T) {
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/same", Behavior[struct{}]{})
		Route(app, "/listed", Behavior[struct{}]{AllowedOrigins: []string{"https://*.example.com", "http://app.test"}})
		Route(app, "/any", Behavior[struct{}]{AllowedOrigins: []string{"*"}})
		Route(app, "/auth", Behavior[string]{Upgrade: func(c *graft.Ctx) (string, error) {
			if c.Header("Token") == "" {
				return "", graft.NewError(http.StatusUnauthorized, "send a token")
			}
			return c.Header("Token"), nil
		}})
		Route(app, "/proto", Behavior[struct{}]{
			Subprotocols: []string{"chat.v2", "chat.v1"},
			Open:         func(c *Conn[struct{}]) { c.Send([]byte("proto="+c.Subprotocol()), OpText, false) },
		})
	})
	addr := app.Addr()
	cases := []struct {
		path    string
		headers []string
		status  int
	}{
		{"/same", nil, 101},
		{"/same", []string{"Origin: http://" + addr}, 101},
		{"/same", []string{"Origin: http://evil.example"}, 403},
		{"/listed", []string{"Origin: https://a.example.com"}, 101},
		{"/listed", []string{"Origin: http://app.test"}, 101},
		{"/listed", []string{"Origin: https://example.org"}, 403},
		{"/listed", []string{"Origin: http://" + addr}, 403},
		{"/any", []string{"Origin: https://anything.test"}, 101},
		{"/auth", nil, 401},
		{"/auth", []string{"Token: t"}, 101},
	}
	for _, tc := range cases {
		c, err := wsDialErr(addr, tc.path, tc.headers...)
		got := 101
		var se *wsStatusError
		if errors.As(err, &se) {
			got = se.code
		} else if err != nil {
			t.Fatal(err)
		}
		if got != tc.status {
			t.Errorf("%s %v: status %d, want %d", tc.path, tc.headers, got, tc.status)
		}
		if c != nil {
			c.conn.Close()
		}
	}

	// A plain GET is told to upgrade.
	resp, err := http.Get("http://" + addr + "/same")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Upgrade") != "websocket" {
		t.Fatalf("plain GET: %d %v", resp.StatusCode, resp.Header)
	}

	// Subprotocols: the server's preference among those offered.
	for offer, want := range map[string]string{"chat.v1, chat.v2": "chat.v2", "chat.v1": "chat.v1", "other": ""} {
		c := wsDial(t, addr, "/proto", "Sec-WebSocket-Protocol: "+offer)
		if got := c.resp.Header.Get("Sec-WebSocket-Protocol"); got != want {
			t.Errorf("offer %q: header %q, want %q", offer, got, want)
		}
		c.expectMessage(1, []byte("proto="+want))
	}
}

func TestWSPanicClosesOnlyThatConnection(t *testing.T) {
	closed := make(chan closeRecord, 2)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/ws", Behavior[struct{}]{
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				if string(data) == "boom" {
					panic("boom")
				}
				c.Send(data, op, false)
			},
			Close: func(c *Conn[struct{}], code StatusCode, reason string) { closed <- closeRecord{code, reason} },
		})
	})
	a := wsDial(t, app.Addr(), "/ws")
	b := wsDial(t, app.Addr(), "/ws")
	a.writeFrame(wsTextFrame("boom"))
	a.expectClose(StatusInternalError)
	if got := wsRecv(t, closed, "the Close handler after the panic"); got.code != StatusInternalError {
		t.Fatalf("Close handler got %+v", got)
	}
	b.writeFrame(wsTextFrame("still here"))
	b.expectMessage(1, []byte("still here"))
}

func TestWSIdleTimeoutPingsAndLifetime(t *testing.T) {
	closed := make(chan closeRecord, 3)
	onClose := func(c *Conn[struct{}], code StatusCode, reason string) { closed <- closeRecord{code, reason} }
	echo := func(c *Conn[struct{}], data []byte, op OpCode) { c.Send(data, op, false) }
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/quiet", Behavior[struct{}]{IdleTimeout: 200 * time.Millisecond, DisablePings: true, Close: onClose})
		Route(app, "/pinged", Behavior[struct{}]{IdleTimeout: 200 * time.Millisecond, Message: echo, Close: onClose})
		Route(app, "/short", Behavior[struct{}]{MaxLifetime: 150 * time.Millisecond, Close: onClose})
	})

	// Idle without pings: closed with 1001 after the timeout.
	start := time.Now()
	q := wsDial(t, app.Addr(), "/quiet")
	if _, reason := q.expectClose(StatusGoingAway); reason != "idle timeout" {
		t.Fatalf("reason %q", reason)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second { // checked every quarter of the timeout
		t.Fatalf("closed after %v", d)
	}
	if got := wsRecv(t, closed, "the Close handler after the idle timeout"); got != (closeRecord{StatusGoingAway, "idle timeout"}) {
		t.Fatalf("Close handler got %+v", got)
	}

	// With pings, a client that answers them stays connected.
	p := wsDial(t, app.Addr(), "/pinged")
	pings := 0
	for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); {
		f, err := p.readFrame(300 * time.Millisecond)
		if err != nil {
			t.Fatalf("after %d pings: %v", pings, err)
		}
		if f.op != 9 {
			t.Fatalf("unexpected frame op %d", f.op)
		}
		pings++
		p.writeFrame(wsFrame{fin: true, op: 10, payload: f.payload})
	}
	p.writeFrame(wsTextFrame("alive"))
	for f := p.next(); ; f = p.next() {
		if f.op == 1 {
			if string(f.payload) != "alive" {
				t.Fatalf("got %q", f.payload)
			}
			break
		}
	}
	if pings < 2 {
		t.Fatalf("%d pings", pings)
	}

	// Max lifetime.
	l := wsDial(t, app.Addr(), "/short")
	if _, reason := l.expectClose(StatusGoingAway); reason != "max lifetime" {
		t.Fatalf("reason %q", reason)
	}
	if got := wsRecv(t, closed, "the Close handler after the max lifetime"); got.reason != "max lifetime" {
		t.Fatalf("Close handler got %+v", got)
	}
}

func TestWSBackpressureAndDrain(t *testing.T) {
	conns := make(chan *Conn[struct{}], 2)
	drained := make(chan int, 16)
	closed := make(chan closeRecord, 1)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		b := Behavior[struct{}]{
			MaxBackpressure: 64 << 10,
			Open:            func(c *Conn[struct{}]) { conns <- c },
			Drain:           func(c *Conn[struct{}]) { drained <- c.BufferedAmount() },
			Close:           func(c *Conn[struct{}], code StatusCode, reason string) { closed <- closeRecord{code, reason} },
		}
		Route(app, "/ws", b)
		b.CloseOnBackpressureLimit = true
		Route(app, "/strict", b)
	})

	c := wsDial(t, app.Addr(), "/ws")
	conn := wsRecv(t, conns, "the Open handler of /ws")
	msg := bytes.Repeat([]byte("x"), 16<<10)
	var statuses []SendStatus
	sent := 0
	for i := 0; i < 100000; i++ {
		st := conn.Send(msg, OpBinary, false)
		statuses = append(statuses, st)
		if st == SendDropped {
			break
		}
		sent++
	}
	last := statuses[len(statuses)-1]
	if last != SendDropped {
		t.Fatalf("never dropped after %d sends", len(statuses))
	}
	if statuses[0] != SendSuccess || statuses[len(statuses)-2] != SendBackpressure {
		t.Fatalf("statuses start %v, end %v", statuses[0], statuses[len(statuses)-2:])
	}
	if n := conn.BufferedAmount(); n <= 64<<10 || n > 64<<10+2*len(msg) {
		t.Fatalf("BufferedAmount %d after dropping", n)
	}
	// The client reads everything; Drain reports an empty buffer.
	for range sent {
		f, err := c.readFrame(5 * time.Second)
		if err != nil || len(f.payload) != len(msg) {
			t.Fatalf("read: %v, %d bytes", err, len(f.payload))
		}
	}
	select {
	case n := <-drained:
		if n != 0 {
			t.Fatalf("Drain with %d bytes buffered", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Drain did not run")
	}
	if st := conn.Send([]byte("again"), OpText, false); st != SendSuccess {
		t.Fatalf("send after drain: %v", st)
	}
	c.expectMessage(1, []byte("again"))

	// With CloseOnBackpressureLimit, the connection is closed too: a
	// client that stopped reading finds a 1008 close frame after the
	// buffered messages once it reads again (it used to see the TCP
	// connection drop, 1006, without a close frame).
	s := wsDial(t, app.Addr(), "/strict")
	strict := wsRecv(t, conns, "the Open handler of /strict")
	accepted := 0
	for strict.Send(msg, OpBinary, false) != SendDropped {
		accepted++
	}
	for i := 0; ; i++ {
		f, err := s.readFrame(5 * time.Second)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v (no close frame)", i, accepted, err)
		}
		if f.op == 8 {
			if i != accepted {
				t.Fatalf("close after %d messages, %d were accepted", i, accepted)
			}
			if code := StatusCode(f.payload[0])<<8 | StatusCode(f.payload[1]); code != StatusPolicyViolation || string(f.payload[2:]) != "backpressure limit" {
				t.Fatalf("close %d %q, want 1008 backpressure limit", code, f.payload[2:])
			}
			s.writeFrame(wsCloseFrame(1008, ""))
			break
		}
		if f.op != 2 || len(f.payload) != len(msg) {
			t.Fatalf("frame op %d of %d bytes, want a %d-byte message", f.op, len(f.payload), len(msg))
		}
	}
	if got := wsRecv(t, closed, "the Close handler of /strict"); got != (closeRecord{StatusPolicyViolation, "backpressure limit"}) {
		t.Fatalf("Close handler got %+v", got)
	}
}

var wsVisits = graft.NewProperty("ws-visits", func() int { return 0 })

func TestWSPropertiesAndPooling(t *testing.T) {
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(Extension(Config{PoolMaxItems: 1}))
		Route(app, "/ws", Behavior[struct{}]{
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				wsVisits.Set(c, wsVisits.Get(c)+1)
				c.Send([]byte(strconv.Itoa(wsVisits.Get(c))), OpText, false)
			},
		})
	})
	for range 3 {
		c := wsDial(t, app.Addr(), "/ws")
		for i := 1; i <= 2; i++ {
			c.writeFrame(wsTextFrame("visit"))
			c.expectMessage(1, []byte(strconv.Itoa(i)))
		}
		c.writeFrame(wsCloseFrame(1000, ""))
		c.expectClose(1000)
		wsWaitFor(t, "release", func() bool { return HubOf(app).NumConns() == 0 })
	}
}

func TestWSShutdownClosesWith1001AndWaits(t *testing.T) {
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: wsQuietLogger()})
	var closedHandlers atomic.Int32
	opened := make(chan struct{}, 8)
	Route(app, "/ws", Behavior[struct{}]{
		Open: func(c *Conn[struct{}]) { opened <- struct{}{} },
		Close: func(c *Conn[struct{}], code StatusCode, reason string) {
			time.Sleep(50 * time.Millisecond) // a handler still at work
			if code == StatusGoingAway {
				closedHandlers.Add(1)
			}
		},
	})
	ln, err := app.Listen()
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Serve(ln) }()
	var clients []*wsRawClient
	for range 5 {
		clients = append(clients, wsDial(t, ln.Addr().String(), "/ws"))
		wsRecv(t, opened, "the Open handler")
	}
	got := make(chan StatusCode, len(clients))
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				f, err := c.readFrame(5 * time.Second)
				if err != nil {
					got <- 0
					return
				}
				if f.op == 8 {
					got <- StatusCode(f.payload[0])<<8 | StatusCode(f.payload[1])
					c.conn.Write(wsEncodeClientFrame(wsCloseFrame(1001, "")))
					return
				}
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := closedHandlers.Load(); n != 5 {
		t.Fatalf("%d Close handlers finished before Shutdown returned, want 5", n)
	}
	wg.Wait()
	for range clients {
		if code := wsRecv(t, got, "a client to see the shutdown close"); code != StatusGoingAway {
			t.Fatalf("client got close %d", code)
		}
	}
	if err := wsRecv(t, errc, "Serve to return after Shutdown"); err != nil {
		t.Fatal(err)
	}
}
