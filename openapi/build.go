package openapi

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/graftgo/graft"
)

// Info is the document's info object, and where the API is served.
type Info struct {
	// Title and Version are required: the document is invalid without.
	Title, Version string
	// Description says what the API is for (CommonMark).
	Description string
	// Servers lists the base URLs the API is served at; none means the
	// document's own origin.
	Servers []Server
}

// Server is one base URL of the API.
type Server struct {
	URL, Description string
}

var (
	readerType = reflect.TypeFor[io.Reader]()
	fileType   = reflect.TypeFor[*multipart.FileHeader]()
)

// methodOrder is the order of operations under one path.
var methodOrder = []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions, http.MethodHead, http.MethodPatch, http.MethodTrace}

// builder turns the typed endpoints of an app into an OpenAPI 3.1 document.
type builder struct {
	reg     *registry
	schemes map[string]graft.SecurityScheme
	ids     map[string]string // operation id -> endpoint that has it
}

// build makes the 3.1 document of the typed endpoints among routes whose
// pattern is under prefix, with its schemas in reg; finish completes it
// once every document sharing reg is built.
func build(reg *registry, info Info, prefix string, routes []*graft.Route) (*obj, error) {
	if info.Title == "" || info.Version == "" {
		return nil, errors.New("openapi: Info needs a Title and a Version (the document is invalid without them)")
	}
	b := &builder{reg: reg, schemes: map[string]graft.SecurityScheme{}, ids: map[string]string{}}
	paths := map[string]*obj{}
	for _, ri := range routes {
		sig := graft.SignatureOf(ri)
		if sig == nil || !under(sig.Route, prefix) {
			continue
		}
		op, err := b.operation(sig, graft.OperationOf(ri))
		if err != nil {
			return nil, fmt.Errorf("openapi: endpoint %s %s: %w", sig.Method, sig.Route, err)
		}
		p := oasPath(sig.Route)
		if paths[p] == nil {
			paths[p] = &obj{}
		}
		paths[p].set(strings.ToLower(sig.Method), op)
	}

	doc := (&obj{}).set("openapi", "3.1.0")
	in := (&obj{}).set("title", info.Title)
	if info.Description != "" {
		in.set("description", info.Description)
	}
	in.set("version", info.Version)
	doc.set("info", in)
	if len(info.Servers) > 0 {
		var ss []any
		for _, s := range info.Servers {
			so := (&obj{}).set("url", s.URL)
			if s.Description != "" {
				so.set("description", s.Description)
			}
			ss = append(ss, so)
		}
		doc.set("servers", ss)
	}
	po := &obj{}
	for _, p := range sortedKeys(paths) {
		ops := paths[p]
		sorted := &obj{}
		for _, m := range methodOrder {
			if v, ok := ops.get(strings.ToLower(m)); ok {
				sorted.set(strings.ToLower(m), v)
			}
		}
		po.set(p, sorted)
	}
	doc.set("paths", po)
	if len(b.schemes) > 0 {
		so := &obj{}
		for _, n := range sortedKeys(b.schemes) {
			so.set(n, schemeObject(b.schemes[n]))
		}
		doc.set("components", (&obj{}).set("securitySchemes", so))
	}
	return doc, nil
}

// finish completes a document built with reg once reg holds the schemas
// of every document that shares it and named them (nameTypes): the
// components the document refers to, directly or through other
// components, go first in its components, and its refs become "$ref"s.
func finish(doc *obj, reg *registry) *obj {
	used := map[reflect.Type]bool{}
	var visit func(v any)
	visit = func(v any) {
		switch v := v.(type) {
		case ref:
			if !used[v.t] {
				used[v.t] = true
				visit(reg.defs[v.t])
			}
		case *obj:
			if v == nil {
				return
			}
			for _, x := range v.vals {
				visit(x)
			}
		case []any:
			for _, x := range v {
				visit(x)
			}
		}
	}
	visit(doc)
	if len(used) > 0 {
		byName := map[string]*obj{}
		for t := range used {
			byName[reg.names[t]] = clone(reg.defs[t]).(*obj)
		}
		so := &obj{}
		for _, n := range sortedKeys(byName) {
			so.set(n, byName[n])
		}
		comps := &obj{}
		if c, ok := doc.get("components"); ok {
			comps = c.(*obj)
		}
		rest := *comps
		*comps = obj{}
		comps.set("schemas", so)
		for i, k := range rest.keys {
			comps.set(k, rest.vals[i])
		}
		doc.set("components", comps)
	}
	return resolveRefs(doc, reg.names).(*obj)
}

