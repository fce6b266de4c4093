package ws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
)

// wireMsg is any message of the client protocol.
type wireMsg struct {
	Type      string          `json:"type"`
	Topic     string          `json:"topic"`
	Epoch     string          `json:"epoch"`
	Offset    uint64          `json:"offset"`
	Data      json.RawMessage `json:"data"`
	Text      *string         `json:"text"`
	Binary    string          `json:"binary"`
	Recovered *bool           `json:"recovered"`
	Missed    int             `json:"missed"`
	Reason    string          `json:"reason"`
	Request   string          `json:"request"`
	Error     string          `json:"error"`
}

// payload is what a "pub" carried, as the publisher's bytes.
func (m wireMsg) payload(t testing.TB) string {
	t.Helper()
	switch {
	case m.Text != nil:
		return *m.Text
	case m.Data != nil:
		return string(m.Data)
	case m.Binary != "":
		b, err := base64.StdEncoding.DecodeString(m.Binary)
		if err != nil {
			t.Fatalf("binary %q: %v", m.Binary, err)
		}
		return string(b)
	}
	t.Fatalf("pub without data, text or binary: %+v", m)
	return ""
}

// readMsg reads one text frame of the protocol within 5 s.
func (c *wsRawClient) readMsg() wireMsg {
	c.t.Helper()
	f := c.next()
	if f.op != 1 {
		c.t.Fatalf("got opcode %d (%q), want a text protocol message", f.op, wsTrunc(f.payload))
	}
	var m wireMsg
	if err := json.Unmarshal(f.payload, &m); err != nil {
		c.t.Fatalf("protocol message %q: %v", f.payload, err)
	}
	return m
}

func (c *wsRawClient) sendJSON(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.writeFrame(wsTextFrame(string(b)))
}

// expectPub reads a "pub" of topic with offset off and payload want.
func (c *wsRawClient) expectPub(topic string, off uint64, want string) wireMsg {
	c.t.Helper()
	m := c.readMsg()
	if m.Type != "pub" || m.Topic != topic || m.Offset != off || m.payload(c.t) != want {
		c.t.Fatalf("got %+v, want pub %s offset %d %q", m, topic, off, want)
	}
	return m
}

// subscribe sends the protocol's subscribe (from the zero position:
// fresh) and returns the "subscribed" reply.
func (c *wsRawClient) subscribe(topic string, from Position) wireMsg {
	c.t.Helper()
	req := map[string]any{"type": "subscribe", "topic": topic}
	if from != (Position{}) {
		req["epoch"], req["offset"] = from.Epoch, from.Offset
	}
	c.sendJSON(req)
	m := c.readMsg()
	if m.Type != "subscribed" || m.Topic != topic {
		c.t.Fatalf("subscribe %s: got %+v, want subscribed", topic, m)
	}
	return m
}

var testHistory = broker.HistoryPolicies{
	{Pattern: "small.*", HistoryPolicy: broker.HistoryPolicy{Size: 5}},
	{Pattern: "chat.*", HistoryPolicy: broker.HistoryPolicy{Size: 10000}},
}

// historyApp serves /ws with the client protocol (topics "secret.*"
// refused) and a "pub TOPIC TEXT" command that publishes from the
// connection.
func historyApp(t testing.TB, wc Config) (*graft.App[graft.Ctx], *Hub) {
	t.Helper()
	if wc.History == nil {
		wc.History = testHistory
	}
	hub := Extension(wc)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(hub)
		Route(app, "/ws", Behavior[struct{}]{
			ClientSubscribe: func(c *Conn[struct{}], topic string) error {
				if strings.HasPrefix(topic, "secret.") {
					return errors.New("not for you")
				}
				return nil
			},
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				cmd, rest, _ := strings.Cut(string(data), " ")
				if cmd == "pub" {
					topic, text, _ := strings.Cut(rest, " ")
					if err := c.Publish(topic, []byte(text), OpText); err != nil {
						c.Send([]byte("error "+err.Error()), OpText, false)
					}
					return
				}
				c.Send([]byte("echo "+string(data)), OpText, false)
			},
		})
	})
	return app, hub
}

func mustPublish(t testing.TB, hub *Hub, topic, data string, op OpCode) {
	t.Helper()
	if err := hub.Publish(topic, []byte(data), op); err != nil {
		t.Fatalf("Publish(%s, %q): %v", topic, data, err)
	}
}

