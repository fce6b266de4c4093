package nats

import (
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/brokertest"
	"github.com/graftgo/graft/ws"
)

// Two app nodes over an embedded nats-server with JetStream (file
// storage): a client on one node that reconnects after the server was
// shut down and started again mid-stream recovers every publication of
// the other node from JetStream, exactly once, in order.
func TestAppNodesRecoverOverNATS(t *testing.T) {
	dir := t.TempDir()
	s := jetStreamServer(t, -1, dir)
	port := serverPort(s)
	brokertest.RunAppRecovery(t, brokertest.Harness{
		NewNode: func(t testing.TB) broker.Broker {
			b, err := New(Options{URL: s.ClientURL(), Logger: quiet, ReconnectWait: 20 * time.Millisecond, MaxReconnectWait: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		},
		StopBus: func(t testing.TB, nodes ...broker.Broker) {
			s.Shutdown()
			s.WaitForShutdown()
			for _, n := range nodes {
				brokertest.WaitFor(t, "disconnect", func() bool { return !n.(*Broker).Conn().IsConnected() })
			}
		},
		StartBus: func(t testing.TB, nodes ...broker.Broker) {
			s = jetStreamServer(t, port, dir)
			for _, n := range nodes {
				brokertest.WaitFor(t, "reconnect", func() bool { return n.(*Broker).Conn().IsConnected() })
			}
		},
	})
}

// The broker's history needs its connection: before Start it says so.
func TestNewHistoryBeforeStart(t *testing.T) {
	b, err := New(Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.NewHistory(brokertest.RecoveryRules); err == nil || !strings.Contains(err.Error(), "before Start") {
		t.Fatalf("NewHistory before Start = %v, want an error saying so", err)
	}
}

// BenchmarkAppRecovery1000: a client recovering 1,000 missed
// publications from JetStream (file storage).
func BenchmarkAppRecovery1000(b *testing.B) {
	s := jetStreamServer(b, -1, b.TempDir())
	brokertest.BenchAppRecovery(b, func(tb testing.TB) ws.Config {
		n, err := New(Options{URL: s.ClientURL(), Logger: quiet})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { n.Close() })
		return ws.Config{Broker: n}
	})
}
