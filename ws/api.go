package ws

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/graftgo/graft"
)

// Message declares one kind of message a WebSocket route receives or
// sends, for the AsyncAPI document that the openapi extension serves at
// /asyncapi.json. It changes nothing at run time: Message handlers still
// get bytes and decode them.
//
//	ws.MessageOf[ChatLine]("chatLine")
//	ws.Message{Name: "pm", Payload: reflect.TypeFor[PM](), Summary: "a private message", Discriminator: "type"}
type Message struct {
	// Name is the message's id in the document (components.messages):
	// letters, digits, '.', '-' and '_'. Routes that send or receive the
	// same message declare it with the same Name and the same fields.
	Name string
	// Payload is the Go type of the message's payload; its schema comes
	// from the generator of the OpenAPI document (encoding/json's view of
	// the type, validation tags, doc and example tags), with components
	// shared with the OpenAPI document.
	Payload reflect.Type
	// Title, Summary and Description say what the message is
	// (Description: CommonMark).
	Title, Summary, Description string
	// ContentType is the payload's media type; "" is application/json.
	ContentType string
	// Discriminator names the payload's property (its JSON name, a string
	// field of the struct) whose value tells this message from the others
	// the route receives or sends, as a "type" field does. The document
	// fixes the property to DiscriminatorValue (Name when empty) with a
	// const and makes it required.
	Discriminator string
	// DiscriminatorValue is the Discriminator property's value for this
	// message; "" means Name.
	DiscriminatorValue string
}

// MessageOf declares a message named name whose payload is a T.
func MessageOf[T any](name string) Message {
	return Message{Name: name, Payload: reflect.TypeFor[T]()}
}

// Topic declares a topic the connections of a route subscribe to, for the
// AsyncAPI document, where it is a channel of its own.
type Topic struct {
	// Pattern is the topic's name with {param} for its variable parts, as
	// the app composes it: "signal-{username}", "room.{room}".
	Pattern string
	// Description says what the topic carries (CommonMark).
	Description string
	// Messages lists what is published to the topic and delivered to its
	// subscribers; nil means the route's Sends.
	Messages []Message
}

// API is what a WebSocket route declares about itself for documents:
// its Behavior's Receives, Sends, Topics, Handshake and Description, with
// the route's full pattern and subprotocols. With Behavior.ClientSubscribe
// set, Receives and Sends end with the client protocol's messages
// (SubscribeRequest … Pub), which graft handles itself. APIOf returns it.
type API struct {
	// Pattern is the route's full pattern, group prefixes included.
	Pattern     string
	Description string
	Receives    []Message
	Sends       []Message
	Topics      []Topic
	// Handshake is the struct type describing the upgrade request's query,
	// header and path params; nil when none is declared.
	Handshake    reflect.Type
	Subprotocols []string
}

// apiKey is the route meta key of a WebSocket route's API.
type apiKey struct{}

// APIOf returns what the WebSocket route ri declares for documents; ok is
// false when ri is not a WebSocket route.
func APIOf(ri *graft.Route) (API, bool) {
	v, ok := ri.Meta(apiKey{})
	if !ok {
		return API{}, false
	}
	return v.(API), true
}

var (
	messageName  = regexp.MustCompile(`^[\w.\-]+$`)
	topicParam   = regexp.MustCompile(`\{([^{}]*)\}`)
	handshakeTag = []string{"query", "header", "path"}
)

// declareAPI checks what b declares for documents and attaches it to ri;
// a mistake panics at registration naming the route.
func declareAPI[T any](ri *graft.Route, b *Behavior[T]) {
	pattern := ri.Pattern()
	check := func(dir string, ms []Message) {
		seen := map[string]bool{}
		for i, m := range ms {
			where := fmt.Sprintf("WebSocket route %s: Behavior.%s[%d]", pattern, dir, i)
			switch {
			case !messageName.MatchString(m.Name):
				setupPanic("%s: message name %q must be letters, digits, '.', '-' or '_', e.g. ws.MessageOf[Chat](%q)", where, m.Name, "chat")
			case m.Payload == nil:
				setupPanic("%s (%s): no Payload type; use ws.MessageOf[T](%q) or set Payload: reflect.TypeFor[T]()", where, m.Name, m.Name)
			case m.DiscriminatorValue != "" && m.Discriminator == "":
				setupPanic("%s (%s): DiscriminatorValue without Discriminator; name the payload's property that holds it", where, m.Name)
			case seen[m.Name]:
				setupPanic("%s: message %q is listed twice", where, m.Name)
			}
			seen[m.Name] = true
		}
	}
	check("Receives", b.Receives)
	check("Sends", b.Sends)
	for i, tp := range b.Topics {
		where := fmt.Sprintf("WebSocket route %s: Behavior.Topics[%d]", pattern, i)
		if tp.Pattern == "" {
			setupPanic("%s: empty Pattern; give the topic's name, with {param} for its variable parts", where)
		}
		rest := topicParam.ReplaceAllStringFunc(tp.Pattern, func(p string) string {
			if !messageName.MatchString(p[1 : len(p)-1]) {
				setupPanic("%s: topic %q: parameter %s must be a name of letters, digits, '.', '-' or '_'", where, tp.Pattern, p)
			}
			return ""
		})
		if strings.ContainsAny(rest, "{}") {
			setupPanic("%s: topic %q has an unbalanced brace; write parameters as {name}", where, tp.Pattern)
		}
		check(fmt.Sprintf("Topics[%d].Messages", i), tp.Messages)
	}
	if h := b.Handshake; h != nil {
		for h.Kind() == reflect.Pointer {
			h = h.Elem()
		}
		if h.Kind() != reflect.Struct {
			setupPanic("WebSocket route %s: Behavior.Handshake is %s; use a struct type whose fields are tagged query:, header: or path:", pattern, b.Handshake)
		}
		for i := range h.NumField() {
			f := h.Field(i)
			n := 0
			for _, t := range handshakeTag {
				if _, ok := f.Tag.Lookup(t); ok {
					n++
				}
			}
			if n != 1 {
				setupPanic("WebSocket route %s: Behavior.Handshake %s: field %s needs exactly one of the tags query:, header: or path:", pattern, h, f.Name)
			}
			if p, ok := f.Tag.Lookup("path"); ok && !slices.Contains(ri.ParamNames(), p) {
				setupPanic("WebSocket route %s: Behavior.Handshake %s: field %s is path:%q, which the pattern has no wildcard for (it has %v)", pattern, h, f.Name, p, ri.ParamNames())
			}
		}
		b.Handshake = h
	}
	receives, sends := b.Receives, b.Sends
	if b.ClientSubscribe != nil {
		// graft speaks the client protocol on the route: its messages
		// are the route's too.
		receives = append(append([]Message(nil), receives...), protocolReceives...)
		sends = append(append([]Message(nil), sends...), protocolSends...)
	}
	ri.SetMeta(apiKey{}, API{
		Pattern:      pattern,
		Description:  b.Description,
		Receives:     receives,
		Sends:        sends,
		Topics:       b.Topics,
		Handshake:    b.Handshake,
		Subprotocols: b.Subprotocols,
	})
}