// A publication on a history topic reaches subscribers as a "pub" with
// its epoch and offset, its payload in data (JSON), text or binary.
func TestHistoryPublicationCarriesPosition(t *testing.T) {
	app, hub := historyApp(t, Config{})
	c := wsDial(t, app.Addr(), "/ws")
	sub := c.subscribe("chat.a", Position{})
	if sub.Epoch == "" || sub.Offset != 0 || sub.Recovered != nil {
		t.Fatalf("fresh subscribe = %+v, want an epoch, offset 0 and no recovered field", sub)
	}
	mustPublish(t, hub, "chat.a", `{"who":"ann","n":[1,2]}`, OpText)
	mustPublish(t, hub, "chat.a", "plain \"text\"\n", OpText)
	mustPublish(t, hub, "chat.a", "\x00\x01\xff", OpBinary)
	for i, want := range []string{`{"who":"ann","n":[1,2]}`, "plain \"text\"\n", "\x00\x01\xff"} {
		m := c.expectPub("chat.a", uint64(i+1), want)
		if m.Epoch != sub.Epoch {
			t.Fatalf("pub epoch %q, subscribed said %q", m.Epoch, sub.Epoch)
		}
	}
	// A topic without a history is delivered as it was published.
	c.subscribe("plain", Position{})
	mustPublish(t, hub, "plain", "raw", OpText)
	c.expectMessage(1, []byte("raw"))
	// Other messages go to Message.
	c.writeFrame(wsTextFrame(`{"type":"hello"}`))
	c.expectMessage(1, []byte(`echo {"type":"hello"}`))
}

// A client that reconnects with its last position gets what it missed,
// in order, then the live publications.
func TestHistoryRecoverAfterReconnect(t *testing.T) {
	app, hub := historyApp(t, Config{})
	c := wsDial(t, app.Addr(), "/ws")
	sub := c.subscribe("chat.r", Position{})
	for i := 1; i <= 3; i++ {
		mustPublish(t, hub, "chat.r", "m"+strconv.Itoa(i), OpText)
		c.expectPub("chat.r", uint64(i), "m"+strconv.Itoa(i))
	}
	c.conn.Close()
	wsWaitFor(t, "the first connection to leave", func() bool { return hub.NumSubscribers("chat.r") == 0 })
	for i := 4; i <= 10; i++ {
		mustPublish(t, hub, "chat.r", "m"+strconv.Itoa(i), OpText)
	}
	c = wsDial(t, app.Addr(), "/ws")
	rec := c.subscribe("chat.r", Position{Offset: 3, Epoch: sub.Epoch})
	if rec.Recovered == nil || !*rec.Recovered || rec.Missed != 7 || rec.Offset != 10 || rec.Epoch != sub.Epoch {
		t.Fatalf("recovering subscribe = %+v, want recovered, 7 missed, at offset 10", rec)
	}
	for i := 4; i <= 10; i++ {
		c.expectPub("chat.r", uint64(i), "m"+strconv.Itoa(i))
	}
	mustPublish(t, hub, "chat.r", "live", OpText)
	c.expectPub("chat.r", 11, "live")
	// Its own publication reaches a subscribed publisher too: no hole.
	c.writeFrame(wsTextFrame("pub chat.r mine"))
	c.expectPub("chat.r", 12, "mine")
}

// Recovery that cannot be exact says why, and the connection continues
// live from the current top.
func TestHistoryUnrecoverable(t *testing.T) {
	app, hub := historyApp(t, Config{})
	c := wsDial(t, app.Addr(), "/ws")
	top := c.subscribe("small.t", Position{})
	for i := 1; i <= 20; i++ {
		mustPublish(t, hub, "small.t", "m"+strconv.Itoa(i), OpText)
		c.expectPub("small.t", uint64(i), "m"+strconv.Itoa(i))
	}
	for _, tc := range []struct {
		from   Position
		reason string
	}{
		{Position{Offset: 2, Epoch: top.Epoch}, broker.ReasonTrimmed},
		{Position{Offset: 20, Epoch: "another"}, broker.ReasonEpoch},
		{Position{Offset: 99, Epoch: top.Epoch}, broker.ReasonAhead},
	} {
		d := wsDial(t, app.Addr(), "/ws")
		m := d.subscribe("small.t", tc.from)
		if m.Recovered == nil || *m.Recovered || m.Reason != tc.reason || m.Offset != 20 || m.Epoch != top.Epoch {
			t.Fatalf("subscribe from %+v = %+v, want not recovered, %q, at offset 20", tc.from, m, tc.reason)
		}
		d.conn.Close()
	}
	d := wsDial(t, app.Addr(), "/ws")
	d.subscribe("small.t", Position{Offset: 1, Epoch: top.Epoch})
	mustPublish(t, hub, "small.t", "next", OpText)
	d.expectPub("small.t", 21, "next")
	c.expectPub("small.t", 21, "next")
}

