package brokertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
)

// Harness describes one running bus to the conformance tests. A setup
// function passed to [Run] starts a fresh bus for each case and returns
// its Harness; the bus is shut down when the case's test ends.
type Harness struct {
	// NewNode returns a new node on the bus, not started. Its broker must
	// implement [broker.StatsReporter] and have an ID() broker.NodeID
	// method. The tests close it before they end; NewNode may also
	// register a Close with t.Cleanup.
	NewNode func(t testing.TB) broker.Broker

	// CheckSubs fails t unless the server holds, for node n, one
	// subscription for each of topics and no other (nil topics: none).
	// With wait true it waits, up to several seconds, for the server to
	// agree; with wait false the broker has already had the server confirm
	// the change (see Synchronous), so it may check once. Nil skips the
	// checks, for buses without a server to ask.
	CheckSubs func(t testing.TB, n broker.Broker, wait bool, topics ...string)

	// Synchronous reports that Subscribe and Unsubscribe return only once
	// the server has confirmed the change, so that CheckSubs is called
	// with wait false right after them. Otherwise the tests always wait.
	Synchronous bool

	// Echoes reports that the server sends a node's own messages back to
	// it; the broker then drops and counts them as Stats.Echoed, and the
	// tests expect that count.
	Echoes bool

	// Topic is a topic of unusual bytes that must cross the bus unchanged;
	// empty means "room 1.*.>".
	Topic string

	// Inject publishes data on topic's bus subject or channel as a plain
	// client of the server would, without the broker's envelope. Where the
	// server orders messages per connection it must use via's connection,
	// so that data arrives before via's next Publish. Nil skips the case
	// for malformed messages.
	Inject func(t testing.TB, via broker.Broker, topic string, data []byte)

	// StopBus stops the server, as a crash would, and returns once every
	// one of nodes has noticed it is cut off. Nil skips the restart cases.
	StopBus func(t testing.TB, nodes ...broker.Broker)
	// StartBus starts the server again on the same address and returns
	// once every one of nodes can publish again. Required with StopBus.
	StartBus func(t testing.TB, nodes ...broker.Broker)
	// AfterRestart, if set, makes the bus's own checks on nodes once the
	// restart case has seen messages flow again.
	AfterRestart func(t testing.TB, nodes ...broker.Broker)

	// ConcurrentOps is how many subscribe-publish rounds each goroutine of
	// the concurrency case makes; zero means 100.
	ConcurrentOps int
	// Settled, if set, is called for every node at the end of the
	// concurrency case, to compare the server's view with the broker's.
	Settled func(t testing.TB, n broker.Broker)
}

// Run runs the conformance cases as subtests of t. setup starts a fresh
// bus for one case, stops it when that case's test ends, and returns the
// Harness for it.
func Run(t *testing.T, setup func(t testing.TB) Harness) {
	cases := []struct {
		name string
		run  func(*testing.T, Harness)
	}{
		{"TwoNodes", testTwoNodes},
		{"OneBusSubscriptionPerTopic", testOneBusSubscriptionPerTopic},
		{"SubscribeBeforeStart", testSubscribeBeforeStart},
		{"ServerRestart", testServerRestart},
		{"Close", testClose},
		{"MalformedOnBus", testMalformedOnBus},
		{"ConcurrentUse", testConcurrentUse},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, setup(t)) })
	}
}

// StartNode makes a node with h.NewNode and starts it, with a Recorder as
// its deliver function; the node is closed when t ends.
func StartNode(t testing.TB, h Harness) (broker.Broker, *Recorder) {
	t.Helper()
	n, r := newNode(t, h), NewRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Start(ctx, r.Deliver); err != nil {
		t.Fatal(err)
	}
	return n, r
}

func newNode(t testing.TB, h Harness) broker.Broker {
	t.Helper()
	n := h.NewNode(t)
	t.Cleanup(func() { n.Close() })
	return n
}

func (h Harness) checkSubs(t testing.TB, n broker.Broker, topics ...string) {
	t.Helper()
	if h.CheckSubs != nil {
		h.CheckSubs(t, n, !h.Synchronous, topics...)
	}
}

func (h Harness) waitSubs(t testing.TB, n broker.Broker, topics ...string) {
	t.Helper()
	if h.CheckSubs != nil {
		h.CheckSubs(t, n, true, topics...)
	}
}

