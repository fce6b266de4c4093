package openapi

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/internal/schema"
	"github.com/graftgo/graft/ws"
)

// asyncRoute is one WebSocket route of the AsyncAPI document.
type asyncRoute struct {
	api ws.API
	id  string // channel id
}

// asyncTopic is one topic channel: a pattern declared by one or more
// routes.
type asyncTopic struct {
	pattern, description string
	id                   string
	messages             []ws.Message
	routes               []string
}

// declared is a message declaration and the route that made it first.
type declared struct {
	m     ws.Message
	route string
}

// asyncBuilder turns the WebSocket routes of an app into an AsyncAPI 3.0
// document, with its schemas in the registry of the OpenAPI document.
type asyncBuilder struct {
	*builder
	messages map[string]declared
}

// buildAsync makes the AsyncAPI 3.0 document of the WebSocket routes
// among routes under prefix: each route is a channel (its address the
// route's path, its ws binding the upgrade's query and headers) with a
// receive operation for what clients send and a send operation for what
// the app sends; each declared topic is a channel with a send operation.
// Payload schemas go to reg, shared with the OpenAPI document; finish
// completes the document.
func buildAsync(reg *registry, info Info, prefix string, routes []*graft.Route) (*obj, error) {
	b := &asyncBuilder{builder: &builder{reg: reg}, messages: map[string]declared{}}
	var wsRoutes []*asyncRoute
	topics := map[string]*asyncTopic{}
	for _, ri := range routes {
		api, ok := ws.APIOf(ri)
		if !ok || !under(api.Pattern, prefix) {
			continue
		}
		wsRoutes = append(wsRoutes, &asyncRoute{api: api})
		for _, tp := range api.Topics {
			t := topics[tp.Pattern]
			if t == nil {
				t = &asyncTopic{pattern: tp.Pattern}
				topics[tp.Pattern] = t
			}
			if t.description == "" {
				t.description = tp.Description
			}
			ms := tp.Messages
			if ms == nil {
				ms = api.Sends
			}
			for _, m := range ms {
				if !hasMessage(t.messages, m.Name) {
					t.messages = append(t.messages, m)
				}
			}
			t.routes = append(t.routes, api.Pattern)
		}
	}
	sort.Slice(wsRoutes, func(i, j int) bool { return wsRoutes[i].api.Pattern < wsRoutes[j].api.Pattern })
	ids := map[string]bool{}
	for _, r := range wsRoutes {
		r.id = uniqueID(ids, slug(r.api.Pattern))
	}
	topicList := make([]*asyncTopic, 0, len(topics))
	for _, p := range sortedKeys(topics) {
		t := topics[p]
		t.id = uniqueID(ids, "topic-"+slug(p))
		topicList = append(topicList, t)
	}

	doc := (&obj{}).set("asyncapi", "3.0.0")
	in := (&obj{}).set("title", info.Title).set("version", info.Version)
	if info.Description != "" {
		in.set("description", info.Description)
	}
	doc.set("info", in)
	if servers := asyncServers(info.Servers); servers != nil {
		doc.set("servers", servers)
	}
	doc.set("defaultContentType", "application/json")

	channels, ops := &obj{}, &obj{}
	for _, r := range wsRoutes {
		ch, err := b.routeChannel(r)
		if err != nil {
			return nil, fmt.Errorf("openapi: AsyncAPI: WebSocket route %s: %w", r.api.Pattern, err)
		}
		channels.set(r.id, ch)
		if len(r.api.Receives) > 0 {
			ops.set("receive-"+r.id, operationObj("receive", r.id, "What clients send on "+r.api.Pattern+".", r.api.Receives))
		}
		if len(r.api.Sends) > 0 {
			ops.set("send-"+r.id, operationObj("send", r.id, "What the app sends to the clients of "+r.api.Pattern+".", r.api.Sends))
		}
	}
	for _, t := range topicList {
		ch, err := b.topicChannel(t)
		if err != nil {
			return nil, fmt.Errorf("openapi: AsyncAPI: topic %q (of %s): %w", t.pattern, strings.Join(t.routes, ", "), err)
		}
		channels.set(t.id, ch)
		if len(t.messages) == 0 {
			continue // a marker topic: nothing is sent
		}
		ops.set("send-"+t.id, operationObj("send", t.id, "What is published to the topic reaches the connections of "+strings.Join(t.routes, ", ")+" subscribed to it.", t.messages))
	}
	if len(channels.keys) > 0 {
		doc.set("channels", channels)
	}
	if len(ops.keys) > 0 {
		doc.set("operations", ops)
	}
	if len(b.messages) > 0 {
		mo := &obj{}
		for _, n := range sortedKeys(b.messages) {
			m, err := b.messageObj(b.messages[n])
			if err != nil {
				return nil, err
			}
			mo.set(n, m)
		}
		doc.set("components", (&obj{}).set("messages", mo))
	}
	return doc, nil
}

