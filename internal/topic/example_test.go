package topic_test

import (
	"fmt"

	"github.com/graftgo/graft/internal/topic"
)

func Example() {
	var r topic.Registry[string] // subscribers identified by connection id

	if r.Subscribe("conn-1", "chat") {
		fmt.Println("first subscriber: subscribe to chat on the bus")
	}
	r.Subscribe("conn-2", "chat")

	// Conn.Publish: every subscriber but the publisher.
	for _, s := range r.Subscribers("chat") {
		if s != "conn-1" {
			fmt.Println("send to", s)
		}
	}

	r.Unsubscribe("conn-1", "chat")
	for _, t := range r.UnsubscribeAll("conn-2") { // conn-2 closed
		fmt.Println("last subscriber gone: leave", t, "on the bus")
	}
	// Output:
	// first subscriber: subscribe to chat on the bus
	// send to conn-2
	// last subscriber gone: leave chat on the bus
}
