package brokertest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/brokertest"
)

// A bus module's conformance test: the harness says how to make a node of
// the bus, and Run goes through every case. The in-memory bus needs no
// server, so the cases that restart one skip.
func Example() {
	memoryBus := func(testing.TB) brokertest.Harness {
		bus := broker.NewMemoryBus()
		return brokertest.Harness{
			NewNode:     func(testing.TB) broker.Broker { return bus.Node() },
			Synchronous: true,
		}
	}
	// In a _test.go file of the bus module:
	//
	//	func TestBus(t *testing.T)    { brokertest.Run(t, memoryBus) }
	//	func TestAppBus(t *testing.T) { brokertest.RunApp(t, memoryBus) }
	_ = memoryBus
}

// A Recorder is a node's deliver function that keeps what it receives.
func ExampleRecorder() {
	ctx := context.Background()
	bus := broker.NewMemoryBus()
	a, b := bus.Node(), bus.Node()
	rec := brokertest.NewRecorder()
	_ = a.Start(ctx, func(broker.Message) {})
	_ = b.Start(ctx, rec.Deliver)
	defer a.Close()
	defer b.Close()
	_ = b.Subscribe("news")

	_ = a.Publish(ctx, broker.Message{Topic: "news", Payload: []byte("extra")})
	select {
	case m := <-rec.C:
		fmt.Printf("%s on %s\n", m.Payload, m.Topic)
	case <-time.After(5 * time.Second): // in a test: rec.Next(t)
		fmt.Println("nothing delivered within 5s")
	}
	// Output: extra on news
}
