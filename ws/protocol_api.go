package ws

import (
	"encoding/json"
	"reflect"
)

// The Go types of the client protocol's messages (protocol.go), for the
// AsyncAPI document: a route with Behavior.ClientSubscribe receives
// SubscribeRequest and UnsubscribeRequest and sends Subscribed,
// Unsubscribed, ProtocolError and Pub, and its API lists them (named
// "graft.subscribe" … "graft.pub", told apart by "type") after the
// route's own messages. graft writes these messages itself; the types only
// describe them.

// SubscribeRequest asks to subscribe to a topic: fresh, or, with the epoch
// and offset of the last Pub the client processed, resuming after it.
type SubscribeRequest struct {
	Type   string `json:"type" doc:"subscribe"`
	Topic  string `json:"topic" required:"true" minLength:"1" doc:"the topic" example:"chat.lobby"`
	Epoch  string `json:"epoch,omitempty" doc:"the epoch of the last pub the client processed (resuming)" example:"9f3c"`
	Offset uint64 `json:"offset,omitempty" doc:"the offset of the last pub the client processed (resuming)" example:"41"`
}

// UnsubscribeRequest asks to unsubscribe from a topic.
type UnsubscribeRequest struct {
	Type  string `json:"type" doc:"unsubscribe"`
	Topic string `json:"topic" required:"true" minLength:"1" doc:"the topic" example:"chat.lobby"`
}

// Subscribed answers a SubscribeRequest: on a topic with a history, the
// position the connection continues from and, when the request resumed,
// whether the missed publications follow (Recovered, Missed) or the client
// must reload (Reason).
type Subscribed struct {
	Type      string `json:"type" doc:"subscribed"`
	Topic     string `json:"topic" required:"true" example:"chat.lobby"`
	Epoch     string `json:"epoch,omitempty" doc:"the topic's epoch (topics with a history)" example:"9f3c"`
	Offset    uint64 `json:"offset,omitempty" doc:"the offset the connection continues after (topics with a history)" example:"44"`
	Recovered *bool  `json:"recovered,omitempty" doc:"the request resumed: whether every missed publication follows"`
	Missed    int    `json:"missed,omitempty" doc:"how many missed publications follow" example:"3"`
	Reason    string `json:"reason,omitempty" doc:"why the history cannot continue from the request's position: reload" enum:"epoch changed,history trimmed,offset beyond the stream's top"`
}

// Unsubscribed answers an UnsubscribeRequest.
type Unsubscribed struct {
	Type  string `json:"type" doc:"unsubscribed"`
	Topic string `json:"topic" required:"true" example:"chat.lobby"`
}

// ProtocolError answers a request that was refused (ClientSubscribe's
// error, a missing topic, too many topics).
type ProtocolError struct {
	Type    string `json:"type" doc:"error"`
	Request string `json:"request" required:"true" enum:"subscribe,unsubscribe" example:"subscribe"`
	Topic   string `json:"topic" required:"true" example:"secret"`
	Error   string `json:"error" required:"true" example:"no such room"`
}

// Pub is a publication on a topic with a history (ws.Config.History),
// unless ws.Config.HistoryFrame frames it otherwise: the payload is in
// Data when it is a text message that is JSON, in Text when it is other
// text, in Binary (base64) when it is binary.
type Pub struct {
	Type   string          `json:"type" doc:"pub"`
	Topic  string          `json:"topic" required:"true" example:"chat.lobby"`
	Epoch  string          `json:"epoch" required:"true" example:"9f3c"`
	Offset uint64          `json:"offset" required:"true" example:"42"`
	Data   json.RawMessage `json:"data,omitempty" doc:"the publication, a JSON text message"`
	Text   string          `json:"text,omitempty" doc:"the publication, a text message that is not JSON"`
	Binary []byte          `json:"binary,omitempty" doc:"the publication, a binary message"`
}

// protocolMessage declares one message of the client protocol.
func protocolMessage[T any](typ, summary string) Message {
	return Message{Name: "graft." + typ, Payload: reflect.TypeFor[T](), Summary: summary,
		Discriminator: "type", DiscriminatorValue: typ}
}

// Protocol messages, declared once (a route's API shares them).
var (
	protocolReceives = []Message{
		protocolMessage[SubscribeRequest]("subscribe", "Subscribe to a topic, or resume it after a position"),
		protocolMessage[UnsubscribeRequest]("unsubscribe", "Unsubscribe from a topic"),
	}
	protocolSends = []Message{
		protocolMessage[Subscribed]("subscribed", "The subscription, and where it continues from"),
		protocolMessage[Unsubscribed]("unsubscribed", "The unsubscription"),
		protocolMessage[ProtocolError]("error", "A refused request"),
		protocolMessage[Pub]("pub", "A publication on a topic with a history"),
	}
)
