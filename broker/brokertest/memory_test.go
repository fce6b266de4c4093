package brokertest

import (
	"testing"

	"github.com/graftgo/graft/broker"
)

// memoryBus runs the conformance cases against broker.MemoryBus, the bus
// without a server: the cases that need one (restart, raw messages) skip.
func memoryBus(t testing.TB) Harness {
	bus := broker.NewMemoryBus()
	return Harness{
		NewNode:     func(testing.TB) broker.Broker { return bus.Node() },
		Synchronous: true,
	}
}

func TestMemoryBus(t *testing.T) { Run(t, memoryBus) }

func TestAppNodesOverMemoryBus(t *testing.T) { RunApp(t, memoryBus) }

func BenchmarkMemoryBusThroughput(b *testing.B) { BenchThroughput(b, memoryBus, 1) }

func BenchmarkMemoryBusLatency(b *testing.B) { BenchLatency(b, memoryBus) }