func hasMessage(ms []ws.Message, name string) bool {
	for _, m := range ms {
		if m.Name == name {
			return true
		}
	}
	return false
}

var notIDChar = regexp.MustCompile(`[^\w.\-]+`)

// slug turns a route pattern or topic into a channel id: "/rooms/{room}"
// is "rooms-room".
func slug(p string) string {
	p = strings.NewReplacer("...}", "", "{", "", "}", "").Replace(p)
	s := strings.Trim(notIDChar.ReplaceAllString(p, "-"), "-")
	if s == "" {
		return "root"
	}
	return s
}

// uniqueID returns id, or id-2, id-3… when it is taken.
func uniqueID(taken map[string]bool, id string) string {
	c := id
	for n := 2; taken[c]; n++ {
		c = fmt.Sprintf("%s-%d", id, n)
	}
	taken[c] = true
	return c
}

// asyncServers renders the OpenAPI servers as AsyncAPI ones: https is
// wss, http ws; servers without a host (relative URLs) are left out.
func asyncServers(servers []Server) *obj {
	out := &obj{}
	ids := map[string]bool{}
	for i, s := range servers {
		u, err := url.Parse(s.URL)
		if err != nil || u.Host == "" {
			continue
		}
		proto := "wss"
		if u.Scheme == "http" || u.Scheme == "ws" {
			proto = "ws"
		}
		so := (&obj{}).set("host", u.Host).set("protocol", proto)
		if p := strings.TrimSuffix(u.Path, "/"); p != "" {
			so.set("pathname", p)
		}
		if s.Description != "" {
			so.set("description", s.Description)
		}
		id := slug(s.Description)
		if s.Description == "" {
			id = fmt.Sprintf("server%d", i+1)
		}
		out.set(uniqueID(ids, id), so)
	}
	if len(out.keys) == 0 {
		return nil
	}
	return out
}

// operationObj is an operation on channel id with messages, which the
// channel lists.
func operationObj(action, id, desc string, ms []ws.Message) *obj {
	o := (&obj{}).set("action", action).set("channel", (&obj{}).set("$ref", "#/channels/"+id))
	o.set("description", desc)
	if len(ms) > 0 {
		refs := make([]any, len(ms))
		for i, m := range ms {
			refs[i] = (&obj{}).set("$ref", "#/channels/"+id+"/messages/"+m.Name)
		}
		o.set("messages", refs)
	}
	return o
}

// declare records m, once for the document: a second declaration of one
// name must be the same message.
func (b *asyncBuilder) declare(m ws.Message, where string) error {
	if d, ok := b.messages[m.Name]; ok {
		if !reflect.DeepEqual(d.m, m) {
			return fmt.Errorf("message %q is declared differently by %s (%+v) and %s (%+v); give different messages different names", m.Name, d.route, d.m, where, m)
		}
		return nil
	}
	b.messages[m.Name] = declared{m: m, route: where}
	return nil
}

// channelMessages lists the messages of a channel, each a reference to
// its component.
func (b *asyncBuilder) channelMessages(where string, lists ...[]ws.Message) (*obj, error) {
	mo := &obj{}
	for _, ms := range lists {
		for _, m := range ms {
			if err := b.declare(m, where); err != nil {
				return nil, err
			}
			mo.set(m.Name, (&obj{}).set("$ref", "#/components/messages/"+m.Name))
		}
	}
	return mo, nil
}

// checkDiscriminators rejects two messages of one direction that the
// discriminator cannot tell apart.
func checkDiscriminators(dir string, ms []ws.Message) error {
	seen := map[[2]string]string{}
	for _, m := range ms {
		if m.Discriminator == "" {
			continue
		}
		k := [2]string{m.Discriminator, discriminatorValue(m)}
		if other, ok := seen[k]; ok {
			return fmt.Errorf("%s: messages %q and %q both have %s %q; give each its own DiscriminatorValue", dir, other, m.Name, k[0], k[1])
		}
		seen[k] = m.Name
	}
	return nil
}

