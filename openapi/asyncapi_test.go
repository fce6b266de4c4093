package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/openapi"
	"github.com/graftgo/graft/openapi/internal/fixture/b"
	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
)

// The WebSocket routes of the feature app's AsyncAPI document.

// chatHandshake is the upgrade request of /chat/{room}.
type chatHandshake struct {
	Room   string `path:"room" doc:"the room to join" enum:"lobby,dev" example:"lobby"`
	Name   string `query:"name" required:"true" minLength:"1" maxLength:"32" doc:"the name shown to others" example:"ada"`
	Client string `header:"X-Client" doc:"the client's name and version" example:"web/1.2"`
}

// Say is what a client sends to talk.
type Say struct {
	Type string `json:"type" doc:"always say"`
	Text string `json:"text" required:"true" maxLength:"500" example:"hello"`
}

// Typing says a client is typing.
type Typing struct {
	Type string `json:"type"`
	On   bool   `json:"on" example:"true"`
}

// Line is a chat line the app sends.
type Line struct {
	Type string    `json:"type"`
	From string    `json:"from" required:"true" example:"ada"`
	Text string    `json:"text" required:"true" example:"hello"`
	At   time.Time `json:"at" example:"2026-01-02T03:04:05Z"`
	// Pet is shared with the OpenAPI document: the same component.
	Pet *Pet `json:"pet,omitempty"`
}

var (
	sayMsg    = ws.Message{Name: "say", Payload: reflect.TypeFor[Say](), Summary: "Say something to the room", Discriminator: "type"}
	typingMsg = ws.Message{Name: "typing", Payload: reflect.TypeFor[Typing](), Discriminator: "type"}
	lineMsg   = ws.Message{Name: "line", Payload: reflect.TypeFor[Line](), Title: "Chat line", Description: "A line someone said in the room.", Discriminator: "type"}
	// petChanged's payload is b.User, whose name a.User (an OpenAPI
	// component) shares: both documents qualify both.
	petChanged = ws.MessageOf[Pet]("petChanged")
	userSeen   = ws.MessageOf[b.User]("userSeen")
)

// asyncApp is the feature app with WebSocket routes.
func asyncApp() (*graft.App[graft.Ctx], *openapi.Ext) {
	app, ext := featureApp()
	ws.Route(app, "/chat/{room}", ws.Behavior[struct{}]{
		Description:  "A chat room.",
		Handshake:    reflect.TypeFor[chatHandshake](),
		Subprotocols: []string{"chat.v1"},
		Receives:     []ws.Message{sayMsg, typingMsg},
		Sends:        []ws.Message{lineMsg, typingMsg},
		Topics:       []ws.Topic{{Pattern: "room.{room}", Description: "Every line of a room."}},
	})
	ws.Route(app, "/pets/watch", ws.Behavior[struct{}]{
		Sends:  []ws.Message{petChanged, userSeen},
		Topics: []ws.Topic{{Pattern: "pets", Messages: []ws.Message{petChanged}}},
		// Clients subscribe themselves: the protocol's messages are the
		// route's too.
		ClientSubscribe: func(*ws.Conn[struct{}], string) error { return nil },
	})
	ws.Route(app, "/echo", ws.Behavior[struct{}]{}) // declares nothing: a channel without messages
	return app, ext
}

func startAsync(t *testing.T) *openapi.Ext {
	t.Helper()
	app, ext := asyncApp()
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Stop(context.Background()) })
	return ext
}

func TestAsyncAPIGolden(t *testing.T) {
	ext := startAsync(t)
	graftest.Golden(t, "feature-asyncapi.json", ext.AsyncAPI())
	graftest.Golden(t, "feature-asyncapi.yaml", ext.AsyncAPIYAML())
	// The WebSocket routes change nothing in the OpenAPI document.
	graftest.Golden(t, "feature.json", ext.JSON())
}

