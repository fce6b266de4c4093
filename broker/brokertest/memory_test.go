package brokertest

import (
	"testing"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/ws"
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

// memoryHistory runs the history cases against broker.MemoryHistory; its
// restart is a new MemoryHistory, as a restarted process would have.
func memoryHistory(t testing.TB, p broker.HistoryPolicies) HistoryHarness {
	newStore := func() *broker.MemoryHistory {
		h, err := broker.NewMemoryHistory(p)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	store := newStore()
	return HistoryHarness{
		New:     func(testing.TB) broker.History { return store },
		Restart: func(testing.TB) { store = newStore() },
	}
}

func TestMemoryHistory(t *testing.T) { RunHistory(t, memoryHistory) }

func BenchmarkMemoryHistoryAppend(b *testing.B) { BenchHistoryAppend(b, memoryHistory) }

func BenchmarkMemoryHistorySince1000(b *testing.B) { BenchHistorySince(b, memoryHistory) }

func TestPresenceOverMemoryBus(t *testing.T) { RunPresence(t, memoryBus) }

func BenchmarkPresencePropagationMemoryBus(b *testing.B) { BenchPresencePropagation(b, memoryBus) }

func BenchmarkMemoryAppRecovery1000(b *testing.B) {
	BenchAppRecovery(b, func(testing.TB) ws.Config { return ws.Config{} })
}
