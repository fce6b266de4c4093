package ws

import (
	"fmt"
	"testing"

	"github.com/graftgo/graft"
)

// BenchmarkPresenceSubscribe measures a Subscribe and Unsubscribe pair on
// a real connection, on a topic without and with presence (one node):
// presence adds the join and leave records and their numbered changes.
func BenchmarkPresenceSubscribe(b *testing.B) {
	for _, tc := range []struct {
		name     string
		presence []string
	}{{"off", nil}, {"on", []string{"room*"}}} {
		b.Run(tc.name, func(b *testing.B) {
			opened := make(chan *Conn[struct{}], 1)
			app := wsTestApp(b, graft.Config{}, func(app *graft.App[graft.Ctx]) {
				app.Register(Extension(Config{Presence: tc.presence}))
				Route(app, "/ws", Behavior[struct{}]{Open: func(c *Conn[struct{}]) { opened <- c }})
			})
			wsDial(b, app.Addr(), "/ws")
			c := wsRecv(b, opened, "the connection to open")
			c.Subscribe("room-other") // the topic is not the connection's only one
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				c.Subscribe("room")
				c.Unsubscribe("room")
			}
		})
	}
}

// BenchmarkPresenceLookup measures the cluster-wide count and the member
// list of a topic with n members, read from the node's replica.
func BenchmarkPresenceLookup(b *testing.B) {
	for _, n := range []int{10, 1000} {
		h := Extension(Config{})
		p, err := newPresence(h, &Config{Presence: []string{"*"}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		h.pres = p
		for i := range n {
			p.join("room", subKey{}, uint64(i+1), fmt.Sprint("user-", i), true, false)
		}
		b.Run(fmt.Sprintf("count/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if c, _ := h.NumClusterSubscribers("room"); c != n {
					b.Fatalf("count %d", c)
				}
			}
		})
		b.Run(fmt.Sprintf("list/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ms, _ := h.Presence("room"); len(ms) != n {
					b.Fatalf("list of %d", len(ms))
				}
			}
		})
	}
}
