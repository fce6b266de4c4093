package brokertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/ws"
)

// RecoveryRules are the history rules of [RunAppRecovery]'s nodes.
var RecoveryRules = broker.HistoryPolicies{
	{Pattern: "room.*", HistoryPolicy: broker.HistoryPolicy{Size: 100000}},
}

// RunAppRecovery checks history recovery across two app nodes whose
// brokers come from h.NewNode and must be broker.HistoryProviders on a
// server that keeps its data across h.StopBus and h.StartBus (Redis with
// AOF, JetStream with file storage). A publisher on node A publishes
// numbered messages on a history topic without a pause; a client on node
// B receives some, disconnects; the bus is killed and restarted while the
// publisher goes on (retrying what the history refused); the client
// reconnects to B with its last position and must end with every message
// exactly once, in order, with consecutive offsets.
func RunAppRecovery(t *testing.T, h Harness) {
	if h.StopBus == nil {
		t.Fatal("RunAppRecovery needs a bus that can be stopped")
	}
	const total = 600
	const topic = "room.lobby"
	na, nb := h.NewNode(t), h.NewNode(t)
	a, _ := serveRecoveryNode(t, na)
	_, addrB := serveRecoveryNode(t, nb)
	hist, err := na.(broker.HistoryProvider).NewHistory(RecoveryRules)
	if err != nil {
		t.Fatal(err)
	}

	c := dialWS(t, addrB, "/ws")
	sub := c.subscribe(t, topic, nil)
	pos := broker.Position{Offset: sub.Offset, Epoch: sub.Epoch}
	var got []string

	var published atomic.Int64
	pubErr := make(chan error, 1)
	go func() {
		for i := 1; i <= total; i++ {
			if err := publishOnce(a, hist, topic, "m"+strconv.Itoa(i)); err != nil {
				pubErr <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			published.Store(int64(i))
			time.Sleep(time.Millisecond)
		}
		pubErr <- nil
	}()

	// Some arrive live; then the client goes away.
	for len(got) < total/6 {
		m := c.pub(t, topic)
		got, pos = c.take(t, got, pos, m)
	}
	c.conn.Close()

	// The bus dies mid-stream and comes back.
	WaitFor(t, "a third of the messages published", func() bool { return published.Load() >= total/3 })
	h.StopBus(t, na, nb)
	time.Sleep(100 * time.Millisecond)
	h.StartBus(t, na, nb)

	c = dialWS(t, addrB, "/ws")
	rec := c.subscribe(t, topic, &pos)
	if rec.Recovered == nil || !*rec.Recovered {
		t.Fatalf("reconnecting from %+v: %+v, want recovered", pos, rec)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < total {
		if time.Now().After(deadline) {
			t.Fatalf("after 60s the client has %d of %d messages (last %+v)", len(got), total, pos)
		}
		m := c.pub(t, topic)
		got, pos = c.take(t, got, pos, m)
	}
	if err := <-pubErr; err != nil {
		t.Fatal(err)
	}
	for i, m := range got {
		if want := "m" + strconv.Itoa(i+1); m != want {
			t.Fatalf("message %d is %q, want %q", i+1, m, want)
		}
	}
	// Nothing more: no duplicate after the last one.
	if s, err := c.read(300 * time.Millisecond); err == nil {
		t.Fatalf("after all %d messages the client got %s", total, s)
	}
}

// publishOnce publishes msg until the history has it exactly once: after
// a refused publish it asks the history, once it answers again, whether
// the publication made it after all (a reply lost in the crash) before
// trying again.
func publishOnce(app *graft.App[graft.Ctx], hist broker.History, topic, msg string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ws.Publish(app, topic, []byte(msg), ws.OpText)
		if err == nil || errors.Is(err, ws.ErrLocalOnly) {
			return nil // appended; a bus error only cost the live delivery
		}
		for {
			if time.Now().After(deadline) {
				return fmt.Errorf("not published within 30s: %w", err)
			}
			if last, ok := lastPublication(hist, topic); ok {
				if last == msg {
					return nil
				}
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// lastPublication returns the payload of topic's newest publication, as
// the hub stored it (one opcode byte first); ok is false while the
// history does not answer.
func lastPublication(hist broker.History, topic string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	top, err := hist.Position(ctx, topic)
	if err != nil {
		return "", false
	}
	if top.Offset == 0 {
		return "", true
	}
	pubs, _, err := hist.Since(ctx, topic, broker.Position{Offset: top.Offset - 1, Epoch: top.Epoch}, 1)
	if err != nil || len(pubs) != 1 || len(pubs[0].Data) == 0 {
		return "", false
	}
	return string(pubs[0].Data[1:]), true
}

// serveRecoveryNode serves /ws with the client protocol on a node with
// RecoveryRules and a short HistoryCheck.
func serveRecoveryNode(t testing.TB, node broker.Broker) (*graft.App[graft.Ctx], string) {
	t.Helper()
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: appQuiet})
	app.Register(ws.Extension(ws.Config{Broker: node, History: RecoveryRules, HistoryCheck: 100 * time.Millisecond}))
	ws.Route(app, "/ws", ws.Behavior[struct{}]{
		ClientSubscribe: func(*ws.Conn[struct{}], string) error { return nil },
	})
	return startServing(t, app)
}

// protoMsg is a message of the ws client protocol.
type protoMsg struct {
	Type      string  `json:"type"`
	Topic     string  `json:"topic"`
	Epoch     string  `json:"epoch"`
	Offset    uint64  `json:"offset"`
	Text      *string `json:"text"`
	Recovered *bool   `json:"recovered"`
	Reason    string  `json:"reason"`
	Error     string  `json:"error"`
}

func (c *wsClient) msg(t testing.TB) protoMsg {
	t.Helper()
	s, err := c.read(10 * time.Second)
	if err != nil {
		t.Fatalf("waiting 10s for a protocol message: %v", err)
	}
	var m protoMsg
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("protocol message %q: %v", s, err)
	}
	return m
}

// subscribe subscribes to topic, from *from if set, and returns the
// "subscribed" reply. An "error" reply (the history did not answer: a
// server just restarted) is retried for up to 10s, as a client would.
func (c *wsClient) subscribe(t testing.TB, topic string, from *broker.Position) protoMsg {
	t.Helper()
	req := map[string]any{"type": "subscribe", "topic": topic}
	if from != nil {
		req["epoch"], req["offset"] = from.Epoch, from.Offset
	}
	b, _ := json.Marshal(req)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.send(t, string(b))
		m := c.msg(t)
		if m.Type == "error" && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if m.Type != "subscribed" || m.Topic != topic {
			t.Fatalf("subscribe %s: got %+v", topic, m)
		}
		return m
	}
}

// pub reads the next message, which must be a text "pub" of topic.
func (c *wsClient) pub(t testing.TB, topic string) protoMsg {
	t.Helper()
	m := c.msg(t)
	if m.Type != "pub" || m.Topic != topic || m.Text == nil {
		t.Fatalf("got %+v, want a text pub on %s", m, topic)
	}
	return m
}

// take checks that m follows pos (same epoch, next offset) and adds its
// text to got. A gap (a later offset of the same epoch) is what a node
// delivers when it could not read the missing publications from the
// history (the bus and the history were down when it tried): the client
// then does what graft-ws.js does, it subscribes again from pos and
// recovers them. A duplicate or another epoch fails the test.
func (c *wsClient) take(t testing.TB, got []string, pos broker.Position, m protoMsg) ([]string, broker.Position) {
	t.Helper()
	if m.Epoch == pos.Epoch && m.Offset > pos.Offset+1 {
		c.resubscribe(t, m.Topic, pos)
		return got, pos
	}
	if m.Epoch != pos.Epoch || m.Offset != pos.Offset+1 {
		t.Fatalf("after %+v (%d messages) got offset %d epoch %s: a duplicate or another epoch", pos, len(got), m.Offset, m.Epoch)
	}
	return append(got, *m.Text), broker.Position{Offset: m.Offset, Epoch: m.Epoch}
}

// resubscribe subscribes again from pos after a gap, passing over the
// publications still in flight before the "subscribed" reply (the ones
// after it continue from pos).
func (c *wsClient) resubscribe(t testing.TB, topic string, pos broker.Position) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "subscribe", "topic": topic, "epoch": pos.Epoch, "offset": pos.Offset})
	c.send(t, string(b))
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		m := c.msg(t)
		switch m.Type {
		case "pub":
			continue
		case "subscribed":
			if m.Recovered == nil || !*m.Recovered {
				t.Fatalf("resubscribing from %+v after a gap: %+v, want recovered", pos, m)
			}
			return
		case "error":
			time.Sleep(50 * time.Millisecond)
			c.send(t, string(b))
		default:
			t.Fatalf("resubscribing from %+v: got %+v", pos, m)
		}
	}
	t.Fatalf("resubscribing from %+v: no subscribed reply within 10s", pos)
}

