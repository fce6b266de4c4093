package main

import (
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/ws"
)

// TestAsyncAPIGolden pins the example's AsyncAPI document, as served
// over a real listener (the asyncapitest module validates this file
// against the AsyncAPI 3.0.0 schema).
func TestAsyncAPIGolden(t *testing.T) {
	app := newApp(graft.Config{Logger: quiet}, ws.Config{})
	addr := serve(t, app)
	res, body := do(t, "http://"+addr+"/asyncapi.json", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/asyncapi.json: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	graftest.Golden(t, "asyncapi.json", body)
}

// TestAsyncAPIMatchesTheProtocol: the document says what the route does.
// A client that sends the document's pmRequest example reaches the
// recipient with a message having exactly the properties of the pm
// message's payload schema and its discriminator value; the handshake's
// query param is the one the route reads.
func TestAsyncAPIMatchesTheProtocol(t *testing.T) {
	app := newApp(graft.Config{Logger: quiet}, ws.Config{})
	addr := serve(t, app)
	_, body := do(t, "http://"+addr+"/asyncapi.json", nil)
	var doc struct {
		Channels map[string]struct {
			Bindings struct {
				WS struct {
					Query struct {
						Properties map[string]any `json:"properties"`
						Required   []string       `json:"required"`
					} `json:"query"`
				} `json:"ws"`
			} `json:"bindings"`
		} `json:"channels"`
		Components struct {
			Messages map[string]struct {
				Payload  json.RawMessage `json:"payload"`
				Examples []struct {
					Payload json.RawMessage `json:"payload"`
				} `json:"examples"`
			} `json:"messages"`
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	q := doc.Channels["ws"].Bindings.WS.Query
	if _, ok := q.Properties["username"]; !ok || !reflect.DeepEqual(q.Required, []string{"username"}) {
		t.Fatalf("ws binding query %+v, want the required username", q)
	}
	req := doc.Components.Messages["pmRequest"]
	if len(req.Examples) != 1 {
		t.Fatalf("pmRequest examples %+v", req.Examples)
	}
	var ex PMRequest
	if err := json.Unmarshal(req.Examples[0].Payload, &ex); err != nil || ex.To == "" {
		t.Fatalf("pmRequest example %s: %v", req.Examples[0].Payload, err)
	}

	to := dial(t, addr, ex.To)
	from := dial(t, addr, "sender")
	waitSubscribers(t, app, "signal-"+ex.To, 1)
	from.send(t, json.RawMessage(req.Examples[0].Payload))
	var got string
	select {
	case got = <-to.msgs:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s got nothing after the pmRequest example", ex.To)
	}
	var pm map[string]any
	if err := json.Unmarshal([]byte(got), &pm); err != nil {
		t.Fatalf("pm %s: %v", got, err)
	}
	var gotKeys, wantKeys []string
	for k := range pm {
		gotKeys = append(gotKeys, k)
	}
	for k := range doc.Components.Schemas["PM"].Properties {
		wantKeys = append(wantKeys, k)
	}
	sort.Strings(gotKeys)
	sort.Strings(wantKeys)
	if !reflect.DeepEqual(gotKeys, wantKeys) || len(wantKeys) == 0 {
		t.Errorf("pm has %v, the PM schema %v", gotKeys, wantKeys)
	}
	var payload struct {
		AllOf []struct {
			Properties map[string]struct {
				Const string `json:"const"`
			} `json:"properties"`
		} `json:"allOf"`
	}
	if err := json.Unmarshal(doc.Components.Messages["pm"].Payload, &payload); err != nil || len(payload.AllOf) != 2 {
		t.Fatalf("pm payload %s: %v", doc.Components.Messages["pm"].Payload, err)
	}
	if c := payload.AllOf[1].Properties["type"].Const; c == "" || pm["type"] != c {
		t.Errorf("pm type %v, the document's const %q", pm["type"], c)
	}
	if pm["message"] != ex.Message || pm["username"] != "sender" {
		t.Errorf("pm %v after sending %+v", pm, ex)
	}
}
