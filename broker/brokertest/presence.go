package brokertest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/ws"
)

// presenceTTL is the nodes' ws.Config.PresenceTTL in RunPresence's cases
// where a node goes away without a word: short, so that the case is
// quick; the others use an hour, so that only the messages between the
// nodes can explain what they see.
const presenceTTL = 600 * time.Millisecond

// RunPresence checks cluster-wide presence (ws.Config.Presence) on app
// nodes sharing the bus through brokers made by h.NewNode: a
// subscription on one node is seen by the others (Presence,
// NumClusterSubscribers) and reaches their watchers as a join, a leave
// as a leave; a node started later learns who is already there; a node
// that shuts down takes its subscribers with it at once; a node that
// goes away without a word (its broker closed under it, as a crash or a
// partition looks to the others) is dropped after the TTL; and, if the
// bus can be restarted, a subscription made while it was down reaches
// the other nodes once it is back. setup is as for [Run].
func RunPresence(t *testing.T, setup func(t testing.TB) Harness) {
	t.Run("JoinLeave", func(t *testing.T) { testPresenceJoinLeave(t, setup(t)) })
	t.Run("LateNode", func(t *testing.T) { testPresenceLateNode(t, setup(t)) })
	t.Run("Shutdown", func(t *testing.T) { testPresenceShutdown(t, setup(t)) })
	t.Run("NodeGone", func(t *testing.T) { testPresenceNodeGone(t, setup(t)) })
	t.Run("BusRestart", func(t *testing.T) { testPresenceBusRestart(t, setup(t)) })
}

// presenceNode is an app node whose /ws route takes "NAME TOPIC" or
// "NAME TOPIC watch" messages: it sets the connection's presence info to
// NAME and subscribes it to TOPIC, answering "ready", or watches TOPIC,
// answering "members NAMES" (sorted); "leave TOPIC" unsubscribes,
// without an answer. Each presence event is sent as "join NAME" or
// "leave NAME".
type presenceNode struct {
	app    *graft.App[graft.Ctx]
	addr   string
	broker broker.Broker
	stop   func()
}

func startPresenceNode(t testing.TB, h Harness, ttl time.Duration) *presenceNode {
	t.Helper()
	node := h.NewNode(t)
	cfg := graft.Config{Logger: appQuiet, Host: "127.0.0.1", Port: -1}
	app := graft.New(cfg)
	app.Register(ws.Extension(ws.Config{Broker: node, Presence: []string{"room*"}, PresenceTTL: ttl}))
	ws.Route(app, "/ws", ws.Behavior[struct{}]{
		Upgrade: func(c *graft.Ctx) (struct{}, error) { return struct{}{}, nil },
		Message: func(c *ws.Conn[struct{}], data []byte, op ws.OpCode) {
			name, topic, _ := strings.Cut(string(data), " ")
			if name == "leave" {
				c.Unsubscribe(topic)
				return
			}
			topic, watch := strings.CutSuffix(topic, " watch")
			if err := c.SetPresenceInfo(name); err != nil {
				c.Close(ws.StatusInternalError, err.Error())
				return
			}
			if !watch {
				c.Subscribe(topic)
				c.Send([]byte("ready"), ws.OpText, false)
				return
			}
			ms, err := c.SubscribePresence(topic)
			if err != nil {
				c.Close(ws.StatusInternalError, err.Error())
				return
			}
			c.Send([]byte("members "+presenceNames(ms)), ws.OpText, false)
		},
		Presence: func(c *ws.Conn[struct{}], ev ws.PresenceEvent) {
			c.Send([]byte(ev.Kind.String()+" "+ev.Member.Info), ws.OpText, false)
		},
	})
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
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Shutdown(ctx)
		select {
		case <-errc:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s of Shutdown")
		}
	}
	t.Cleanup(stop)
	return &presenceNode{app: app, addr: ln.Addr().String(), broker: node, stop: stop}
}

func presenceNames(ms []ws.Presence) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Info)
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