func discriminatorValue(m ws.Message) string {
	if m.DiscriminatorValue != "" {
		return m.DiscriminatorValue
	}
	return m.Name
}

// routeChannel is the channel of one WebSocket route.
func (b *asyncBuilder) routeChannel(r *asyncRoute) (*obj, error) {
	api := r.api
	if err := checkDiscriminators("Receives", api.Receives); err != nil {
		return nil, err
	}
	if err := checkDiscriminators("Sends", api.Sends); err != nil {
		return nil, err
	}
	ch := (&obj{}).set("address", oasPath(api.Pattern))
	if api.Description != "" {
		ch.set("description", api.Description)
	}
	msgs, err := b.channelMessages("WebSocket route "+api.Pattern, api.Receives, api.Sends)
	if err != nil {
		return nil, err
	}
	if len(msgs.keys) > 0 {
		ch.set("messages", msgs)
	}
	params, query, headers, err := b.handshake(api)
	if err != nil {
		return nil, err
	}
	if params != nil {
		ch.set("parameters", params)
	}
	binding := (&obj{}).set("method", "GET")
	if query != nil {
		binding.set("query", query)
	}
	if headers != nil {
		binding.set("headers", headers)
	}
	binding.set("bindingVersion", "0.1.0")
	ch.set("bindings", (&obj{}).set("ws", binding))
	return ch, nil
}

// handshake describes the upgrade request: the path params as channel
// parameters, the query params and headers as the ws binding's schemas.
func (b *asyncBuilder) handshake(api ws.API) (params, query, headers *obj, err error) {
	var wild []string
	for _, seg := range strings.Split(api.Pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			wild = append(wild, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	pdoc := map[string]*obj{}
	qp, qreq := &obj{}, []any{}
	hp, hreq := &obj{}, []any{}
	if h := api.Handshake; h != nil {
		for i := range h.NumField() {
			f := h.Field(i)
			if name, ok := f.Tag.Lookup("path"); ok {
				po, err := pathParam(f)
				if err != nil {
					return nil, nil, nil, fmt.Errorf("handshake %s: field %s: %w", h, f.Name, err)
				}
				pdoc[name] = po
				continue
			}
			props, req := qp, &qreq
			name, ok := f.Tag.Lookup("query")
			if !ok {
				name = f.Tag.Get("header")
				props, req = hp, &hreq
			}
			sf, err := schema.FieldOf(f)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("handshake %s: %w", h, err)
			}
			s, err := b.reg.fieldSchema(&sf)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("handshake %s: field %s: %w", h, f.Name, err)
			}
			props.set(name, s)
			if sf.Required {
				*req = append(*req, name)
			}
		}
	}
	if len(api.Subprotocols) > 0 {
		ex := make([]any, len(api.Subprotocols))
		for i, p := range api.Subprotocols {
			ex[i] = p
		}
		hp.set("Sec-WebSocket-Protocol", (&obj{}).set("type", "string").
			set("description", "the subprotocols the client speaks; the server selects the first of "+strings.Join(api.Subprotocols, ", ")+" that it offers").
			set("examples", ex))
	}
	if len(wild) > 0 {
		params = &obj{}
		for _, w := range wild {
			po := pdoc[w]
			if po == nil {
				po = &obj{}
			}
			params.set(w, po)
		}
	}
	object := func(props *obj, req []any) *obj {
		if len(props.keys) == 0 {
			return nil
		}
		s := (&obj{}).set("type", "object").set("properties", props)
		if len(req) > 0 {
			s.set("required", req)
		}
		return s
	}
	return params, object(qp, qreq), object(hp, hreq), nil
}

// pathParam is the channel parameter of a path field: AsyncAPI 3.0
// parameters are strings with a description, an enum, a default and
// examples.
func pathParam(f reflect.StructField) (*obj, error) {
	c, _, err := graft.ParseConstraints(f.Tag)
	if err != nil {
		return nil, err
	}
	po := &obj{}
	if d := f.Tag.Get("doc"); d != "" {
		po.set("description", d)
	}
	if len(c.Enum) > 0 {
		e := make([]any, len(c.Enum))
		for i, v := range c.Enum {
			e[i] = v
		}
		po.set("enum", e)
	}
	if d, ok := f.Tag.Lookup("default"); ok {
		po.set("default", d)
	}
	if ex, ok := f.Tag.Lookup("example"); ok {
		po.set("examples", []any{ex})
	}
	return po, nil
}

