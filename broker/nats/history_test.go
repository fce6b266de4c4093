package nats

import (
	"errors"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/brokertest"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jetStreamServer is an embedded nats-server with JetStream, storing in
// dir, on port (-1: a free one); it is shut down when the test ends.
func jetStreamServer(tb testing.TB, port int, dir string) *server.Server {
	tb.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats-server with JetStream not ready within 10s")
	}
	tb.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

func connect(tb testing.TB, s *server.Server) *natsgo.Conn {
	tb.Helper()
	nc, err := natsgo.Connect(s.ClientURL(), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(20*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// jetStreamHistory returns the setup of the history cases with storage:
// a restart shuts the server down and starts it again on the same port
// and store directory, so file storage keeps history and memory storage
// loses it.
func jetStreamHistory(storage jetstream.StorageType) func(testing.TB, broker.HistoryPolicies) brokertest.HistoryHarness {
	return func(t testing.TB, p broker.HistoryPolicies) brokertest.HistoryHarness {
		dir := t.TempDir()
		s := jetStreamServer(t, -1, dir)
		return brokertest.HistoryHarness{
			New: func(t testing.TB) broker.History {
				h, err := NewHistory(connect(t, s), HistoryOptions{Policies: p, Storage: storage})
				if err != nil {
					t.Fatal(err)
				}
				return h
			},
			Restart: func(t testing.TB) {
				port := serverPort(s)
				s.Shutdown()
				s.WaitForShutdown()
				s = jetStreamServer(t, port, dir)
			},
			Durable: storage == jetstream.FileStorage,
		}
	}
}

func TestHistoryFileStorage(t *testing.T) {
	brokertest.RunHistory(t, jetStreamHistory(jetstream.FileStorage))
}

func TestHistoryMemoryStorage(t *testing.T) {
	brokertest.RunHistory(t, jetStreamHistory(jetstream.MemoryStorage))
}

func BenchmarkHistoryAppendFile(b *testing.B) {
	brokertest.BenchHistoryAppend(b, jetStreamHistory(jetstream.FileStorage))
}

func BenchmarkHistorySince1000File(b *testing.B) {
	brokertest.BenchHistorySince(b, jetStreamHistory(jetstream.FileStorage))
}

func BenchmarkHistoryAppendMemory(b *testing.B) {
	brokertest.BenchHistoryAppend(b, jetStreamHistory(jetstream.MemoryStorage))
}

func BenchmarkHistorySince1000Memory(b *testing.B) {
	brokertest.BenchHistorySince(b, jetStreamHistory(jetstream.MemoryStorage))
}

func TestNewHistoryRejects(t *testing.T) {
	if _, err := NewHistory(nil, HistoryOptions{Policies: brokertest.HistoryPolicies}); err == nil {
		t.Error("NewHistory(nil conn) succeeded")
	}
	s := jetStreamServer(t, -1, t.TempDir())
	nc := connect(t, s)
	if _, err := NewHistory(nc, HistoryOptions{}); err == nil {
		t.Error("NewHistory without policies succeeded")
	}
	if _, err := NewHistory(nc, HistoryOptions{Policies: brokertest.HistoryPolicies, Prefix: "a.*"}); err == nil {
		t.Error("NewHistory with a wildcard prefix succeeded")
	}
}

// A stream deleted behind a History's back (an operator, a restart with
// memory storage) is created again on the next Append, with a new epoch:
// the old position is refused, the new offsets start at 1.
func TestHistoryStreamRecreated(t *testing.T) {
	s := jetStreamServer(t, -1, t.TempDir())
	nc := connect(t, s)
	h, err := NewHistory(nc, HistoryOptions{Policies: brokertest.HistoryPolicies})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	p1, err := h.Append(ctx, "h.x", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if err := js.DeleteStream(ctx, h.StreamName("h.x")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond) // creation times are what tell the epochs apart
	p2, err := h.Append(ctx, "h.x", []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	if p2.Offset != 1 || p2.Epoch == p1.Epoch {
		t.Fatalf("append after the stream was deleted = %+v, want offset 1 and an epoch other than %s", p2, p1.Epoch)
	}
	if _, _, err := h.Since(ctx, "h.x", p1, 0); !errors.Is(err, broker.ErrUnrecoverable) {
		t.Fatalf("Since(old position) = %v, want ErrUnrecoverable", err)
	}
	pubs, _, err := h.Since(ctx, "h.x", broker.Position{Epoch: p2.Epoch}, 0)
	if err != nil || len(pubs) != 1 || string(pubs[0].Data) != "b" {
		t.Fatalf("Since(new epoch) = %+v, %v; want only the new publication", pubs, err)
	}
}