func stats(t testing.TB, n broker.Broker) broker.Stats {
	t.Helper()
	sr, ok := n.(broker.StatsReporter)
	if !ok {
		t.Fatalf("%T does not implement broker.StatsReporter", n)
	}
	return sr.Stats()
}

func nodeID(t testing.TB, n broker.Broker) broker.NodeID {
	t.Helper()
	idr, ok := n.(interface{ ID() broker.NodeID })
	if !ok {
		t.Fatalf("%T has no ID method", n)
	}
	return idr.ID()
}

func testTwoNodes(t *testing.T, h Harness) {
	a, ra := StartNode(t, h)
	b, rb := StartNode(t, h)
	topic := h.Topic
	if topic == "" {
		topic = "room 1.*.>"
	}
	for _, n := range []broker.Broker{a, b} {
		if err := n.Subscribe(topic); err != nil {
			t.Fatal(err)
		}
		h.checkSubs(t, n, topic)
	}
	ctx := t.Context()
	if err := a.Publish(ctx, broker.Message{Topic: topic, Payload: []byte("from a"), Binary: true}); err != nil {
		t.Fatal(err)
	}
	if m := rb.Next(t); string(m.Payload) != "from a" || m.Topic != topic || !m.Binary {
		t.Fatalf("b got %+v", m)
	}
	if err := b.Publish(ctx, broker.Message{Topic: topic, Payload: []byte("from b")}); err != nil {
		t.Fatal(err)
	}
	if m := ra.Next(t); string(m.Payload) != "from b" || m.Binary {
		t.Fatalf("a got %+v", m)
	}
	// Exactly once, and never back to the publisher: where the server
	// echoes, the origin id filters it.
	ra.None(t, 100*time.Millisecond)
	rb.None(t, 0)
	want := broker.Stats{Published: 1, Delivered: 1}
	if h.Echoes {
		want.Echoed = 1
	}
	for name, n := range map[string]broker.Broker{"a": a, "b": b} {
		if st := stats(t, n); st != want {
			t.Errorf("%s: stats %+v, want %+v", name, st, want)
		}
	}
}