// TestAsyncAPIDocument checks, beyond the golden file, what each
// declaration puts in the document.
func TestAsyncAPIDocument(t *testing.T) {
	ext := startAsync(t)
	doc := decode(t, ext.AsyncAPI())
	if v := at(t, doc, "asyncapi"); v != "3.0.0" {
		t.Errorf("asyncapi %v", v)
	}
	if v := at(t, doc, "info", "title"); v != "Pets" {
		t.Errorf("title %v", v)
	}
	if v := at(t, doc, "servers", "production"); !reflect.DeepEqual(v, map[string]any{"host": "pets.example.com", "protocol": "wss", "description": "production"}) {
		t.Errorf("server %v", v)
	}

	chat := at(t, doc, "channels", "chat-room").(map[string]any)
	if chat["address"] != "/chat/{room}" || chat["description"] != "A chat room." {
		t.Errorf("chat channel %v", chat)
	}
	if v := at(t, chat, "parameters", "room"); !reflect.DeepEqual(v, map[string]any{"description": "the room to join", "enum": []any{"lobby", "dev"}, "examples": []any{"lobby"}}) {
		t.Errorf("room parameter %v", v)
	}
	binding := at(t, chat, "bindings", "ws").(map[string]any)
	if binding["method"] != "GET" || binding["bindingVersion"] != "0.1.0" {
		t.Errorf("ws binding %v", binding)
	}
	name := at(t, binding, "query", "properties", "name").(map[string]any)
	if name["minLength"] != 1.0 || name["maxLength"] != 32.0 || name["description"] != "the name shown to others" {
		t.Errorf("query name %v", name)
	}
	if v := at(t, binding, "query", "required"); !reflect.DeepEqual(v, []any{"name"}) {
		t.Errorf("query required %v", v)
	}
	if v := at(t, binding, "headers", "properties", "X-Client", "examples"); !reflect.DeepEqual(v, []any{"web/1.2"}) {
		t.Errorf("X-Client %v", v)
	}
	if v := at(t, binding, "headers", "properties", "Sec-WebSocket-Protocol", "examples"); !reflect.DeepEqual(v, []any{"chat.v1"}) {
		t.Errorf("subprotocol header %v", v)
	}
	msgs := at(t, chat, "messages").(map[string]any)
	if len(msgs) != 3 || !reflect.DeepEqual(msgs["say"], map[string]any{"$ref": "#/components/messages/say"}) {
		t.Errorf("chat messages %v", msgs)
	}

	// Operations: what the app receives and sends on the channel, each
	// message a reference into the channel's messages.
	recv := at(t, doc, "operations", "receive-chat-room").(map[string]any)
	if recv["action"] != "receive" || !reflect.DeepEqual(recv["channel"], map[string]any{"$ref": "#/channels/chat-room"}) ||
		!reflect.DeepEqual(recv["messages"], []any{map[string]any{"$ref": "#/channels/chat-room/messages/say"}, map[string]any{"$ref": "#/channels/chat-room/messages/typing"}}) {
		t.Errorf("receive operation %v", recv)
	}
	if v := at(t, doc, "operations", "send-chat-room", "action"); v != "send" {
		t.Errorf("send action %v", v)
	}
	ops := at(t, doc, "operations").(map[string]any)
	if _, ok := ops["receive-echo"]; ok {
		t.Errorf("an operation for /echo, which declares no message: %v", ops)
	}
	if v := at(t, doc, "channels", "echo"); !reflect.DeepEqual(v, map[string]any{"address": "/echo", "bindings": map[string]any{"ws": map[string]any{"method": "GET", "bindingVersion": "0.1.0"}}}) {
		t.Errorf("echo channel %v", v)
	}

	// Topics: channels of their own; messages default to the route's
	// Sends.
	room := at(t, doc, "channels", "topic-room.room").(map[string]any)
	if room["address"] != "room.{room}" || !reflect.DeepEqual(room["parameters"], map[string]any{"room": map[string]any{}}) {
		t.Errorf("room topic %v", room)
	}
	if m := room["messages"].(map[string]any); len(m) != 2 || m["line"] == nil || m["typing"] == nil {
		t.Errorf("room topic messages %v", m)
	}
	if m := at(t, doc, "channels", "topic-pets", "messages").(map[string]any); len(m) != 1 || m["petChanged"] == nil {
		t.Errorf("pets topic messages %v", m)
	}
	if v := at(t, doc, "operations", "send-topic-pets", "description"); !strings.Contains(v.(string), "/pets/watch") {
		t.Errorf("topic operation %v", v)
	}

	// Messages: the discriminator is fixed with const and required; the
	// example is composed from the payload's example tags.
	say := at(t, doc, "components", "messages", "say").(map[string]any)
	if say["name"] != "say" || say["summary"] != "Say something to the room" {
		t.Errorf("say %v", say)
	}
	wantPayload := map[string]any{"allOf": []any{
		map[string]any{"$ref": "#/components/schemas/Say"},
		map[string]any{"type": "object", "properties": map[string]any{"type": map[string]any{"const": "say"}}, "required": []any{"type"}},
	}}
	if !reflect.DeepEqual(say["payload"], wantPayload) {
		t.Errorf("say payload %v", say["payload"])
	}
	if v := at(t, say, "examples"); !reflect.DeepEqual(v, []any{map[string]any{"payload": map[string]any{"text": "hello", "type": "say"}}}) {
		t.Errorf("say examples %v", v)
	}
	if v := at(t, doc, "components", "messages", "petChanged", "payload"); !reflect.DeepEqual(v, map[string]any{"$ref": "#/components/schemas/Pet"}) {
		t.Errorf("petChanged payload %v", v)
	}

	// Components shared with the OpenAPI document: the same names and the
	// same schemas; b.User is BUser in both since a.User is there too.
	oas := at(t, decode(t, ext.JSON()), "components", "schemas").(map[string]any)
	aas := at(t, doc, "components", "schemas").(map[string]any)
	for _, n := range []string{"Pet", "Owner"} {
		if !reflect.DeepEqual(normalizeRefs(oas[n]), normalizeRefs(aas[n])) || aas[n] == nil {
			t.Errorf("%s differs between the documents:\n%v\n%v", n, oas[n], aas[n])
		}
	}
	if aas["BUser"] == nil || aas["User"] != nil {
		t.Errorf("AsyncAPI schemas %v: want BUser", keys(aas))
	}
	for _, n := range []string{"Say", "Line", "Typing"} {
		if oas[n] != nil {
			t.Errorf("OpenAPI components have the WebSocket-only %s", n)
		}
	}
	if aas["PagePet"] != nil || aas["Problem"] != nil {
		t.Errorf("AsyncAPI schemas %v: OpenAPI-only components", keys(aas))
	}
}