// topicChannel is the channel of one topic.
func (b *asyncBuilder) topicChannel(t *asyncTopic) (*obj, error) {
	ch := (&obj{}).set("address", t.pattern)
	if t.description != "" {
		ch.set("description", t.description)
	}
	msgs, err := b.channelMessages("topic "+t.pattern, t.messages)
	if err != nil {
		return nil, err
	}
	if len(msgs.keys) > 0 {
		ch.set("messages", msgs)
	}
	if ps := topicParam.FindAllStringSubmatch(t.pattern, -1); len(ps) > 0 {
		po := &obj{}
		for _, p := range ps {
			po.set(p[1], &obj{})
		}
		ch.set("parameters", po)
	}
	return ch, nil
}

var topicParam = regexp.MustCompile(`\{([^{}]*)\}`)

// messageObj is the component of one message: its payload's schema from
// the registry, fixed to its discriminator value when it has one, and an
// example composed from the payload's example tags.
func (b *asyncBuilder) messageObj(d declared) (*obj, error) {
	m := d.m
	s, err := b.reg.schema(m.Payload)
	if err != nil {
		return nil, fmt.Errorf("openapi: AsyncAPI: message %q (%s): payload %s: %w", m.Name, d.route, m.Payload, err)
	}
	ex, hasEx := b.example(s, 0)
	if m.Discriminator != "" {
		if err := checkDiscriminator(m); err != nil {
			return nil, fmt.Errorf("openapi: AsyncAPI: message %q (%s): %w", m.Name, d.route, err)
		}
		v := discriminatorValue(m)
		s = (&obj{}).set("allOf", []any{s, (&obj{}).set("type", "object").
			set("properties", (&obj{}).set(m.Discriminator, (&obj{}).set("const", v))).
			set("required", []any{m.Discriminator})})
		if o, ok := ex.(*obj); ok && hasEx {
			o.set(m.Discriminator, v)
		}
	}
	mo := (&obj{}).set("name", m.Name)
	if m.Title != "" {
		mo.set("title", m.Title)
	}
	if m.Summary != "" {
		mo.set("summary", m.Summary)
	}
	if m.Description != "" {
		mo.set("description", m.Description)
	}
	if m.ContentType != "" && m.ContentType != "application/json" {
		mo.set("contentType", m.ContentType)
	}
	mo.set("payload", s)
	if hasEx {
		mo.set("examples", []any{(&obj{}).set("payload", ex)})
	}
	return mo, nil
}

// checkDiscriminator checks that a message's discriminator is a string
// property of its payload.
func checkDiscriminator(m ws.Message) error {
	t := m.Payload
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return fmt.Errorf("Discriminator %q: the payload %s is not a struct", m.Discriminator, m.Payload)
	}
	st, err := schema.StructOf(t)
	if err != nil {
		return err
	}
	var names []string
	for _, f := range st.Fields {
		if f.Name == m.Discriminator {
			if f.Type.Kind() != reflect.String {
				return fmt.Errorf("Discriminator %q: field %s.%s is a %s; the discriminator must be a string", m.Discriminator, t, f.GoName, f.Type)
			}
			return nil
		}
		names = append(names, f.Name)
	}
	return fmt.Errorf("Discriminator %q: the payload %s has no such property (it has %s)", m.Discriminator, t, strings.Join(names, ", "))
}

// asyncSchemas rewrites the document's schemas for the AsyncAPI schema
// format, JSON Schema draft 07, where keywords beside a $ref are ignored:
// they move into an allOf with it, as in the 3.0 rendering.
func asyncSchemas(v any) {
	switch v := v.(type) {
	case *obj:
		refToAllOf(v)
		for i, k := range v.keys {
			switch k {
			case "examples", "example", "default", "enum", "const":
				// user data: never rewritten
			case "properties", "schemas", "messages", "channels", "operations", "parameters":
				// maps whose keys are names, not keywords
				if m, ok := v.vals[i].(*obj); ok {
					for _, x := range m.vals {
						asyncSchemas(x)
					}
				}
			default:
				asyncSchemas(v.vals[i])
			}
		}
	case []any:
		for _, x := range v {
			asyncSchemas(x)
		}
	}
}