// join connects a client to n as name on topic (watching it with watch)
// and waits for its answer.
func (n *presenceNode) join(t testing.TB, name, topic string, watch bool, want string) *wsClient {
	t.Helper()
	c := dialWS(t, n.addr, "/ws")
	msg := name + " " + topic
	if watch {
		msg += " watch"
	}
	c.send(t, msg)
	c.expect(t, want)
	return c
}

// waitPresence waits until n's view of topic is exactly names (sorted,
// comma-separated), and checks that the count agrees.
func (n *presenceNode) waitPresence(t testing.TB, topic, names string) {
	t.Helper()
	hub := ws.HubOf(n.app)
	WaitFor(t, fmt.Sprintf("node %s to see exactly %q on %s", n.addr, names, topic), func() bool {
		ms, err := hub.Presence(topic)
		return err == nil && presenceNames(ms) == names
	})
	want := 0
	if names != "" {
		want = strings.Count(names, ",") + 1
	}
	if c, err := hub.NumClusterSubscribers(topic); err != nil || c != want {
		t.Fatalf("NumClusterSubscribers(%s) = %d, %v with %q present", topic, c, err, names)
	}
}

func testPresenceJoinLeave(t *testing.T, h Harness) {
	a := startPresenceNode(t, h, time.Hour)
	b := startPresenceNode(t, h, time.Hour)
	alice := a.join(t, "alice", "room", true, "members alice")
	b.waitPresence(t, "room", "alice")

	bob := b.join(t, "bob", "room", true, "members alice,bob")
	alice.expect(t, "join bob")
	a.waitPresence(t, "room", "alice,bob")
	carol := b.join(t, "carol", "room", false, "ready") // subscribes, does not watch
	alice.expect(t, "join carol")
	bob.expect(t, "join carol")
	a.waitPresence(t, "room", "alice,bob,carol")

	// Each member is on its own node, and the local counts are local.
	ms, err := ws.HubOf(a.app).Presence("room")
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]broker.NodeID{}
	for _, m := range ms {
		nodes[m.Info] = m.Node
	}
	if nodes["alice"] != ws.HubOf(a.app).NodeID() || nodes["bob"] != ws.HubOf(b.app).NodeID() || nodes["carol"] != nodes["bob"] || nodes["alice"] == nodes["bob"] {
		t.Fatalf("members' nodes %v; a is %s, b is %s", nodes, ws.HubOf(a.app).NodeID(), ws.HubOf(b.app).NodeID())
	}
	if na, nb := ws.NumSubscribers(a.app, "room"), ws.NumSubscribers(b.app, "room"); na != 1 || nb != 2 {
		t.Fatalf("local NumSubscribers a %d, b %d; want 1 and 2", na, nb)
	}

	carol.conn.Close()
	alice.expect(t, "leave carol")
	bob.expect(t, "leave carol")
	bob.conn.Close()
	alice.expect(t, "leave bob")
	a.waitPresence(t, "room", "alice")
	b.waitPresence(t, "room", "alice")
	// Another topic is another set.
	dave := b.join(t, "dave", "room2", true, "members dave")
	a.waitPresence(t, "room2", "dave")
	alice.conn.Close()
	b.waitPresence(t, "room", "")
	dave.send(t, "dave room3 watch") // no event for room reached dave: this answer comes first
	dave.expect(t, "members dave")
}

func testPresenceLateNode(t *testing.T, h Harness) {
	a := startPresenceNode(t, h, time.Hour)
	a.join(t, "alice", "room", false, "ready")
	a.join(t, "bob", "room", false, "ready")
	// Enough members for a snapshot of several parts (32 KiB each).
	for i := range 40 {
		a.join(t, fmt.Sprintf("user-%d-%s", i, strings.Repeat("x", 1000)), "room.big", false, "ready")
	}
	b := startPresenceNode(t, h, time.Hour)
	b.waitPresence(t, "room", "alice,bob")
	c := b.join(t, "carol", "room", true, "members alice,bob,carol")
	a.waitPresence(t, "room", "alice,bob,carol")
	WaitFor(t, "the late node to learn room.big's 40 members", func() bool {
		n, err := ws.NumClusterSubscribers(b.app, "room.big")
		return err == nil && n == 40
	})
	a.join(t, "dave", "room", false, "ready")
	c.expect(t, "join dave")
}

