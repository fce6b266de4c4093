package broker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/graftgo/graft/broker"
)

// Two apps in one process share a MemoryBus: what one node publishes reaches
// the other node's deliver function, never its own.
func Example() {
	ctx := context.Background()
	bus := broker.NewMemoryBus()

	a, b := bus.Node(), bus.Node()
	received := make(chan broker.Message)
	a.Start(ctx, func(m broker.Message) { fmt.Println("a got", string(m.Payload)) })
	b.Start(ctx, func(m broker.Message) { received <- m })
	defer a.Close()
	defer b.Close()

	a.Subscribe("chat") // each node's first local subscriber of "chat"
	b.Subscribe("chat")

	a.Publish(ctx, broker.Message{Topic: "chat", Payload: []byte("hello from a")})
	select {
	case m := <-received:
		fmt.Printf("b got %q on %s\n", m.Payload, m.Topic)
	case <-time.After(5 * time.Second):
		fmt.Println("b got nothing within 5s")
	}
	// Output: b got "hello from a" on chat
}

func ExampleDecodeEnvelope() {
	origin := broker.NewNodeID()
	wire := broker.AppendEnvelope(nil, origin, broker.Message{Topic: "room 1", Payload: []byte("hi")})

	from, m, err := broker.DecodeEnvelope(wire)
	fmt.Println(from == origin, m.Topic, string(m.Payload), m.Binary, err)

	_, _, err = broker.DecodeEnvelope([]byte("not an envelope, just text"))
	fmt.Println(err)
	// Output:
	// true room 1 hi false <nil>
	// broker: malformed envelope: bad magic byte 0x6e
}

// A client remembers the position of the last publication it saw and, on
// reconnecting, asks for what it missed.
func ExampleMemoryHistory() {
	ctx := context.Background()
	h, err := broker.NewMemoryHistory(broker.HistoryPolicies{
		{Pattern: "chat.*", HistoryPolicy: broker.HistoryPolicy{Size: 100, TTL: time.Hour}},
	})
	if err != nil {
		panic(err)
	}
	seen, _ := h.Position(ctx, "chat.lobby") // taken on subscribe
	h.Append(ctx, "chat.lobby", []byte("hello"))
	h.Append(ctx, "chat.lobby", []byte("world"))

	missed, top, err := h.Since(ctx, "chat.lobby", seen, 0)
	for _, p := range missed {
		fmt.Println(p.Offset, string(p.Data))
	}
	fmt.Println("now at", top.Offset, err)

	_, _, err = h.Since(ctx, "chat.lobby", broker.Position{Offset: 1, Epoch: "from-before-a-restart"}, 0)
	fmt.Println(errors.Is(err, broker.ErrUnrecoverable))
	// Output:
	// 1 hello
	// 2 world
	// now at 2 <nil>
	// true
}
