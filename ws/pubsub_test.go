package ws

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/graftgo/graft/broker"

	"github.com/graftgo/graft"
)

// wsCommandRoute serves a tiny command protocol for pub/sub tests:
// "sub T", "unsub T", "pub T text" (Conn.Publish) and "echo text"; every
// command is acknowledged with "ok <command>" after it took effect.
func wsCommandRoute(app *graft.App[graft.Ctx], subs *subscriptionLog) {
	Route(app, "/ws", Behavior[struct{}]{
		Message: func(c *Conn[struct{}], data []byte, op OpCode) {
			cmd, arg, _ := strings.Cut(string(data), " ")
			switch cmd {
			case "sub":
				c.Subscribe(arg)
			case "unsub":
				c.Unsubscribe(arg)
			case "pub":
				topic, text, _ := strings.Cut(arg, " ")
				if err := c.Publish(topic, []byte(text), OpText); err != nil {
					panic(err)
				}
			case "topics":
				c.Send([]byte("topics "+strings.Join(c.Topics(), ",")), OpText, false)
				return
			}
			c.Send([]byte("ok "+string(data)), OpText, false)
		},
		Subscription: func(c *Conn[struct{}], topic string, newCount, oldCount int) {
			if subs != nil {
				subs.add(fmt.Sprintf("%s %d->%d", topic, oldCount, newCount))
			}
		},
	})
}

type subscriptionLog struct {
	mu  sync.Mutex
	log []string
}

func (l *subscriptionLog) add(s string) {
	l.mu.Lock()
	l.log = append(l.log, s)
	l.mu.Unlock()
}

func (l *subscriptionLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.log)
}

// do sends a command and waits for its acknowledgement, returning what
// arrived before it.
func (c *wsRawClient) do(cmd string) []string {
	c.t.Helper()
	c.writeFrame(wsTextFrame(cmd))
	var before []string
	for {
		f := c.next()
		if string(f.payload) == "ok "+cmd {
			return before
		}
		before = append(before, string(f.payload))
	}
}

func TestWSTopics(t *testing.T) {
	var subs subscriptionLog
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) { wsCommandRoute(app, &subs) })
	a := wsDial(t, app.Addr(), "/ws")
	b := wsDial(t, app.Addr(), "/ws")
	c := wsDial(t, app.Addr(), "/ws")
	a.do("sub room")
	b.do("sub room")
	b.do("sub other")
	if n := NumSubscribers(app, "room"); n != 2 {
		t.Fatalf("NumSubscribers(room) = %d", n)
	}
	b.writeFrame(wsTextFrame("topics"))
	b.expectMessage(1, []byte("topics other,room"))

	// Conn.Publish reaches the other subscribers, not the sender.
	if got := a.do("pub room hello"); len(got) != 0 {
		t.Fatalf("publisher got %q", got)
	}
	b.expectMessage(1, []byte("hello"))
	if got := c.do("echo"); len(got) != 0 {
		t.Fatalf("non-subscriber got %q", got)
	}
	// App.Publish reaches everyone subscribed.
	if err := HubOf(app).Publish("room", []byte{1, 2, 3}, OpBinary); err != nil {
		t.Fatal(err)
	}
	a.expectMessage(2, []byte{1, 2, 3})
	b.expectMessage(2, []byte{1, 2, 3})

	a.do("unsub room")
	HubOf(app).Publish("room", []byte("after"), OpText)
	b.expectMessage(1, []byte("after"))
	if got := a.do("echo"); len(got) != 0 {
		t.Fatalf("unsubscribed connection got %q", got)
	}

	// Closing unsubscribes.
	b.writeFrame(wsCloseFrame(1000, ""))
	b.expectClose(1000)
	wsWaitFor(t, "close", func() bool { return NumSubscribers(app, "room") == 0 && NumSubscribers(app, "other") == 0 })
	want := []string{"room 0->1", "room 1->2", "other 0->1", "room 2->1", "room 1->0", "other 1->0"}
	got := subs.get()
	slices.Sort(got[4:])
	slices.Sort(want[4:])
	if !slices.Equal(got, want) {
		t.Fatalf("subscription handler calls %q, want %q", got, want)
	}
}

// A publish frames the message once: allocations do not grow with the
// number of subscribers (up to publishInlineMax, which the publisher
// writes itself; past it, the subscribers' writer goroutines allocate
// their queues, but the frame is still the one built here).
func TestWSPublishFramesOnce(t *testing.T) {
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) { wsCommandRoute(app, nil) })
	var clients []*wsRawClient
	allocs := map[int]float64{}
	msg := []byte("a published message")
	for _, n := range []int{1, publishInlineMax} {
		for len(clients) < n {
			c := wsDial(t, app.Addr(), "/ws")
			c.do("sub t")
			clients = append(clients, c)
		}
		const runs = 20
		allocs[n] = testing.AllocsPerRun(runs, func() { HubOf(app).Publish("t", msg, OpText) })
		for _, c := range clients {
			for range runs + 1 {
				c.expectMessage(1, msg)
			}
		}
	}
	if allocs[publishInlineMax] > allocs[1] || allocs[1] > 2 {
		t.Fatalf("allocations per publish: %v", allocs)
	}
}

// Two app nodes on one in-memory bus act as one server.
func TestWSTwoNodes(t *testing.T) {
	bus := broker.NewMemoryBus()
	nodeA, nodeB := bus.Node(), bus.Node()
	appA := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		app.Register(Extension(Config{Broker: nodeA}))
		wsCommandRoute(app, nil)
	})
	appB := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		HubOf(app).SetBroker(nodeB)
		wsCommandRoute(app, nil)
	})
	a1 := wsDial(t, appA.Addr(), "/ws")
	a2 := wsDial(t, appA.Addr(), "/ws")
	b1 := wsDial(t, appB.Addr(), "/ws")
	a1.do("sub news")
	a2.do("sub news")
	b1.do("sub news")

	// Published on B: each client on A and B gets it once.
	if err := HubOf(appB).Publish("news", []byte("from B"), OpText); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsRawClient{a1, a2, b1} {
		c.expectMessage(1, []byte("from B"))
	}
	// A connection's publish on A reaches the other subscribers on both
	// nodes, not the publisher.
	a1.do("pub news from a1")
	a2.expectMessage(1, []byte("from a1"))
	b1.expectMessage(1, []byte("from a1"))
	for _, c := range []*wsRawClient{a1, a2, b1} {
		if got := c.do("echo"); len(got) != 0 {
			t.Fatalf("duplicate delivery: %q", got)
		}
	}
	// One bus subscription per topic per node, released with the last
	// local subscriber.
	st := nodeA.Stats()
	if st.Echoed != 0 {
		t.Fatalf("node A saw its own messages: %+v", st)
	}
	a1.do("unsub news")
	a2.do("unsub news")
	HubOf(appB).Publish("news", []byte("nobody on A"), OpText)
	b1.expectMessage(1, []byte("nobody on A"))
	if d := nodeA.Stats().Delivered; d != st.Delivered {
		t.Fatalf("node A still subscribed: delivered %d -> %d", st.Delivered, d)
	}
}