// under reports whether route is in the scope of prefix.
func under(route, prefix string) bool {
	return prefix == "" || route == prefix || strings.HasPrefix(route, prefix+"/")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// resolveRefs replaces every ref with its "$ref" now that names are known.
func resolveRefs(v any, names map[reflect.Type]string) any {
	switch v := v.(type) {
	case ref:
		return (&obj{}).set("$ref", "#/components/schemas/"+names[v.t])
	case *obj:
		if r, ok := v.get("$ref"); ok {
			if r, ok := r.(ref); ok {
				v.set("$ref", "#/components/schemas/"+names[r.t])
			}
		}
		for i, x := range v.vals {
			v.vals[i] = resolveRefs(x, names)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = resolveRefs(x, names)
		}
	}
	return v
}

// oasPath writes a graft pattern as an OpenAPI path: a catch-all
// "{path...}" is "{path}".
func oasPath(route string) string {
	return strings.ReplaceAll(route, "...}", "}")
}

// operationID derives an id from the method and the path:
// "get-users-user_id".
func operationID(method, route string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(route, "/") {
		seg = strings.Trim(strings.TrimSuffix(seg, "...}"), "{}")
		if seg != "" {
			b.WriteByte('-')
			b.WriteString(seg)
		}
	}
	return b.String()
}

// operation builds one operation object.
func (b *builder) operation(sig *graft.Signature, od graft.Operation) (*obj, error) {
	op := &obj{}
	if len(od.Tags) > 0 {
		tags := make([]any, len(od.Tags))
		for i, t := range od.Tags {
			tags[i] = t
		}
		op.set("tags", tags)
	}
	if od.Summary != "" {
		op.set("summary", od.Summary)
	}
	if od.Description != "" {
		op.set("description", od.Description)
	}
	id := od.ID
	if id == "" {
		id = operationID(sig.Method, sig.Route)
	}
	who := sig.Method + " " + sig.Route
	if other, ok := b.ids[id]; ok {
		return nil, fmt.Errorf("operation id %q is also the id of %s; give one of them another with graft.OperationID", id, other)
	}
	b.ids[id] = who
	op.set("operationId", id)

	var params []any
	for _, group := range [][]graft.Param{sig.PathParams, sig.QueryParams, sig.HeaderParams, sig.CookieParams, sig.TransitiveParams} {
		for _, p := range group {
			if p.In == graft.InHeader && ignoredHeader(p.Name) {
				continue // OpenAPI ignores them: content and security describe them
			}
			po, err := b.param(sig, p)
			if err != nil {
				return nil, fmt.Errorf("param %s %q: %w", p.In, p.Name, err)
			}
			params = append(params, po)
		}
	}
	if len(params) > 0 {
		op.set("parameters", params)
	}
	if rb, err := b.requestBody(sig); err != nil {
		return nil, err
	} else if rb != nil {
		op.set("requestBody", rb)
	}
	resps := &obj{}
	returns := append([]graft.Return(nil), sig.Returns...)
	sort.SliceStable(returns, func(i, j int) bool { return returns[i].Status < returns[j].Status })
	for _, r := range returns {
		ro, err := b.response(r)
		if err != nil {
			return nil, fmt.Errorf("return %d: %w", r.Status, err)
		}
		resps.set(strconv.Itoa(r.Status), ro)
	}
	op.set("responses", resps)
	if od.Deprecated {
		op.set("deprecated", true)
	}
	if len(sig.Security) > 0 {
		var reqs []any
		for _, s := range sig.Security {
			if old, ok := b.schemes[s.Scheme.Name]; ok && !reflect.DeepEqual(old, s.Scheme) {
				return nil, fmt.Errorf("security scheme %q differs from the one of the same name on another endpoint (%+v, %+v); give different schemes different names", s.Scheme.Name, old, s.Scheme)
			}
			b.schemes[s.Scheme.Name] = s.Scheme
			scopes := make([]any, len(s.Scopes))
			for i, sc := range s.Scopes {
				scopes[i] = sc
			}
			reqs = append(reqs, (&obj{}).set(s.Scheme.Name, scopes))
		}
		op.set("security", reqs)
	}
	return op, nil
}

// ignoredHeader reports the header params OpenAPI ignores.
func ignoredHeader(name string) bool {
	return strings.EqualFold(name, "Accept") || strings.EqualFold(name, "Content-Type") || strings.EqualFold(name, "Authorization")
}

// fieldTag returns the struct tag of the In field a param is bound to.
func fieldTag(sig *graft.Signature, p graft.Param) reflect.StructTag {
	if p.Field == "" || sig.In == nil {
		return ""
	}
	t := sig.In
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	if f, ok := t.FieldByName(p.Field); ok {
		return f.Tag
	}
	return ""
}

// paramSchema is the schema of a param's (or form field's) value.
func (b *builder) paramSchema(sig *graft.Signature, p graft.Param) (any, error) {
	var s any
	var err error
	if p.File {
		s = fileSchema()
		if p.Type != nil && p.Type.Kind() == reflect.Slice {
			s = (&obj{}).set("type", "array").set("items", s)
		}
	} else if s, err = b.reg.schema(p.Type); err != nil {
		return nil, err
	}
	if s, err = constrain(s, p.Type, p.Constraints); err != nil {
		return nil, err
	}
	if p.Default != "" {
		o := own(s)
		d, err := defaultValue(p)
		if err != nil {
			return nil, err
		}
		o.set("default", d)
		s = o
	}
	tag := fieldTag(sig, p)
	if ex, ok := tag.Lookup("example"); ok {
		v, err := exampleValue(p.Type, ex, false)
		if err != nil {
			return nil, err
		}
		o := own(s)
		o.set("examples", []any{v})
		s = o
	}
	return s, nil
}

// fileSchema is the schema of an uploaded file.
func fileSchema() *obj {
	return (&obj{}).set("type", "string").set("contentMediaType", "application/octet-stream")
}

// defaultValue converts a param's `default` tag to its JSON value; a
// slice's default is split as the binder splits it.
func defaultValue(p graft.Param) (any, error) {
	t := p.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice && t != bytesType {
		var out []any
		for _, s := range strings.Split(p.Default, ",") {
			v, err := scalarValue(t.Elem(), s)
			if err != nil {
				return nil, fmt.Errorf("default %q: %v", p.Default, err)
			}
			out = append(out, v)
		}
		return out, nil
	}
	v, err := scalarValue(t, p.Default)
	if err != nil {
		return nil, fmt.Errorf("default %q: %v", p.Default, err)
	}
	return v, nil
}

// param builds a parameter object.
func (b *builder) param(sig *graft.Signature, p graft.Param) (*obj, error) {
	po := (&obj{}).set("name", p.Name).set("in", string(p.In))
	if p.Doc != "" {
		po.set("description", p.Doc)
	}
	if p.Required || p.In == graft.InPath {
		po.set("required", true)
	}
	if dep, err := deprecatedTag(fieldTag(sig, p)); err != nil {
		return nil, err
	} else if dep {
		po.set("deprecated", true)
	}
	if p.In == graft.InQuery && isSlice(p.Type) {
		po.set("style", "form").set("explode", p.Explode)
	}
	s, err := b.paramSchema(sig, p)
	if err != nil {
		return nil, err
	}
	po.set("schema", s)
	if ex, ok := examplesOf(s); ok {
		po.set("example", ex)
	}
	return po, nil
}

func isSlice(t reflect.Type) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.Kind() == reflect.Slice && t != bytesType
}

