package nats

import (
	"net"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/brokertest"
)

// Two graft app nodes on two ports share an embedded nats-server: what is
// published on one reaches the WebSocket clients of the other exactly once,
// and the bus restarting mid-test is survived.
func TestAppNodesOverNATS(t *testing.T) { brokertest.RunApp(t, natsBus) }

// Cross-node figures through embedded NATS: messages/s from app A's Publish
// to a WebSocket client of app B, and the latency one message adds.
func TestAppNodesOverNATSFigures(t *testing.T) { brokertest.AppFigures(t, "NATS", natsBus) }

// An app whose NATS server is down at boot fails to start within
// --broker-wait, saying which server it waited for, instead of hanging
// without a listener or a log line.
func TestAppBrokerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + l.Addr().String()
	l.Close() // nothing listens there now
	b, err := New(Options{URL: url, Logger: quiet, ReconnectWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	brokertest.AppBrokerDown(t, b, url)
}

// String hides credentials.
func TestStringRedacts(t *testing.T) {
	b, err := New(Options{URL: "nats://u:secret@a:4222, nats://tok@b:4222,nats://c:4222"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "nats://u:redacted@a:4222,nats://redacted@b:4222,nats://c:4222"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

// The embedded nats-server shut down and restarted under two app nodes:
// as for Redis, though NATS buffers publishes while reconnecting.
func TestAppNodesOverNATSOutage(t *testing.T) { brokertest.RunAppOutage(t, natsBus) }

// With --broker-optional an app whose NATS server is down at boot starts
// anyway, publishing locally, and joins the cluster once the server is up.
func TestAppBrokerLate(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	url := "nats://" + l.Addr().String()
	newNode := func(t testing.TB) broker.Broker {
		b, err := New(Options{URL: url, Logger: quiet, ReconnectWait: 20 * time.Millisecond, MaxReconnectWait: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	brokertest.AppBrokerLate(t, newNode, func(t testing.TB) { runServer(t, port) }, url)
}

// Cluster-wide presence over an embedded nats-server: joins and leaves
// across nodes, a late node, a node shut down, a node gone without a
// word, the server restarted.
func TestPresenceOverNATS(t *testing.T) { brokertest.RunPresence(t, natsBus) }
