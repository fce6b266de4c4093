package ws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/ws"
)

// A room topic with a history: a client that reconnects with the epoch
// and offset of the last publication it saw gets what it missed, then
// the live ones (the protocol graft-ws.js speaks; conn.SubscribeFrom is
// the Go side of it).
func ExampleBehavior_clientSubscribe() {
	hub := ws.Extension(ws.Config{History: broker.HistoryPolicies{
		{Pattern: "room.*", HistoryPolicy: broker.HistoryPolicy{Size: 100, TTL: time.Hour}},
	}})
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: slog.New(slog.DiscardHandler)})
	app.Register(hub)
	ws.Route(app, "/chat", ws.Behavior[Session]{
		ClientSubscribe: func(conn *ws.Conn[Session], topic string) error { return nil }, // anyone, any room
	})
	if err := app.Start(context.Background()); err != nil {
		panic(err)
	}
	ln, _ := app.Listen()
	go app.Serve(ln)
	type msg struct {
		Type      string
		Epoch     string
		Offset    uint64
		Text      string
		Recovered *bool
		Missed    int
	}
	next := func(c *exampleClient) (m msg) {
		json.Unmarshal([]byte(c.next()), &m)
		return m
	}

	ann := dialExample(ln.Addr().String(), "ann")
	ann.conn.WriteString(`{"type":"subscribe","topic":"room.1"}`)
	m := next(ann)
	fmt.Println(m.Type, "at offset", m.Offset)
	hub.Publish("room.1", []byte("hi"), ws.OpText)
	m = next(ann)
	fmt.Println(m.Type, m.Offset, m.Text)
	seen := m // what a client keeps: the epoch and offset of the last pub

	ann.conn.NetConn().Close() // ann drops off; the room goes on
	ann.wait()
	hub.Publish("room.1", []byte("where is ann?"), ws.OpText)
	hub.Publish("room.1", []byte("gone, it seems"), ws.OpText)

	ann = dialExample(ln.Addr().String(), "ann")
	ann.conn.WriteString(fmt.Sprintf(`{"type":"subscribe","topic":"room.1","epoch":%q,"offset":%d}`, seen.Epoch, seen.Offset))
	m = next(ann)
	fmt.Println(m.Type, "recovered:", *m.Recovered, "missed:", m.Missed)
	for range m.Missed {
		m = next(ann)
		fmt.Println(m.Type, m.Offset, m.Text)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	app.Shutdown(ctx)
	ann.wait()
	// Output:
	// subscribed at offset 0
	// pub 1 hi
	// subscribed recovered: true missed: 2
	// pub 2 where is ann?
	// pub 3 gone, it seems
}