// examplesOf returns the first of a schema's own examples.
func examplesOf(s any) (any, bool) {
	o, ok := s.(*obj)
	if !ok {
		return nil, false
	}
	v, ok := o.get("examples")
	if !ok {
		return nil, false
	}
	if l, ok := v.([]any); ok && len(l) > 0 {
		return l[0], true
	}
	return nil, false
}

// requestBody builds the request body object of a Body or form endpoint.
func (b *builder) requestBody(sig *graft.Signature) (*obj, error) {
	switch {
	case sig.Body != nil:
		s, err := b.reg.schema(sig.Body.Type)
		if err != nil {
			return nil, fmt.Errorf("body %s: %w", sig.Body.Type, err)
		}
		content := &obj{}
		for _, mt := range sig.Body.MediaTypes {
			mo := (&obj{}).set("schema", s)
			if ex, ok := b.example(s, 0); ok {
				mo.set("example", ex)
			}
			content.set(mt, mo)
		}
		rb := (&obj{}).set("content", content)
		if sig.Body.Required {
			rb.set("required", true)
		}
		return rb, nil
	case sig.Form != nil:
		props := &obj{}
		var required []any
		enc := &obj{}
		example := &obj{}
		for _, f := range sig.Form.Fields {
			s, err := b.paramSchema(sig, f)
			if err != nil {
				return nil, fmt.Errorf("form field %q: %w", f.Name, err)
			}
			if f.Doc != "" {
				o := own(s)
				o.set("description", f.Doc)
				s = o
			}
			props.set(f.Name, s)
			if f.Required {
				required = append(required, f.Name)
			}
			if !f.File && isSlice(f.Type) && !f.Explode {
				enc.set(f.Name, (&obj{}).set("style", "form").set("explode", false))
			}
			if ex, ok := examplesOf(s); ok {
				example.set(f.Name, ex)
			}
		}
		s := (&obj{}).set("type", "object").set("properties", props)
		if len(required) > 0 {
			s.set("required", required)
		}
		mt := "application/x-www-form-urlencoded"
		if sig.Form.Multipart {
			mt = "multipart/form-data"
		}
		mo := (&obj{}).set("schema", s)
		if len(example.keys) > 0 && !sig.Form.Multipart {
			mo.set("example", example)
		}
		if len(enc.keys) > 0 {
			mo.set("encoding", enc)
		}
		rb := (&obj{}).set("content", (&obj{}).set(mt, mo))
		if len(required) > 0 {
			rb.set("required", true)
		}
		return rb, nil
	}
	return nil, nil
}

