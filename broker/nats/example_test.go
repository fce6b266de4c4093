package nats_test

import (
	"context"
	"log"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/nats"
)

// A node's broker: connect, subscribe when a topic gets its first local
// subscriber, publish what local connections publish. (It needs a running
// NATS server, so the example is compiled, not run.)
func Example() {
	b, err := nats.New(nats.Options{URL: "nats://127.0.0.1:4222", Prefix: "chat-app.ws"})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = b.Start(ctx, func(m broker.Message) {
		// Deliver m to this node's local subscribers of m.Topic.
		log.Printf("from another node on %q: %q", m.Topic, m.Payload)
	})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	b.Subscribe("room 1")
	b.Publish(ctx, broker.Message{Topic: "room 1", Payload: []byte("hello, cluster")})
}
