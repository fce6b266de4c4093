package nats

import (
	"testing"

	"github.com/graftgo/graft/broker/brokertest"
)

// Two graft app nodes on two ports share an embedded nats-server: what is
// published on one reaches the WebSocket clients of the other exactly once,
// and the bus restarting mid-test is survived.
func TestAppNodesOverNATS(t *testing.T) { brokertest.RunApp(t, natsBus) }

// Cross-node figures through embedded NATS: messages/s from app A's Publish
// to a WebSocket client of app B, and the latency one message adds.
func TestAppNodesOverNATSFigures(t *testing.T) { brokertest.AppFigures(t, "NATS", natsBus) }