func testOneBusSubscriptionPerTopic(t *testing.T, h Harness) {
	a, _ := StartNode(t, h)
	for range 3 {
		for _, tp := range []string{"x", "y", ""} {
			if err := a.Subscribe(tp); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.checkSubs(t, a, "x", "y", "")
	a.Unsubscribe("y")
	a.Unsubscribe("y")
	a.Unsubscribe("never")
	h.checkSubs(t, a, "x", "")
	a.Unsubscribe("x")
	a.Unsubscribe("")
	h.checkSubs(t, a)
}

func testSubscribeBeforeStart(t *testing.T, h Harness) {
	a, _ := StartNode(t, h)
	b := newNode(t, h)
	b.Subscribe("early")
	b.Subscribe("early")
	if err := b.Publish(t.Context(), broker.Message{Topic: "early"}); err != broker.ErrNotStarted {
		t.Fatalf("Publish before Start: %v", err)
	}
	rb := NewRecorder()
	if err := b.Start(t.Context(), rb.Deliver); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context(), rb.Deliver); err != broker.ErrStarted {
		t.Fatalf("second Start: %v", err)
	}
	h.checkSubs(t, b, "early")
	a.Publish(t.Context(), broker.Message{Topic: "early", Payload: []byte("hi")})
	if m := rb.Next(t); string(m.Payload) != "hi" {
		t.Fatalf("got %q", m.Payload)
	}
}

// testServerRestart stops the server mid-test and starts it again on the
// same address: both nodes reconnect, subscribe to their topics again
// (including those changed while the bus was down), and messages flow
// again, each exactly once.
func testServerRestart(t *testing.T, h Harness) {
	if h.StopBus == nil {
		t.Skip("the harness cannot restart the bus")
	}
	a, _ := StartNode(t, h)
	b, rb := StartNode(t, h)
	b.Subscribe("t")
	h.checkSubs(t, b, "t")
	a.Publish(t.Context(), broker.Message{Topic: "t", Payload: []byte("before")})
	if m := rb.Next(t); string(m.Payload) != "before" {
		t.Fatalf("got %q", m.Payload)
	}

	h.StopBus(t, a, b)
	// Recorded while down, subscribed on reconnect.
	if err := b.Subscribe("while down"); err != nil {
		t.Fatalf("Subscribe while the bus is down: %v", err)
	}
	b.Unsubscribe("t")
	b.Subscribe("t")

	h.StartBus(t, a, b)
	h.waitSubs(t, b, "t", "while down")
	for _, tp := range []string{"t", "while down"} {
		if err := a.Publish(t.Context(), broker.Message{Topic: tp, Payload: []byte("after " + tp)}); err != nil {
			t.Fatal(err)
		}
		if m := rb.Next(t); string(m.Payload) != "after "+tp {
			t.Fatalf("got %q", m.Payload)
		}
	}
	rb.None(t, 50*time.Millisecond)
	if h.AfterRestart != nil {
		h.AfterRestart(t, a, b)
	}
}

func testClose(t *testing.T, h Harness) {
	a, _ := StartNode(t, h)
	b, rb := StartNode(t, h)
	b.Subscribe("t")
	h.checkSubs(t, b, "t")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	h.waitSubs(t, b) // the server dropped the node's subscriptions
	a.Publish(t.Context(), broker.Message{Topic: "t"})
	rb.None(t, 50*time.Millisecond)
	for name, err := range map[string]error{
		"Subscribe":   b.Subscribe("t"),
		"Unsubscribe": b.Unsubscribe("t"),
		"Publish":     b.Publish(t.Context(), broker.Message{Topic: "t"}),
		"Start":       b.Start(t.Context(), rb.Deliver),
	} {
		if err != broker.ErrClosed {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// testMalformedOnBus sends garbage on a topic's subject or channel with a
// plain client: the node drops it, counts it, and keeps working.
func testMalformedOnBus(t *testing.T, h Harness) {
	if h.Inject == nil {
		t.Skip("the harness cannot publish raw bus messages")
	}
	a, ra := StartNode(t, h)
	b, _ := StartNode(t, h)
	a.Subscribe("t")
	h.checkSubs(t, a, "t")
	for _, junk := range [][]byte{nil, []byte("x"), []byte("G\x01\x00 too short"), []byte("G\x09" + string(make([]byte, 40)))} {
		h.Inject(t, b, "t", junk)
	}
	// A well-formed envelope claiming to come from a itself is an echo.
	h.Inject(t, b, "t", broker.AppendEnvelope(nil, nodeID(t, a), broker.Message{Topic: "t"}))
	b.Publish(t.Context(), broker.Message{Topic: "t", Payload: []byte("good")})
	if m := ra.Next(t); string(m.Payload) != "good" {
		t.Fatalf("got %q", m.Payload)
	}
	if st := stats(t, a); st.Malformed != 4 || st.Echoed != 1 || st.Delivered != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func testConcurrentUse(t *testing.T, h Harness) {
	ops := h.ConcurrentOps
	if ops <= 0 {
		ops = 100
	}
	a, _ := StartNode(t, h)
	b, _ := StartNode(t, h)
	var wg sync.WaitGroup
	for i, n := range []broker.Broker{a, b} {
		for g := range 4 {
			wg.Go(func() {
				for j := range ops {
					tp := fmt.Sprint(j % 5)
					n.Subscribe(tp)
					n.Publish(t.Context(), broker.Message{Topic: tp, Payload: []byte{byte(i), byte(g)}})
					if j%3 == 0 {
						n.Unsubscribe(tp)
					}
					stats(t, n)
				}
			})
		}
	}
	wg.Wait()
	for _, n := range []broker.Broker{a, b} {
		if st := stats(t, n); st.Malformed != 0 || (!h.Echoes && st.Echoed != 0) {
			t.Errorf("stats %+v", st)
		}
		if h.Settled != nil {
			h.Settled(t, n)
		}
	}
}

// Recorder collects what a node's deliver function receives.
type Recorder struct {
	// C receives every delivered message; it holds 1024 before Deliver
	// blocks.
	C chan broker.Message
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{C: make(chan broker.Message, 1024)} }

// Deliver is the node's deliver function.
func (r *Recorder) Deliver(m broker.Message) { r.C <- m }

// Next returns the next delivered message, failing t if none arrives
// within 5 s.
func (r *Recorder) Next(t testing.TB) broker.Message {
	t.Helper()
	select {
	case m := <-r.C:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return broker.Message{}
	}
}

// None fails t if a message is delivered within d.
func (r *Recorder) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-r.C:
		t.Fatalf("unexpected message %q on %q", m.Payload, m.Topic)
	case <-time.After(d):
	}
}

// WaitFor polls cond every 5 ms until it holds, failing t with "no what
// within 10s" if it does not.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("no %s within 10s", what)
}
