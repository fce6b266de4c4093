package nats

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/nats-io/nats-server/v2/server"
)

// runServer starts an embedded nats-server on 127.0.0.1:port (port -1: a
// free one) and shuts it down when the test ends.
func runServer(tb testing.TB, port int) *server.Server {
	tb.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats-server not ready within 10s")
	}
	tb.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

func serverPort(s *server.Server) int { return s.Addr().(*net.TCPAddr).Port }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder collects what a node's deliver function receives.
type recorder struct{ ch chan broker.Message }

func newRecorder() *recorder { return &recorder{ch: make(chan broker.Message, 1024)} }

func (r *recorder) deliver(m broker.Message) { r.ch <- m }

func (r *recorder) next(tb testing.TB) broker.Message {
	tb.Helper()
	select {
	case m := <-r.ch:
		return m
	case <-time.After(5 * time.Second):
		tb.Fatal("no message within 5s")
		return broker.Message{}
	}
}

func (r *recorder) none(tb testing.TB, d time.Duration) {
	tb.Helper()
	select {
	case m := <-r.ch:
		tb.Fatalf("unexpected message %q on %q", m.Payload, m.Topic)
	case <-time.After(d):
	}
}

// startNode starts a broker node connected to s.
func startNode(tb testing.TB, s *server.Server) (*Broker, *recorder) {
	tb.Helper()
	b, err := New(Options{URL: s.ClientURL(), Logger: quiet, ReconnectWait: 20 * time.Millisecond, MaxReconnectWait: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	r := newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Start(ctx, r.deliver); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b, r
}

// serverSubs returns the subjects the server holds for each connection, by
// connection name.
func serverSubs(tb testing.TB, s *server.Server) map[string][]string {
	tb.Helper()
	cz, err := s.Connz(&server.ConnzOptions{Subscriptions: true})
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]string{}
	for _, c := range cz.Conns {
		subs := slices.Clone(c.Subs)
		slices.Sort(subs)
		out[c.Name] = subs
	}
	return out
}

// waitSubs waits until the server holds exactly the subjects of topics for
// node b, one subscription each.
func waitSubs(tb testing.TB, s *server.Server, b *Broker, topics ...string) {
	tb.Helper()
	var want []string
	for _, t := range topics {
		subj, err := Subject(b.prefix, t)
		if err != nil {
			tb.Fatal(err)
		}
		want = append(want, subj)
	}
	slices.Sort(want)
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		got = serverSubs(tb, s)[b.opts.Name]
		if slices.Equal(got, want) {
			return
		}
	}
	tb.Fatalf("server holds %q for node %s, want %q", got, b.ID(), want)
}

func TestTwoNodes(t *testing.T) {
	s := runServer(t, -1)
	a, ra := startNode(t, s)
	b, rb := startNode(t, s)
	const topic = "room 1.*.>" // spaces and NATS wildcards are just bytes
	for _, n := range []*Broker{a, b} {
		if err := n.Subscribe(topic); err != nil {
			t.Fatal(err)
		}
		waitSubs(t, s, n, topic)
	}
	ctx := t.Context()
	if err := a.Publish(ctx, broker.Message{Topic: topic, Payload: []byte("from a"), Binary: true}); err != nil {
		t.Fatal(err)
	}
	if m := rb.next(t); string(m.Payload) != "from a" || m.Topic != topic || !m.Binary {
		t.Fatalf("b got %+v", m)
	}
	if err := b.Publish(ctx, broker.Message{Topic: topic, Payload: []byte("from b")}); err != nil {
		t.Fatal(err)
	}
	if m := ra.next(t); string(m.Payload) != "from b" || m.Binary {
		t.Fatalf("a got %+v", m)
	}
	// Exactly once, and never back to the publisher.
	ra.none(t, 100*time.Millisecond)
	rb.none(t, 0)
	for name, n := range map[string]*Broker{"a": a, "b": b} {
		if st := n.Stats(); st != (broker.Stats{Published: 1, Delivered: 1}) {
			t.Errorf("%s: stats %+v", name, st)
		}
	}
}