func testPresenceShutdown(t *testing.T, h Harness) {
	a := startPresenceNode(t, h, time.Hour)
	b := startPresenceNode(t, h, time.Hour)
	alice := a.join(t, "alice", "room", true, "members alice")
	b.waitPresence(t, "room", "alice")
	b.join(t, "bob", "room", false, "ready")
	alice.expect(t, "join bob")
	b.stop() // with an hour's TTL, only b's own messages can remove bob
	alice.expect(t, "leave bob")
	a.waitPresence(t, "room", "alice")
}

func testPresenceNodeGone(t *testing.T, h Harness) {
	a := startPresenceNode(t, h, presenceTTL)
	b := startPresenceNode(t, h, presenceTTL)
	alice := a.join(t, "alice", "room", true, "members alice")
	b.waitPresence(t, "room", "alice")
	b.join(t, "bob", "room", false, "ready")
	alice.expect(t, "join bob")
	// b's broker goes: no leave, no bye, no heartbeat from b any more.
	if err := b.broker.Close(); err != nil {
		t.Fatal(err)
	}
	alice.expect(t, "leave bob")
	a.waitPresence(t, "room", "alice")
	// a stays in step with the nodes that are still there.
	c := startPresenceNode(t, h, presenceTTL)
	c.join(t, "carol", "room", false, "ready")
	alice.expect(t, "join carol")
	a.waitPresence(t, "room", "alice,carol")
}

func testPresenceBusRestart(t *testing.T, h Harness) {
	if h.StopBus == nil {
		t.Skip("the bus cannot be stopped")
	}
	// Heartbeats (a quarter of the TTL) are what tell a that it missed
	// changes; b may expire on a meanwhile, which changes nothing here.
	a := startPresenceNode(t, h, presenceTTL)
	b := startPresenceNode(t, h, presenceTTL)
	alice := a.join(t, "alice", "room", true, "members alice")
	b.waitPresence(t, "room", "alice")
	h.StopBus(t, a.broker, b.broker)
	// While the bus is down b's changes cannot reach a (NATS buffers
	// them; Redis loses them).
	b.join(t, "bob", "room", false, "ready")
	h.StartBus(t, a.broker, b.broker)
	alice.expect(t, "join bob")
	a.waitPresence(t, "room", "alice,bob")
	b.waitPresence(t, "room", "alice,bob")
}

// BenchPresencePropagation measures how long a subscription made on one
// node takes to reach a watcher on another as a join (and its
// unsubscription as a leave): a client of node A subscribes and
// unsubscribes, a client of node B watching the topic gets the events.
// ns/change is one such change, from A's client's message to B's
// client's event. In "first" the client is A's only subscriber of the
// topic, so each change also subscribes or unsubscribes A on the bus; in
// "more" another client of A keeps the topic subscribed.
func BenchPresencePropagation(b *testing.B, setup func(t testing.TB) Harness) {
	for _, keep := range []bool{false, true} {
		name := "first"
		if keep {
			name = "more"
		}
		b.Run(name, func(b *testing.B) {
			h := setup(b)
			na := startPresenceNode(b, h, time.Hour)
			nb := startPresenceNode(b, h, time.Hour)
			c := na.join(b, "bench", "room-other", false, "ready")
			members := "members watcher"
			if keep {
				na.join(b, "keeper", "room", false, "ready")
				nb.waitPresence(b, "room", "keeper")
				members = "members keeper,watcher"
			}
			w := nb.join(b, "watcher", "room", true, members)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				c.send(b, "bench room")
				w.expect(b, "join bench")
				c.send(b, "leave room")
				w.expect(b, "leave bench")
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/change")
		})
	}
}
