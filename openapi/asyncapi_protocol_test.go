package openapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/broker"
	"github.com/graftgo/graft/openapi"
	"github.com/graftgo/graft/ws"
)

// TestAsyncAPIClientProtocol: a route with Behavior.ClientSubscribe
// speaks graft's client protocol, so its document lists the protocol's
// messages; what graft answers over a real connection (subscribed with a
// failed recovery, pub, unsubscribed, error) matches the schemas the
// document gives them: the right discriminator, only declared
// properties, every required one, enum values.
func TestAsyncAPIClientProtocol(t *testing.T) {
	app := graft.New(graft.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ext := openapi.Extension(openapi.Info{Title: "T", Version: "1"})
	app.Register(ext, ws.Extension(ws.Config{History: broker.HistoryPolicies{{Pattern: "chat.*", HistoryPolicy: broker.HistoryPolicy{Size: 10}}}}))
	ws.Route(app, "/live", ws.Behavior[struct{}]{
		Sends: []ws.Message{lineMsg},
		ClientSubscribe: func(_ *ws.Conn[struct{}], topic string) error {
			if !strings.HasPrefix(topic, "chat.") {
				return errors.New("no such room")
			}
			return nil
		},
	})
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()
	_, _, body := fetch(t, srv.URL+"/asyncapi.json")
	doc := decode(t, body)

	recv := at(t, doc, "operations", "receive-live", "messages").([]any)
	send := at(t, doc, "operations", "send-live", "messages").([]any)
	names := func(refs []any) []string {
		var out []string
		for _, r := range refs {
			ref := r.(map[string]any)["$ref"].(string)
			out = append(out, ref[strings.LastIndexByte(ref, '/')+1:])
		}
		return out
	}
	if got := names(recv); !reflect.DeepEqual(got, []string{"graft.subscribe", "graft.unsubscribe"}) {
		t.Errorf("receives %v", got)
	}
	if got := names(send); !reflect.DeepEqual(got, []string{"line", "graft.subscribed", "graft.unsubscribed", "graft.error", "graft.pub"}) {
		t.Errorf("sends %v", got)
	}

	// The schema of each message the route sends, by its type.
	schemas := at(t, doc, "components", "schemas").(map[string]any)
	byType := map[string]map[string]any{}
	for _, n := range names(send) {
		all := at(t, doc, "components", "messages", n, "payload", "allOf").([]any)
		typ := at(t, all[1], "properties", "type", "const").(string)
		ref := all[0].(map[string]any)["$ref"].(string)
		byType[typ] = schemas[ref[strings.LastIndexByte(ref, '/')+1:]].(map[string]any)
	}
	conform := func(raw []byte) string {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		typ, _ := m["type"].(string)
		s := byType[typ]
		if s == nil {
			t.Errorf("graft sent %s, whose type no declared message has", raw)
			return typ
		}
		props := s["properties"].(map[string]any)
		for k, v := range m {
			p, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("%s: property %q is not in the %s schema", raw, k, typ)
				continue
			}
			if e, ok := p["enum"].([]any); ok && !containsAny(e, v) {
				t.Errorf("%s: %q = %v is not one of %v", raw, k, v, e)
			}
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := m[r.(string)]; !ok {
				t.Errorf("%s lacks the required %q", raw, r)
			}
		}
		return typ
	}

	// The document's own example of a subscribe, resuming from an epoch
	// the history never had: subscribed, not recovered, with a reason.
	ex := at(t, doc, "components", "messages", "graft.subscribe", "examples").([]any)
	subscribe, _ := json.Marshal(ex[0].(map[string]any)["payload"])
	c := dialWS(t, srv.URL+"/live")
	defer c.close(t)
	got := c.roundTrip(t, subscribe)
	if conform(got) != "subscribed" || !strings.Contains(string(got), `"reason":"`+broker.ReasonEpoch+`"`) {
		t.Errorf("answer to %s: %s", subscribe, got)
	}
	if err := ws.Publish(app, "chat.lobby", []byte(`{"text":"hi"}`), ws.OpText); err != nil {
		t.Fatal(err)
	}
	select {
	case pub := <-c.msgs:
		if conform(pub) != "pub" {
			t.Errorf("publication %s", pub)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pub within 5s")
	}
	if got := c.roundTrip(t, []byte(`{"type":"unsubscribe","topic":"chat.lobby"}`)); conform(got) != "unsubscribed" {
		t.Errorf("unsubscribe: %s", got)
	}
	if got := c.roundTrip(t, []byte(`{"type":"subscribe","topic":"secret"}`)); conform(got) != "error" {
		t.Errorf("refused subscribe: %s", got)
	}
	if got := c.roundTrip(t, []byte(`{"type":"subscribe","topic":"chat.new"}`)); conform(got) != "subscribed" {
		t.Errorf("fresh subscribe: %s", got)
	}

	// The reasons the document lists are the history's.
	var reasons []string
	for _, r := range at(t, schemas["Subscribed"], "properties", "reason", "enum").([]any) {
		reasons = append(reasons, r.(string))
	}
	want := []string{broker.ReasonAhead, broker.ReasonEpoch, broker.ReasonTrimmed}
	sort.Strings(reasons)
	sort.Strings(want)
	if !reflect.DeepEqual(reasons, want) {
		t.Errorf("reasons %v, the history's %v", reasons, want)
	}
}

func containsAny(list []any, v any) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