// normalizeRefs rewrites allOf-wrapped refs (the draft-07 form) back to
// refs with siblings (the 3.1 form), to compare a schema across the two
// documents.
func normalizeRefs(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = normalizeRefs(x)
		}
		if all, ok := out["allOf"].([]any); ok && len(all) == 1 {
			if r, ok := all[0].(map[string]any); ok && len(r) == 1 && r["$ref"] != nil {
				delete(out, "allOf")
				out["$ref"] = r["$ref"]
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalizeRefs(x)
		}
		return out
	}
	return v
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestAsyncAPIServe: /asyncapi.json and /asyncapi.yaml over a real
// listener; serving allocates nothing.
func TestAsyncAPIServe(t *testing.T) {
	app, ext := asyncApp()
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()
	for _, tc := range []struct {
		path, ctype string
		want        func() []byte
	}{
		{"/asyncapi.json", "application/json", ext.AsyncAPI},
		{"/asyncapi.yaml", "application/yaml", ext.AsyncAPIYAML},
	} {
		st, h, body := fetch(t, srv.URL+tc.path)
		if st != 200 || h.Get("Content-Type") != tc.ctype || len(body) == 0 || !bytes.Equal(body, tc.want()) {
			t.Errorf("%s: %d %q, %d bytes", tc.path, st, h.Get("Content-Type"), len(body))
		}
	}
	if race {
		return
	}
	for _, path := range []string{"/asyncapi.json", "/asyncapi.yaml"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		w := &stubWriter{h: http.Header{}}
		if allocs := testing.AllocsPerRun(200, func() { app.ServeHTTP(w, req) }); allocs != 0 {
			t.Errorf("GET %s: %v allocations per request, want 0", path, allocs)
		}
	}
}

// TestAsyncAPIEmpty: an app without WebSocket routes serves a document
// with no channels.
func TestAsyncAPIEmpty(t *testing.T) {
	app, ext := featureApp()
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(t.Context())
	doc := decode(t, ext.AsyncAPI())
	if len(doc) != 4 || doc["channels"] != nil || doc["servers"] == nil {
		t.Errorf("document %v", doc)
	}
}

