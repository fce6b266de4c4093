package openapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/openapi"
	"github.com/graftgo/graft/ws"
)

// Chat is what the example's clients send and receive.
type Chat struct {
	Text string `json:"text" required:"true" example:"hi"`
}

// A WebSocket route declares its messages on its Behavior; the AsyncAPI
// document at /asyncapi.json is built from them at start-up.
func Example_asyncAPI() {
	app := graft.New(graft.Config{})
	app.Register(openapi.Extension(openapi.Info{Title: "Chat", Version: "1.0.0"}))
	ws.Route(app, "/chat", ws.Behavior[struct{}]{
		Receives: []ws.Message{ws.MessageOf[Chat]("chat")},
		Sends:    []ws.Message{ws.MessageOf[Chat]("chat")},
		Topics:   []ws.Topic{{Pattern: "room"}},
		Message: func(conn *ws.Conn[struct{}], data []byte, op ws.OpCode) {
			conn.Publish("room", data, op)
		},
	})
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())
	res, err := srv.Client().Get(srv.URL + "/asyncapi.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var d struct {
		AsyncAPI   string
		Channels   map[string]struct{ Address string }
		Operations map[string]struct{ Action string }
	}
	if err := json.Unmarshal(b, &d); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.AsyncAPI, d.Channels["chat"].Address, d.Channels["topic-room"].Address)
	fmt.Println(d.Operations["receive-chat"].Action, d.Operations["send-chat"].Action, d.Operations["send-topic-room"].Action)
	// Output:
	// 3.0.0 /chat room
	// receive send send
}