// Refusals and mistakes are answered with an error message; the
// connection stays open.
func TestHistoryClientSubscribeErrors(t *testing.T) {
	app, _ := historyApp(t, Config{})
	c := wsDial(t, app.Addr(), "/ws")
	for _, tc := range []struct{ send, want string }{
		{`{"type":"subscribe","topic":"secret.x"}`, "not for you"},
		{`{"type":"subscribe"}`, "no topic"},
	} {
		c.writeFrame(wsTextFrame(tc.send))
		m := c.readMsg()
		if m.Type != "error" || m.Request != "subscribe" || !strings.Contains(m.Error, tc.want) {
			t.Fatalf("%s: got %+v, want an error mentioning %q", tc.send, m, tc.want)
		}
	}
	c.sendJSON(map[string]any{"type": "unsubscribe", "topic": "chat.x"})
	if m := c.readMsg(); m.Type != "unsubscribed" || m.Topic != "chat.x" {
		t.Fatalf("unsubscribe: got %+v", m)
	}
	c.writeFrame(wsTextFrame("still open"))
	c.expectMessage(1, []byte("echo still open"))
}

// The Go API: SubscribeFrom on a topic without a history, and on one.
func TestSubscribeFromAPI(t *testing.T) {
	type result struct {
		r   Recovery
		err error
	}
	results := make(chan result, 4)
	hub := Extension(Config{History: testHistory})
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(hub)
		Route(app, "/ws", Behavior[struct{}]{
			Message: func(c *Conn[struct{}], data []byte, op OpCode) {
				var p Position
				epoch, off, _ := strings.Cut(string(data), " ")
				p.Epoch = epoch
				p.Offset, _ = strconv.ParseUint(off, 10, 64)
				_, err := c.SubscribeFrom("nohistory", Position{})
				results <- result{err: err}
				r, err := c.SubscribeFrom("chat.api", p)
				results <- result{r, err}
			},
		})
	})
	for i := 1; i <= 4; i++ {
		mustPublish(t, hub, "chat.api", "m"+strconv.Itoa(i), OpText)
	}
	hist := hub.history()
	top, err := hist.Position(context.Background(), "chat.api")
	if err != nil {
		t.Fatal(err)
	}
	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsTextFrame(fmt.Sprintf("%s 2", top.Epoch)))
	if r := wsRecv(t, results, "SubscribeFrom on a topic without history"); !errors.Is(r.err, ErrNoHistory) {
		t.Fatalf("SubscribeFrom(nohistory) = %v, want ErrNoHistory", r.err)
	}
	r := wsRecv(t, results, "SubscribeFrom")
	if r.err != nil || !r.r.Recovered || r.r.Missed != 2 || r.r.Position != top {
		t.Fatalf("SubscribeFrom = %+v, %v; want 2 recovered up to %+v", r.r, r.err, top)
	}
	c.expectPub("chat.api", 3, "m3")
	c.expectPub("chat.api", 4, "m4")
}

// Every publication reaches a client that keeps reconnecting with its
// last position while the topic is published to without a pause: exactly
// once, in order, with no gap between what the history gave and the live
// publications.
func TestHistoryExactlyOnceAcrossReconnects(t *testing.T) {
	app, hub := historyApp(t, Config{})
	const total = 3000
	pos, err := hub.history().Position(context.Background(), "chat.flow")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= total; i++ {
			if err := hub.Publish("chat.flow", []byte("m"+strconv.Itoa(i)), OpText); err != nil {
				done <- err
				return
			}
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		done <- nil
	}()
	next := uint64(1)
	for round := 0; next <= total; round++ {
		if round > 1000 {
			t.Fatalf("still at offset %d after 1000 reconnects", next)
		}
		c := wsDial(t, app.Addr(), "/ws")
		sub := c.subscribe("chat.flow", pos)
		if sub.Recovered == nil || !*sub.Recovered {
			t.Fatalf("round %d: subscribe from %+v = %+v, want recovered", round, pos, sub)
		}
		for n := 0; n < 50+round%37 && next <= total; n++ {
			m := c.expectPub("chat.flow", next, "m"+strconv.Itoa(int(next)))
			pos = Position{Offset: m.Offset, Epoch: m.Epoch}
			next++
		}
		c.conn.Close()
	}
	if err := wsRecv(t, done, "the publisher to finish"); err != nil {
		t.Fatal(err)
	}
}