// response builds one response object.
func (b *builder) response(r graft.Return) (*obj, error) {
	desc := r.Description
	if desc == "" {
		desc = http.StatusText(r.Status)
	}
	ro := (&obj{}).set("description", desc)
	if len(r.Headers) > 0 {
		ho := &obj{}
		for _, h := range r.Headers {
			s, err := b.reg.schema(h.Type)
			if err != nil {
				return nil, fmt.Errorf("header %q: %w", h.Name, err)
			}
			hd := &obj{}
			if h.Doc != "" {
				hd.set("description", h.Doc)
			}
			if h.Required {
				hd.set("required", true)
			}
			hd.set("schema", s)
			ho.set(h.Name, hd)
		}
		ro.set("headers", ho)
	}
	if r.Type == nil || r.Encoder == "" {
		return ro, nil
	}
	mt := r.MediaType
	var s any
	var err error
	switch r.Encoder {
	case "json", "problem":
		if mt == "" {
			mt = "application/json"
		}
		s, err = b.reg.schema(r.Type)
	case "sse":
		var ev any
		if ev, err = b.reg.schema(r.Type); err == nil {
			s = (&obj{}).set("type", "array").
				set("description", "server-sent events: the data of each event is one item").
				set("items", ev)
		}
	default: // raw bytes or strings, streams
		if strings.HasPrefix(mt, "text/") || r.Type.Kind() == reflect.String {
			s = (&obj{}).set("type", "string")
		} else {
			base, _, _ := strings.Cut(mt, ";")
			s = (&obj{}).set("type", "string").set("contentMediaType", strings.TrimSpace(base))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Type, err)
	}
	mo := (&obj{}).set("schema", s)
	if r.Encoder == "json" {
		if ex, ok := b.example(s, 0); ok {
			mo.set("example", ex)
		}
	}
	ro.set("content", (&obj{}).set(mt, mo))
	return ro, nil
}

// example composes a value from the examples of a schema's properties
// (the `example` tags), for the media type's example. ok is false when no
// part of the schema has one.
func (b *builder) example(s any, depth int) (any, bool) {
	if depth > 8 {
		return nil, false
	}
	if r, ok := s.(ref); ok {
		return b.example(b.reg.defs[r.t], depth+1)
	}
	o, ok := s.(*obj)
	if !ok || o == nil {
		return nil, false
	}
	if ex, ok := examplesOf(o); ok {
		return ex, true
	}
	if r, ok := o.get("$ref"); ok {
		if r, ok := r.(ref); ok {
			return b.example(b.reg.defs[r.t], depth+1)
		}
	}
	if props, ok := o.get("properties"); ok {
		out := &obj{}
		p := props.(*obj)
		for i, k := range p.keys {
			if ex, ok := b.example(p.vals[i], depth+1); ok {
				out.set(k, ex)
			}
		}
		return out, len(out.keys) > 0
	}
	if items, ok := o.get("items"); ok {
		if ex, ok := b.example(items, depth+1); ok {
			return []any{ex}, true
		}
	}
	return nil, false
}

// schemeObject is a security scheme object.
func schemeObject(s graft.SecurityScheme) *obj {
	o := (&obj{}).set("type", s.Type)
	if s.Description != "" {
		o.set("description", s.Description)
	}
	switch s.Type {
	case "http":
		o.set("scheme", s.Scheme)
		if s.BearerFormat != "" {
			o.set("bearerFormat", s.BearerFormat)
		}
	case "apiKey":
		o.set("name", s.ParamName).set("in", string(s.In))
	case "openIdConnect":
		o.set("openIdConnectUrl", s.OpenIDConnectURL)
	}
	return o
}
