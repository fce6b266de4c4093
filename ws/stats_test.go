package ws

import (
	"bytes"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// Messages dropped under backpressure leave a trace: the Dropped handler
// runs for each (from Send and from publishes), and the connection's and
// the app's counters add up what was sent, backpressured and dropped.
func TestWSDroppedHandlerAndStats(t *testing.T) {
	type drop struct {
		id   uint64
		data string
		op   OpCode
	}
	conns := make(chan *Conn[struct{}], 2)
	drops := make(chan drop, 4)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/ws", Behavior[struct{}]{
			MaxBackpressure: 64 << 10,
			Open:            func(c *Conn[struct{}]) { conns <- c },
			Dropped: func(c *Conn[struct{}], data []byte, op OpCode) {
				drops <- drop{c.ID(), string(data), op}
			},
		})
	})
	slow := wsDial(t, app.Addr(), "/ws") // does not read for now
	conn := wsRecv(t, conns, "the Open handler")
	conn.Subscribe("news")

	msg := bytes.Repeat([]byte("x"), 16<<10)
	const frame = 16<<10 + 4 // 2-byte header and 2-byte length
	var want Stats
	for {
		st := conn.Send(msg, OpBinary, false)
		if st == SendDropped {
			want.DroppedMessages++
			want.DroppedBytes += frame
			break
		}
		want.SentMessages++
		want.SentBytes += frame
		if st == SendBackpressure {
			want.BackpressuredMessages++
			want.BackpressuredBytes += frame
		}
	}
	if d := wsRecv(t, drops, "Dropped after Send"); d != (drop{conn.ID(), string(msg), OpBinary}) {
		t.Fatalf("Dropped got conn %d, %d bytes, %v", d.id, len(d.data), d.op)
	}
	// A publish the connection is too slow for is dropped for it alone.
	fast := wsDial(t, app.Addr(), "/ws")
	fastConn := wsRecv(t, conns, "the second Open handler")
	fastConn.Subscribe("news")
	if err := HubOf(app).Publish("news", []byte("headline"), OpText); err != nil {
		t.Fatal(err)
	}
	fast.expectMessage(1, []byte("headline"))
	if d := wsRecv(t, drops, "Dropped after Publish"); d != (drop{conn.ID(), "headline", OpText}) {
		t.Fatalf("Dropped got %+v", d)
	}
	want.DroppedMessages++
	want.DroppedBytes += uint64(2 + len("headline"))
	if got := conn.Stats(); got != want {
		t.Fatalf("slow connection's stats\n got %+v\nwant %+v", got, want)
	}
	fastWant := Stats{SentMessages: 1, SentBytes: uint64(2 + len("headline"))}
	if got := fastConn.Stats(); got != fastWant {
		t.Fatalf("fast connection's stats %+v, want %+v", got, fastWant)
	}
	appWant := want
	appWant.add(fastWant)
	if got := HubOf(app).Stats(); got != appWant {
		t.Fatalf("app stats\n got %+v\nwant %+v", got, appWant)
	}

	// The slow client reads everything; nothing was dropped that Send
	// accepted. Closed connections still count for the app.
	for i := uint64(0); i < want.SentMessages; i++ {
		f, err := slow.readFrame(5 * time.Second)
		if err != nil || f.op != 2 || len(f.payload) != len(msg) {
			t.Fatalf("message %d: op %d, %d bytes, %v", i, f.op, len(f.payload), err)
		}
	}
	slow.writeFrame(wsCloseFrame(1000, ""))
	slow.expectClose(1000)
	wsWaitFor(t, "the slow connection to close", func() bool { return HubOf(app).NumConns() == 1 })
	if got := HubOf(app).Stats(); got != appWant {
		t.Fatalf("app stats after a close\n got %+v\nwant %+v", got, appWant)
	}
	select {
	case d := <-drops:
		t.Fatalf("unexpected Dropped call %+v", d)
	default:
	}
}
