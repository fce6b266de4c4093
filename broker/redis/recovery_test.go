package redis

import (
	"strings"
	"testing"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/brokertest"
	"github.com/graftgo/graft/ws"
)

// Two app nodes over a real redis-server with an append-only file: a
// client on one node that reconnects after Redis was killed and
// restarted mid-stream recovers every publication of the other node
// from Redis Streams, exactly once, in order.
func TestAppNodesRecoverOverRedis(t *testing.T) {
	dir := t.TempDir()
	s := startRedisDurable(t, 0, dir)
	// every node publishes (probe == nil) or none does
	all := func(nodes []broker.Broker, up bool) func() bool {
		return func() bool {
			for _, n := range nodes {
				if (n.Publish(t.Context(), broker.Message{Topic: "probe"}) == nil) != up {
					return false
				}
			}
			return true
		}
	}
	brokertest.RunAppRecovery(t, brokertest.Harness{
		NewNode: func(t testing.TB) broker.Broker { return newNode(t, s) },
		StopBus: func(t testing.TB, nodes ...broker.Broker) {
			s.Kill()
			brokertest.WaitFor(t, "the nodes to see Redis down", all(nodes, false))
		},
		StartBus: func(t testing.TB, nodes ...broker.Broker) {
			s = startRedisDurable(t, s.Port, dir)
			brokertest.WaitFor(t, "the nodes to publish again", all(nodes, true))
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
// publications from Redis Streams (no persistence).
func BenchmarkAppRecovery1000(b *testing.B) {
	s := startRedis(b, 0)
	brokertest.BenchAppRecovery(b, func(tb testing.TB) ws.Config { return ws.Config{Broker: newNode(tb, s)} })
}
