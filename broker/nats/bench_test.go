package nats

import (
	"testing"

	"github.com/graftgo/graft/broker/brokertest"
)

// BenchmarkCrossNodeThroughput publishes b.N messages of 128 bytes on node
// A as fast as it can and waits until node B has delivered them all, or
// until deliveries stop for 500 ms, through an embedded server on loopback.
// msgs/s counts messages delivered on B; lost% is what B's queue dropped as
// a slow consumer (at-most-once: the publisher is not slowed down).
func BenchmarkCrossNodeThroughput(b *testing.B) { brokertest.BenchThroughput(b, natsBus, 1) }

// BenchmarkCrossNodeLatency publishes one message at a time on node A and
// waits for node B to deliver it; it reports the one-way publish-to-deliver
// latency percentiles (same process, same clock).
func BenchmarkCrossNodeLatency(b *testing.B) { brokertest.BenchLatency(b, natsBus) }

func BenchmarkSubject(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Subject("graft.ws", "room-42")
	}
}

// BenchmarkPresencePropagation: a subscription on node A seen in node B's
// NumClusterSubscribers, through embedded NATS.
func BenchmarkPresencePropagation(b *testing.B) { brokertest.BenchPresencePropagation(b, natsBus) }