func TestOneBusSubscriptionPerTopic(t *testing.T) {
	s := runServer(t, -1)
	a, _ := startNode(t, s)
	for range 3 {
		for _, tp := range []string{"x", "y", ""} {
			if err := a.Subscribe(tp); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitSubs(t, s, a, "x", "y", "")
	a.Unsubscribe("y")
	a.Unsubscribe("y")
	a.Unsubscribe("never")
	waitSubs(t, s, a, "x", "")
	a.Unsubscribe("x")
	a.Unsubscribe("")
	waitSubs(t, s, a)
}

func TestSubscribeBeforeStart(t *testing.T) {
	s := runServer(t, -1)
	a, _ := startNode(t, s)
	b, err := New(Options{URL: s.ClientURL(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Subscribe("early")
	b.Subscribe("early")
	if err := b.Publish(t.Context(), broker.Message{Topic: "early"}); err != broker.ErrNotStarted {
		t.Fatalf("Publish before Start: %v", err)
	}
	rb := newRecorder()
	if err := b.Start(t.Context(), rb.deliver); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context(), rb.deliver); err != broker.ErrStarted {
		t.Fatalf("second Start: %v", err)
	}
	waitSubs(t, s, b, "early")
	a.Publish(t.Context(), broker.Message{Topic: "early", Payload: []byte("hi")})
	if m := rb.next(t); string(m.Payload) != "hi" {
		t.Fatalf("got %q", m.Payload)
	}
}

// TestServerRestart shuts the server down mid-test and starts a new one on
// the same port: both nodes reconnect, nats.go sends their subscriptions
// again, and messages flow again.
func TestServerRestart(t *testing.T) {
	s := runServer(t, -1)
	port := serverPort(s)
	a, _ := startNode(t, s)
	b, rb := startNode(t, s)
	b.Subscribe("t")
	waitSubs(t, s, b, "t")
	a.Publish(t.Context(), broker.Message{Topic: "t", Payload: []byte("before")})
	if m := rb.next(t); string(m.Payload) != "before" {
		t.Fatalf("got %q", m.Payload)
	}

	s.Shutdown()
	s.WaitForShutdown()
	for _, n := range []*Broker{a, b} {
		waitFor(t, "disconnect", func() bool { return !n.Conn().IsConnected() })
	}
	// Subscribing while disconnected is recorded and sent on reconnect.
	b.Subscribe("while down")

	s2 := runServer(t, port)
	for _, n := range []*Broker{a, b} {
		waitFor(t, "reconnect", func() bool { return n.Conn().IsConnected() })
	}
	waitSubs(t, s2, b, "t", "while down")
	for _, tp := range []string{"t", "while down"} {
		if err := a.Publish(t.Context(), broker.Message{Topic: tp, Payload: []byte("after " + tp)}); err != nil {
			t.Fatal(err)
		}
		if m := rb.next(t); string(m.Payload) != "after "+tp {
			t.Fatalf("got %q", m.Payload)
		}
	}
	if rc := b.Conn().Stats().Reconnects; rc != 1 {
		t.Errorf("reconnects = %d, want 1", rc)
	}
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	tb.Fatalf("no %s within 10s", what)
}

func TestStartFailsWithoutServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	b, err := New(Options{URL: "nats://" + addr, Logger: quiet, ReconnectWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := b.Start(ctx, func(broker.Message) {}); err == nil {
		t.Fatal("Start succeeded without a server")
	}
	// A failed Start may be retried, here against a real server.
	s := runServer(t, -1)
	b.opts.URL = s.ClientURL()
	if err := b.Start(t.Context(), func(broker.Message) {}); err != nil {
		t.Fatalf("Start after a failed Start: %v", err)
	}
}

func TestClose(t *testing.T) {
	s := runServer(t, -1)
	a, _ := startNode(t, s)
	b, rb := startNode(t, s)
	b.Subscribe("t")
	waitSubs(t, s, b, "t")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	a.Publish(t.Context(), broker.Message{Topic: "t"})
	rb.none(t, 50*time.Millisecond)
	for name, err := range map[string]error{
		"Subscribe":   b.Subscribe("t"),
		"Unsubscribe": b.Unsubscribe("t"),
		"Publish":     b.Publish(t.Context(), broker.Message{Topic: "t"}),
		"Start":       b.Start(t.Context(), rb.deliver),
	} {
		if err != broker.ErrClosed {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// TestMalformedOnBus sends garbage on a topic's subject with a plain NATS
// client: the node drops it, counts it, and keeps working.
func TestMalformedOnBus(t *testing.T) {
	s := runServer(t, -1)
	a, ra := startNode(t, s)
	b, _ := startNode(t, s)
	a.Subscribe("t")
	waitSubs(t, s, a, "t")
	subj, _ := Subject(a.prefix, "t")
	nc := b.Conn()
	for _, junk := range [][]byte{nil, []byte("x"), []byte("G\x01\x00 too short"), []byte("G\x09" + string(make([]byte, 40)))} {
		if err := nc.Publish(subj, junk); err != nil {
			t.Fatal(err)
		}
	}
	// A well-formed envelope claiming to come from a itself is an echo.
	nc.Publish(subj, broker.AppendEnvelope(nil, a.ID(), broker.Message{Topic: "t"}))
	b.Publish(t.Context(), broker.Message{Topic: "t", Payload: []byte("good")})
	if m := ra.next(t); string(m.Payload) != "good" {
		t.Fatalf("got %q", m.Payload)
	}
	if st := a.Stats(); st.Malformed != 4 || st.Echoed != 1 || st.Delivered != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTopicTooLong(t *testing.T) {
	s := runServer(t, -1)
	a, _ := startNode(t, s)
	long := string(make([]byte, MaxTopicLen+1))
	if err := a.Subscribe(long); err == nil {
		t.Error("Subscribe accepted a topic over MaxTopicLen")
	}
	if err := a.Publish(t.Context(), broker.Message{Topic: long}); err == nil {
		t.Error("Publish accepted a topic over MaxTopicLen")
	}
	// The longest topic allowed goes through the server.
	b, rb := startNode(t, s)
	max := string(make([]byte, MaxTopicLen))
	b.Subscribe(max)
	waitSubs(t, s, b, max)
	a.Publish(t.Context(), broker.Message{Topic: max, Payload: []byte("ok")})
	if m := rb.next(t); m.Topic != max {
		t.Fatal("topic mangled")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := runServer(t, -1)
	a, _ := startNode(t, s)
	b, _ := startNode(t, s)
	var wg sync.WaitGroup
	for i, n := range []*Broker{a, b} {
		for g := range 4 {
			wg.Go(func() {
				for j := range 200 {
					tp := fmt.Sprint(j % 5)
					n.Subscribe(tp)
					n.Publish(t.Context(), broker.Message{Topic: tp, Payload: []byte{byte(i), byte(g)}})
					if j%3 == 0 {
						n.Unsubscribe(tp)
					}
					n.Stats()
				}
			})
		}
	}
	wg.Wait()
	for _, n := range []*Broker{a, b} {
		if st := n.Stats(); st.Echoed != 0 || st.Malformed != 0 {
			t.Errorf("stats %+v", st)
		}
	}
}