// Publishers racing on one topic get their offsets in one order and
// deliver in another; every subscriber still sees the offsets in order,
// each once.
func TestHistoryConcurrentPublishersInOrder(t *testing.T) {
	app, hub := historyApp(t, Config{})
	c := wsDial(t, app.Addr(), "/ws")
	c.subscribe("chat.race", Position{})
	const writers, each = 4, 500
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := hub.Publish("chat.race", []byte(fmt.Sprintf("w%d-%d", w, i)), OpText); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for off := uint64(1); off <= writers*each; off++ {
		m := c.readMsg()
		if m.Type != "pub" || m.Offset != off {
			t.Fatalf("got %+v, want pub offset %d", m, off)
		}
		p := m.payload(t)
		if seen[p] {
			t.Fatalf("%q delivered twice", p)
		}
		seen[p] = true
	}
}

// A node that receives publications out of order from the bus, or misses
// one, fills the gap from the history; one lost with none after it is
// found by the periodic check.
func TestHistoryNodeFillsGaps(t *testing.T) {
	store, err := broker.NewMemoryHistory(testHistory)
	if err != nil {
		t.Fatal(err)
	}
	app, hub := historyApp(t, Config{HistoryStore: store, HistoryCheck: 20 * time.Millisecond})
	c := wsDial(t, app.Addr(), "/ws")
	c.subscribe("chat.gap", Position{})
	ctx := context.Background()
	var pos [6]Position
	for i := 1; i <= 5; i++ {
		if pos[i], err = store.Append(ctx, "chat.gap", append([]byte{storedText}, "m"+strconv.Itoa(i)...)); err != nil {
			t.Fatal(err)
		}
	}
	// As another node's publications arrive through the bus: 1, then 3
	// (2 lost), then 1 again (a duplicate), and 5 before 4.
	bus := func(i int) {
		hub.deliver(broker.Message{Topic: "chat.gap", Payload: []byte("m" + strconv.Itoa(i)), Position: pos[i]})
	}
	bus(1)
	bus(3)
	bus(1)
	bus(5)
	bus(4)
	for i := 1; i <= 5; i++ {
		c.expectPub("chat.gap", uint64(i), "m"+strconv.Itoa(i))
	}
	// 6 never comes through the bus.
	if _, err := store.Append(ctx, "chat.gap", append([]byte{storedText}, "m6"...)); err != nil {
		t.Fatal(err)
	}
	c.expectPub("chat.gap", 6, "m6")
}

// Start-up refuses a history it cannot run, naming the setting.
func TestHistoryConfigErrors(t *testing.T) {
	store, _ := broker.NewMemoryHistory(testHistory)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"store without rules", Config{HistoryStore: store}, "ws.Config.History has no rule"},
		{"bad rule", Config{History: broker.HistoryPolicies{{Pattern: "x"}}}, `rule 0 ("x") has Size 0`},
		{"broker without a history", Config{History: testHistory, Broker: broker.NewMemoryBus().Node()}, "set ws.Config.HistoryStore"},
		{"negative check", Config{History: testHistory, HistoryCheck: -1}, "HistoryCheck"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: wsQuietLogger()})
			app.Register(Extension(tc.cfg))
			Route(app, "/ws", Behavior[struct{}]{})
			err := app.Start(context.Background())
			if err == nil {
				app.Shutdown(context.Background())
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// A publish whose history append fails delivers nothing and says so.
func TestHistoryAppendFailure(t *testing.T) {
	store := failingHistory{}
	app, hub := historyApp(t, Config{HistoryStore: store})
	c := wsDial(t, app.Addr(), "/ws")
	c.writeFrame(wsTextFrame(`{"type":"subscribe","topic":"chat.f"}`))
	if m := c.readMsg(); m.Type != "error" || !strings.Contains(m.Error, "history down") {
		t.Fatalf("subscribe with the history down: %+v, want an error", m)
	}
	err := hub.Publish("chat.f", []byte("x"), OpText)
	if err == nil || !strings.Contains(err.Error(), "nothing was delivered") || errors.Is(err, ErrLocalOnly) {
		t.Fatalf("Publish = %v, want nothing delivered (not ErrLocalOnly)", err)
	}
}

type failingHistory struct{}

var errHistoryDown = errors.New("history down")

func (failingHistory) Append(context.Context, string, []byte) (Position, error) {
	return Position{}, errHistoryDown
}

func (failingHistory) Since(context.Context, string, Position, int) ([]broker.Publication, Position, error) {
	return nil, Position{}, errHistoryDown
}

func (failingHistory) Position(context.Context, string) (Position, error) {
	return Position{}, errHistoryDown
}