// TestAsyncAPIGroup: registered on a group, the extension documents the
// WebSocket routes under the group's prefix only.
func TestAsyncAPIGroup(t *testing.T) {
	app := graft.New(graft.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	api := app.Group("/api")
	ext := openapi.Extension(openapi.Info{Title: "API", Version: "1"})
	api.Register(ext)
	ws.Route(api, "/live", ws.Behavior[struct{}]{Sends: []ws.Message{ws.MessageOf[Typing]("typing")}})
	ws.Route(app, "/other", ws.Behavior[struct{}]{Sends: []ws.Message{ws.MessageOf[Say]("say")}})
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()
	st, _, body := fetch(t, srv.URL+"/api/asyncapi.json")
	if st != 200 {
		t.Fatalf("/api/asyncapi.json: %d", st)
	}
	chans := at(t, decode(t, body), "channels").(map[string]any)
	if len(chans) != 1 || at(t, chans, "api-live", "address") != "/api/live" {
		t.Errorf("channels %v", chans)
	}
}

// TestAsyncAPIRegistrationMistakes: a declaration that cannot be right
// panics at ws.Route, naming the route and the fix.
func TestAsyncAPIRegistrationMistakes(t *testing.T) {
	cases := []struct {
		name string
		b    ws.Behavior[struct{}]
		want string
	}{
		{"bad name", ws.Behavior[struct{}]{Receives: []ws.Message{ws.MessageOf[Say]("say it")}},
			`WebSocket route /x: Behavior.Receives[0]: message name "say it" must be letters`},
		{"no payload", ws.Behavior[struct{}]{Sends: []ws.Message{{Name: "say"}}},
			`Behavior.Sends[0] (say): no Payload type; use ws.MessageOf[T]("say")`},
		{"twice", ws.Behavior[struct{}]{Sends: []ws.Message{sayMsg, sayMsg}},
			`Behavior.Sends[1]: message "say" is listed twice`},
		{"value without discriminator", ws.Behavior[struct{}]{Sends: []ws.Message{{Name: "say", Payload: reflect.TypeFor[Say](), DiscriminatorValue: "s"}}},
			`DiscriminatorValue without Discriminator`},
		{"empty topic", ws.Behavior[struct{}]{Topics: []ws.Topic{{}}},
			`Behavior.Topics[0]: empty Pattern`},
		{"unbalanced topic", ws.Behavior[struct{}]{Topics: []ws.Topic{{Pattern: "room.{room"}}},
			`topic "room.{room" has an unbalanced brace`},
		{"bad topic param", ws.Behavior[struct{}]{Topics: []ws.Topic{{Pattern: "room.{a b}"}}},
			`parameter {a b} must be a name`},
		{"handshake not a struct", ws.Behavior[struct{}]{Handshake: reflect.TypeFor[string]()},
			`Behavior.Handshake is string; use a struct type`},
		{"untagged handshake field", ws.Behavior[struct{}]{Handshake: reflect.TypeFor[struct{ Name string }]()},
			`field Name needs exactly one of the tags query:, header: or path:`},
		{"handshake path without wildcard", ws.Behavior[struct{}]{Handshake: reflect.TypeFor[chatHandshake]()},
			`field Room is path:"room", which the pattern has no wildcard for`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := graft.New(graft.Config{})
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), tc.want) {
					t.Errorf("panic %v, want %q", r, tc.want)
				}
			}()
			ws.Route(app, "/x", tc.b)
		})
	}
}

