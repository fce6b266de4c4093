package nats_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/broker/nats"
	natsgo "github.com/nats-io/nats.go"
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

// A History in JetStream, shared by every node on the same NATS account.
// (It needs a running nats-server with JetStream, so the example is
// compiled, not run.)
func ExampleHistory() {
	nc, err := natsgo.Connect("nats://127.0.0.1:4222")
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	h, err := nats.NewHistory(nc, nats.HistoryOptions{Policies: broker.HistoryPolicies{
		{Pattern: "chat.*", HistoryPolicy: broker.HistoryPolicy{Size: 1000, TTL: 10 * time.Minute}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	seen, _ := h.Position(ctx, "chat.lobby")
	h.Append(ctx, "chat.lobby", []byte("hello"))
	missed, top, err := h.Since(ctx, "chat.lobby", seen, 0)
	if errors.Is(err, broker.ErrUnrecoverable) {
		log.Printf("reload, then continue from %+v", top)
	}
	log.Printf("%d missed", len(missed))
}