// BenchAppRecovery measures the recovery of 1,000 missed publications:
// one app node with the WebSocket config cfg returns (its History
// covering RecoveryRules), 1,000 publications of 64 bytes on a history
// topic, and one client connection that, per op, subscribes from before
// them, reads the "subscribed" reply and all 1,000, then unsubscribes:
// ns/op is the latency of a reconnecting client's recovery, request to
// last message.
func BenchAppRecovery(b *testing.B, cfg func(tb testing.TB) ws.Config) {
	const missed = 1000
	const topic = "room.bench"
	wcfg := cfg(b)
	wcfg.History = RecoveryRules
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: appQuiet})
	app.Register(ws.Extension(wcfg))
	ws.Route(app, "/ws", ws.Behavior[struct{}]{
		ClientSubscribe: func(*ws.Conn[struct{}], string) error { return nil },
	})
	app, addr := startServing(b, app)
	c := dialWS(b, addr, "/ws")
	start := c.subscribe(b, topic, nil)
	from := broker.Position{Offset: start.Offset, Epoch: start.Epoch}
	c.send(b, `{"type":"unsubscribe","topic":"`+topic+`"}`)
	if m := c.msg(b); m.Type != "unsubscribed" {
		b.Fatalf("got %+v, want unsubscribed", m)
	}
	payload := []byte(`"` + string(make64()) + `"`)
	for range missed {
		if err := ws.Publish(app, topic, payload, ws.OpText); err != nil {
			b.Fatal(err)
		}
	}
	req, _ := json.Marshal(map[string]any{"type": "subscribe", "topic": topic, "epoch": from.Epoch, "offset": from.Offset})
	b.ResetTimer()
	for range b.N {
		c.send(b, string(req))
		if m := c.msg(b); m.Type != "subscribed" || m.Recovered == nil || !*m.Recovered {
			b.Fatalf("got %+v, want subscribed, recovered", m)
		}
		for i := range missed {
			if _, err := c.read(10 * time.Second); err != nil {
				b.Fatalf("publication %d of %d: %v", i+1, missed, err)
			}
		}
		b.StopTimer()
		c.send(b, `{"type":"unsubscribe","topic":"`+topic+`"}`)
		if m := c.msg(b); m.Type != "unsubscribed" {
			b.Fatalf("got %+v, want unsubscribed", m)
		}
		b.StartTimer()
	}
}

func make64() []byte {
	b := make([]byte, 62)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}