// TestAsyncAPIStartMistakes: declarations the document cannot describe
// stop start-up, naming the route and the message.
func TestAsyncAPIStartMistakes(t *testing.T) {
	type noType struct {
		Text string `json:"text"`
	}
	type intType struct {
		Type int `json:"type"`
	}
	type badPayload struct {
		C chan int `json:"c"`
	}
	cases := []struct {
		name  string
		setup func(app *graft.App[graft.Ctx])
		want  string
	}{
		{"one name, two messages", func(app *graft.App[graft.Ctx]) {
			ws.Route(app, "/a", ws.Behavior[struct{}]{Sends: []ws.Message{ws.MessageOf[Say]("msg")}})
			ws.Route(app, "/b", ws.Behavior[struct{}]{Sends: []ws.Message{ws.MessageOf[Line]("msg")}})
		}, `message "msg" is declared differently by WebSocket route /a`},
		{"discriminator not a property", func(app *graft.App[graft.Ctx]) {
			ws.Route(app, "/a", ws.Behavior[struct{}]{Sends: []ws.Message{{Name: "m", Payload: reflect.TypeFor[noType](), Discriminator: "type"}}})
		}, `message "m" (WebSocket route /a): Discriminator "type": the payload openapi_test.noType has no such property (it has text)`},
		{"discriminator not a string", func(app *graft.App[graft.Ctx]) {
			ws.Route(app, "/a", ws.Behavior[struct{}]{Sends: []ws.Message{{Name: "m", Payload: reflect.TypeFor[intType](), Discriminator: "type"}}})
		}, `field openapi_test.intType.Type is a int; the discriminator must be a string`},
		{"discriminator values clash", func(app *graft.App[graft.Ctx]) {
			ws.Route(app, "/a", ws.Behavior[struct{}]{Receives: []ws.Message{
				{Name: "m1", Payload: reflect.TypeFor[Say](), Discriminator: "type", DiscriminatorValue: "x"},
				{Name: "m2", Payload: reflect.TypeFor[Typing](), Discriminator: "type", DiscriminatorValue: "x"},
			}})
		}, `WebSocket route /a: Receives: messages "m1" and "m2" both have type "x"`},
		{"payload not JSON", func(app *graft.App[graft.Ctx]) {
			ws.Route(app, "/a", ws.Behavior[struct{}]{Sends: []ws.Message{ws.MessageOf[badPayload]("m")}})
		}, `message "m" (WebSocket route /a): payload openapi_test.badPayload`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := graft.New(graft.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			app.Register(openapi.Extension(openapi.Info{Title: "T", Version: "1"}))
			tc.setup(app)
			err := app.Start(t.Context())
			if err == nil {
				app.Stop(t.Context())
				t.Fatalf("started; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestAsyncAPIRealConnection: the declarations change nothing at run
// time: a declared route still upgrades and echoes.
func TestAsyncAPIRealConnection(t *testing.T) {
	app := graft.New(graft.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	app.Register(openapi.Extension(openapi.Info{Title: "T", Version: "1"}))
	ws.Route(app, "/echo", ws.Behavior[struct{}]{
		Receives: []ws.Message{sayMsg},
		Sends:    []ws.Message{sayMsg},
		Message:  func(c *ws.Conn[struct{}], data []byte, op ws.OpCode) { c.Send(data, op, false) },
	})
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()
	conn := dialWS(t, srv.URL+"/echo")
	defer conn.close(t)
	msg, _ := json.Marshal(Say{Type: "say", Text: "hi"})
	if got := conn.roundTrip(t, msg); !bytes.Equal(got, msg) {
		t.Errorf("echo %q, want %q", got, msg)
	}
}

// wsClient is a real WebSocket client (gws) that queues what it receives.
type wsClient struct {
	gws.BuiltinEventHandler
	conn *gws.Conn
	msgs chan []byte
	done chan struct{}
}

func (c *wsClient) OnMessage(_ *gws.Conn, m *gws.Message) {
	c.msgs <- bytes.Clone(m.Bytes())
	m.Close()
}

func (c *wsClient) OnClose(*gws.Conn, error) { close(c.done) }

func dialWS(t *testing.T, url string) *wsClient {
	t.Helper()
	c := &wsClient{msgs: make(chan []byte, 16), done: make(chan struct{})}
	conn, res, err := gws.NewClient(c, &gws.ClientOption{Addr: "ws" + strings.TrimPrefix(url, "http")})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	res.Body.Close()
	c.conn = conn
	go conn.ReadLoop()
	return c
}

func (c *wsClient) roundTrip(t *testing.T, msg []byte) []byte {
	t.Helper()
	if err := c.conn.WriteMessage(gws.OpcodeText, msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	select {
	case got := <-c.msgs:
		return got
	case <-time.After(5 * time.Second):
		t.Fatalf("no answer to %s within 5s", msg)
		return nil
	}
}

// close closes the connection and waits for the read loop to end.
func (c *wsClient) close(t *testing.T) {
	c.conn.WriteClose(1000, nil)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Error("the WebSocket client did not close within 5s")
	}
}
