package redis

import (
	"strconv"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/brokertest"
)

// Two graft app nodes on two ports share a redis-server: what is published
// on one reaches the WebSocket clients of the other exactly once, and the
// bus restarting mid-test is survived.
func TestAppNodesOverRedis(t *testing.T) { brokertest.RunApp(t, redisBus) }

// Cross-node figures through Redis: messages/s from app A's Publish to a
// WebSocket client of app B, and the latency one message adds.
func TestAppNodesOverRedisFigures(t *testing.T) { brokertest.AppFigures(t, "Redis", redisBus) }

// An app whose Redis is down at boot fails to start within --broker-wait,
// saying which server it waited for, instead of hanging without a listener
// or a log line.
func TestAppBrokerDown(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	b, err := New(Options{Addr: addr, Logger: quiet, ReconnectWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// rueidis's failed dials sleep out a retry delay; see
	// TestStartFailsWithoutServer.
	t.Cleanup(func() { waitGone(t, "rueidis.(*call).DelayDo") })
	brokertest.AppBrokerDown(t, b, "redis://"+addr)
}

// Redis killed and restarted under two app nodes: publishes reach the
// local subscribers and report ws.ErrLocalOnly, publishing clients stay
// connected, and a topic subscribed during the outage works afterwards.
func TestAppNodesOverRedisOutage(t *testing.T) { brokertest.RunAppOutage(t, redisBus) }

// With --broker-optional an app whose Redis is down at boot starts anyway,
// publishing locally, and joins the cluster once Redis is up.
func TestAppBrokerLate(t *testing.T) {
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	t.Cleanup(func() { waitGone(t, "rueidis.(*call).DelayDo") })
	newNode := func(t testing.TB) broker.Broker {
		b, err := New(Options{Addr: addr, Logger: quiet, ReconnectWait: 20 * time.Millisecond, MaxReconnectWait: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	brokertest.AppBrokerLate(t, newNode, func(t testing.TB) { startRedis(t, port) }, "redis://"+addr)
}

// Cluster-wide presence over a real redis-server: joins and leaves across
// nodes, a late node, a node shut down, a node gone without a word, the
// server restarted.
func TestPresenceOverRedis(t *testing.T) { brokertest.RunPresence(t, redisBus) }
