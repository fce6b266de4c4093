package redis

import (
	"testing"

	"github.com/graftgo/graft/broker/brokertest"
)

// Two graft app nodes on two ports share a redis-server: what is published
// on one reaches the WebSocket clients of the other exactly once, and the
// bus restarting mid-test is survived.
func TestAppNodesOverRedis(t *testing.T) { brokertest.RunApp(t, redisBus) }

// Cross-node figures through Redis: messages/s from app A's Publish to a
// WebSocket client of app B, and the latency one message adds.
func TestAppNodesOverRedisFigures(t *testing.T) { brokertest.AppFigures(t, "Redis", redisBus) }
