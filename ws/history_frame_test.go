package ws

import (
	"fmt"
	"strconv"
	"testing"
)

// TestHistoryFrame checks Config.HistoryFrame: live and recovered
// publications of a history topic arrive in the app's own message, built
// with their position, and the subscribed reply is unchanged.
func TestHistoryFrame(t *testing.T) {
	var calls int
	app, hub := historyApp(t, Config{HistoryFrame: func(dst []byte, topic string, pos Position, data []byte, op OpCode) []byte {
		calls++
		return fmt.Appendf(dst, "%s@%d/%s:%s", topic, pos.Offset, pos.Epoch, data)
	}})
	c := wsDial(t, app.Addr(), "/ws")
	sub := c.subscribe("chat.f", Position{})
	for i := 1; i <= 2; i++ {
		mustPublish(t, hub, "chat.f", "m"+strconv.Itoa(i), OpText)
		c.expectMessage(1, []byte(fmt.Sprintf("chat.f@%d/%s:m%d", i, sub.Epoch, i)))
	}
	c.conn.Close()
	wsWaitFor(t, "the connection to leave", func() bool { return hub.NumSubscribers("chat.f") == 0 })
	mustPublish(t, hub, "chat.f", "m3", OpText)
	c = wsDial(t, app.Addr(), "/ws")
	rec := c.subscribe("chat.f", Position{Offset: 2, Epoch: sub.Epoch})
	if rec.Recovered == nil || !*rec.Recovered || rec.Missed != 1 {
		t.Fatalf("recovering subscribe = %+v, want 1 recovered", rec)
	}
	c.expectMessage(1, []byte(fmt.Sprintf("chat.f@3/%s:m3", sub.Epoch)))
	if calls < 3 {
		t.Errorf("HistoryFrame called %d times, want at least 3", calls)
	}
}
