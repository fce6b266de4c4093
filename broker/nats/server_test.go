package nats

import (
	"context"
	"io"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/brokertest"
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

// startNode starts a broker node connected to s.
func startNode(tb testing.TB, s *server.Server) (*Broker, *brokertest.Recorder) {
	tb.Helper()
	b, err := New(Options{URL: s.ClientURL(), Logger: quiet, ReconnectWait: 20 * time.Millisecond, MaxReconnectWait: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	r := brokertest.NewRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Start(ctx, r.Deliver); err != nil {
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

// natsBus starts an embedded nats-server for one test and describes it to
// the conformance tests of package brokertest.
func natsBus(t testing.TB) brokertest.Harness {
	s := runServer(t, -1)
	port := serverPort(s)
	return brokertest.Harness{
		NewNode: func(t testing.TB) broker.Broker {
			b, err := New(Options{URL: s.ClientURL(), Logger: quiet, ReconnectWait: 20 * time.Millisecond, MaxReconnectWait: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		// Subscriptions are flushed in the background: always wait.
		CheckSubs: func(t testing.TB, n broker.Broker, _ bool, topics ...string) {
			t.Helper()
			waitSubs(t, s, n.(*Broker), topics...)
		},
		Topic: "room 1.*.>", // spaces and NATS wildcards are just bytes
		// The nodes' own connections, so that the server relays the
		// junk before their next Publish.
		Inject: func(t testing.TB, via broker.Broker, topic string, data []byte) {
			t.Helper()
			b := via.(*Broker)
			subj, err := Subject(b.prefix, topic)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Conn().Publish(subj, data); err != nil {
				t.Fatal(err)
			}
		},
		StopBus: func(t testing.TB, nodes ...broker.Broker) {
			s.Shutdown()
			s.WaitForShutdown()
			for _, n := range nodes {
				brokertest.WaitFor(t, "disconnect", func() bool { return !n.(*Broker).Conn().IsConnected() })
			}
		},
		StartBus: func(t testing.TB, nodes ...broker.Broker) {
			s = runServer(t, port)
			for _, n := range nodes {
				brokertest.WaitFor(t, "reconnect", func() bool { return n.(*Broker).Conn().IsConnected() })
			}
		},
		// nats.go sent the subscriptions again on its one reconnect.
		AfterRestart: func(t testing.TB, nodes ...broker.Broker) {
			for _, n := range nodes {
				if rc := n.(*Broker).Conn().Stats().Reconnects; rc != 1 {
					t.Errorf("node %s: reconnects = %d, want 1", n.(*Broker).ID(), rc)
				}
			}
		},
		ConcurrentOps: 200,
	}
}

// TestConformance runs the cases every bus broker passes (two nodes,
// one subscription per topic, subscribe before Start, server restart,
// Close, malformed messages, concurrent use) against nats-server.
func TestConformance(t *testing.T) { brokertest.Run(t, natsBus) }

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
	if m := rb.Next(t); m.Topic != max {
		t.Fatal("topic mangled")
	}
}
