package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/internal/schema"
)

// ref is a reference to the component schema of a named struct type; its
// name is fixed once every type of the document is known (names), so that
// a name never depends on which endpoint mentioned the type first.
type ref struct{ t reflect.Type }

// registry collects the component schemas of one document.
type registry struct {
	defs  map[reflect.Type]*obj
	order []reflect.Type // first use, for error messages only
	names map[reflect.Type]string
}

func newRegistry() *registry {
	return &registry{defs: map[reflect.Type]*obj{}}
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	durationType  = reflect.TypeFor[time.Duration]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	bytesType     = reflect.TypeFor[[]byte]()
	problemType   = reflect.TypeFor[graft.Problem]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// schema returns the schema of values of t: a ref for named structs, an
// inline schema otherwise.
func (r *registry) schema(t reflect.Type) (any, error) {
	switch {
	case t == timeType:
		return (&obj{}).set("type", "string").set("format", "date-time"), nil
	case t == rawType:
		return &obj{}, nil
	case t == bytesType || t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !t.Implements(jsonMarshaler):
		return (&obj{}).set("type", "string").set("contentEncoding", "base64"), nil
	case t == durationType:
		return (&obj{}).set("type", "integer").set("format", "int64").set("description", "nanoseconds"), nil
	case t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler):
		return &obj{}, nil // encodes itself: nothing is known of its shape
	case t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler):
		return (&obj{}).set("type", "string"), nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return (&obj{}).set("type", "boolean"), nil
	case reflect.Int, reflect.Int64:
		return (&obj{}).set("type", "integer").set("format", "int64"), nil
	case reflect.Int32:
		return (&obj{}).set("type", "integer").set("format", "int32"), nil
	case reflect.Int8, reflect.Int16:
		// The range encoding/json accepts: a value past it is a 422.
		lim := int64(1) << (t.Bits() - 1)
		return (&obj{}).set("type", "integer").set("format", "int32").set("minimum", -lim).set("maximum", lim-1), nil
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return (&obj{}).set("type", "integer").set("format", "int64").set("minimum", 0), nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return (&obj{}).set("type", "integer").set("format", "int32").set("minimum", 0).set("maximum", int64(1)<<t.Bits()-1), nil
	case reflect.Float32:
		return (&obj{}).set("type", "number").set("format", "float"), nil
	case reflect.Float64:
		return (&obj{}).set("type", "number").set("format", "double"), nil
	case reflect.String:
		return (&obj{}).set("type", "string"), nil
	case reflect.Interface:
		return &obj{}, nil
	case reflect.Pointer:
		inner, err := r.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return nullable(inner), nil
	case reflect.Slice, reflect.Array:
		items, err := r.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		s := (&obj{}).set("type", "array").set("items", items)
		if t.Kind() == reflect.Array {
			s.set("minItems", t.Len()).set("maxItems", t.Len())
		}
		return s, nil
	case reflect.Map:
		k := t.Key()
		switch {
		case k.Kind() == reflect.String, k.Implements(textMarshaler), k.Kind() >= reflect.Int && k.Kind() <= reflect.Uintptr:
		default:
			return nil, fmt.Errorf("map key type %s cannot be a JSON object key", k)
		}
		vs, err := r.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return (&obj{}).set("type", "object").set("additionalProperties", vs), nil
	case reflect.Struct:
		if t.Name() == "" {
			return r.structSchema(t)
		}
		if _, ok := r.defs[t]; !ok {
			r.defs[t] = nil // recursion: the ref is enough while it is built
			r.order = append(r.order, t)
			var s *obj
			var err error
			if t == problemType {
				s, err = r.problemSchema()
			} else {
				s, err = r.structSchema(t)
			}
			if err != nil {
				delete(r.defs, t)
				return nil, err
			}
			r.defs[t] = s
		}
		return ref{t}, nil
	}
	return nil, fmt.Errorf("%s values cannot be encoded as JSON", t)
}

// nullable makes a scalar schema accept null too: a pointer to a scalar
// may be nil. References (pointers to structs) and arrays stay as they
// are: they are optional, not null, in what clients handle (Huma's rule).
func nullable(s any) any {
	o, ok := s.(*obj)
	if !ok {
		return s
	}
	t, ok := o.get("type")
	if !ok {
		return s
	}
	ts, ok := t.(string)
	if !ok || ts == "array" || ts == "object" {
		return s
	}
	c := clone(o).(*obj)
	c.set("type", []any{ts, "null"})
	return c
}

// nilIsNull reports whether a field of type t, without omitempty, is
// written as null when nil: a slice or a map (through pointers), which
// encoding/json encodes so; a request may send null for it too (null is
// "not sent").
func nilIsNull(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return (t.Kind() == reflect.Slice || t.Kind() == reflect.Map) && !t.Implements(jsonMarshaler) && !reflect.PointerTo(t).Implements(jsonMarshaler)
}

// orNull makes an inline schema accept null too, arrays and objects
// included.
func orNull(s any) any {
	o, ok := s.(*obj)
	if !ok {
		return s
	}
	ts, ok := o.get("type")
	if t, isStr := ts.(string); ok && isStr {
		c := clone(o).(*obj)
		c.set("type", []any{t, "null"})
		return c
	}
	return s
}

// structSchema builds the object schema of a struct type from its
// fields as the validator sees them (schema.StructOf).
func (r *registry) structSchema(t reflect.Type) (*obj, error) {
	st, err := schema.StructOf(t)
	if err != nil {
		return nil, err
	}
	props := &obj{}
	var required []any
	for i := range st.Fields {
		f := &st.Fields[i]
		s, err := r.fieldSchema(f)
		if err != nil {
			return nil, fmt.Errorf("field %s.%s: %w", t, f.GoName, err)
		}
		props.set(f.Name, s)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	s := (&obj{}).set("type", "object").set("properties", props)
	if len(required) > 0 {
		s.set("required", required)
	}
	return s, nil
}

// fieldSchema builds the schema of one struct field: its type's schema
// (a string for a ",string" field) with the field's validation
// constraints, `doc` (description) and `example` tags.
func (r *registry) fieldSchema(f *schema.Field) (any, error) {
	var s any
	var err error
	t := f.Type
	if f.Required {
		// null is "not sent" to the validator, so a required field cannot
		// be null, pointer or not.
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	if f.Quoted {
		if s = quotedSchema(t); t.Kind() == reflect.Pointer {
			s = nullable(s)
		}
	} else if s, err = r.schema(t); err != nil {
		return nil, err
	} else if !f.Required && !f.OmitEmpty && nilIsNull(t) {
		s = orNull(s)
	}
	if s, err = constrain(s, f.Type, graft.Constraints(f.Constraints)); err != nil {
		return nil, err
	}
	return annotateField(s, f)
}

// quotedSchema is the schema of a ",string" value of type t: a string
// holding the JSON text encoding/json reads into t.
func quotedSchema(t reflect.Type) *obj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	o := (&obj{}).set("type", "string")
	switch k := t.Kind(); {
	case k == reflect.Bool:
		o.set("pattern", "^(true|false)$")
	case k >= reflect.Int && k <= reflect.Int64:
		o.set("pattern", "^-?(0|[1-9][0-9]*)$")
	case k >= reflect.Uint && k <= reflect.Uintptr:
		o.set("pattern", "^(0|[1-9][0-9]*)$")
	case k == reflect.Float32 || k == reflect.Float64:
		o.set("pattern", "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$")
	case k == reflect.String:
		o.set("pattern", `^".*"$`)
	}
	return o
}

// annotateField adds a field's description, deprecation and example.
func annotateField(s any, f *schema.Field) (any, error) {
	if f.Doc == "" && !f.HasExample && !f.Deprecated {
		return s, nil
	}
	o := own(s)
	if f.Doc != "" {
		o.set("description", f.Doc)
	}
	if f.Deprecated {
		o.set("deprecated", true)
	}
	if f.HasExample {
		v, err := exampleValue(f.Type, f.Example, f.Quoted)
		if err != nil {
			return nil, err
		}
		o.set("examples", []any{v})
	}
	return o, nil
}

// exampleValue reads an `example` tag: the text itself for strings, JSON
// for other types.
func exampleValue(t reflect.Type, ex string, asString bool) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if asString || t.Kind() == reflect.String || t == timeType || (t.Kind() != reflect.Struct && t.Implements(textMarshaler)) {
		return ex, nil
	}
	d := json.NewDecoder(strings.NewReader(ex))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("example:%q is not JSON for a %s: %v", ex, t, err)
	}
	return fromJSON(v), nil
}

// own returns s as an object the caller may change: a copy of an inline
// schema, or, for a ref, a schema holding the ref (3.1 allows keywords
// beside $ref; the 3.0 rendering wraps it in allOf).
func own(s any) *obj {
	switch s := s.(type) {
	case *obj:
		return clone(s).(*obj)
	case ref:
		return (&obj{}).set("$ref", s)
	}
	return &obj{}
}

// constrain applies validation constraints to the schema of a value of
// type t, where the validator applies them: to what a pointer points to,
// to a slice's or map's length (minLength, maxLength) and its elements
// (the rest).
func constrain(s any, t reflect.Type, c graft.Constraints) (any, error) {
	if c.Min == nil && c.Max == nil && c.MinLength == nil && c.MaxLength == nil && c.Pattern == "" && len(c.Enum) == 0 && c.Format == "" {
		return s, nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	o := own(s)
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		if t == bytesType {
			break
		}
		lo, hi := "minItems", "maxItems"
		inner := "items"
		if t.Kind() == reflect.Map {
			lo, hi, inner = "minProperties", "maxProperties", "additionalProperties"
		}
		if c.MinLength != nil {
			o.set(lo, *c.MinLength)
		}
		if c.MaxLength != nil {
			o.set(hi, *c.MaxLength)
		}
		ec := c
		ec.MinLength, ec.MaxLength = nil, nil
		is, _ := o.get(inner)
		es, err := constrain(is, t.Elem(), ec)
		if err != nil {
			return nil, err
		}
		o.set(inner, es)
		return o, nil
	}
	if c.Min != nil {
		o.set("minimum", number(*c.Min))
	}
	if c.Max != nil {
		o.set("maximum", number(*c.Max))
	}
	if c.MinLength != nil {
		o.set("minLength", *c.MinLength)
	}
	if c.MaxLength != nil {
		o.set("maxLength", *c.MaxLength)
	}
	if c.Pattern != "" {
		o.set("pattern", c.Pattern)
	}
	if c.Format != "" {
		o.set("format", c.Format)
	}
	if len(c.Enum) > 0 {
		vals := make([]any, 0, len(c.Enum))
		for _, e := range c.Enum {
			v, err := scalarValue(t, e)
			if err != nil {
				return nil, fmt.Errorf("enum value %q: %v", e, err)
			}
			vals = append(vals, v)
		}
		if ts, ok := o.get("type"); ok {
			if tl, ok := ts.([]any); ok && slices.Contains(tl, any("null")) {
				// A nullable value (a pointer) may be null, which the
				// validator takes as not sent: enum constrains every
				// value, null too, so it must list it (JSON Schema, and
				// OpenAPI 3.0.3 for nullable). FuzzOpenAPITypes found it.
				vals = append(vals, nil)
			}
		}
		o.set("enum", vals)
	}
	return o, nil
}

// number renders a float that holds an integer as an integer.
func number(f float64) any {
	if f == float64(int64(f)) {
		return int64(f)
	}
	return f
}

// scalarValue converts a tag's text (an enum value, a default) to the
// JSON value of a scalar of type t.
func scalarValue(t reflect.Type, s string) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return strconv.ParseBool(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.ParseInt(s, 10, 64)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.ParseUint(s, 10, 64)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		return number(f), err
	}
	return s, nil
}

// problemSchema is graft.Problem's schema, written out so that it carries
// what the type cannot say: which members are always there and what the
// 422's errors list holds.
func (r *registry) problemSchema() (*obj, error) {
	fe := (&obj{}).set("type", "object").
		set("description", "one failing request field").
		set("properties", (&obj{}).
			set("location", (&obj{}).set("type", "string").set("description", `where the field is: "body.age", "query.limit", "header.X-Token", "body.tags[2]"`).set("examples", []any{"body.age"})).
			set("message", (&obj{}).set("type", "string").set("description", "what is wrong with it").set("examples", []any{"must be at least 18"})).
			set("value", (&obj{}).set("description", "the offending value, when it is safe to echo"))).
		set("required", []any{"location", "message"})
	props := (&obj{}).
		set("type", (&obj{}).set("type", "string").set("description", `a URI naming the problem type; "about:blank" when the status says it all`).set("examples", []any{"about:blank"})).
		set("title", (&obj{}).set("type", "string").set("description", "the status text or a short summary").set("examples", []any{"Unprocessable Entity"})).
		set("status", (&obj{}).set("type", "integer").set("format", "int64").set("description", "the HTTP status").set("examples", []any{422})).
		set("detail", (&obj{}).set("type", "string").set("description", "what happened in this occurrence")).
		set("instance", (&obj{}).set("type", "string").set("description", "the request path")).
		set("errors", (&obj{}).set("type", "array").set("description", "every failing field (422), at most 100").set("items", fe)).
		set("errorsTruncated", (&obj{}).set("type", "boolean").set("description", "true when the request had more failing fields than errors lists"))
	return (&obj{}).set("type", "object").
		set("description", "RFC 9457 problem details").
		set("properties", props).
		set("required", []any{"type", "title", "status"}), nil
}

// nameTypes gives every component a name: the Go type's name, type
// arguments folded in (Page[User] is PageUser); where two types would get
// the same name, each is qualified with its package's last path element,
// then, if that still collides, with its full package path. Names depend
// only on the set of types, not on the order they were met.
func (r *registry) nameTypes() {
	r.names = map[reflect.Type]string{}
	groups := map[string][]reflect.Type{}
	for t := range r.defs {
		n := baseName(t)
		groups[n] = append(groups[n], t)
	}
	for n, ts := range groups {
		if len(ts) == 1 {
			r.names[ts[0]] = n
			continue
		}
		qual := map[string][]reflect.Type{}
		for _, t := range ts {
			var q string
			if strings.Contains(t.Name(), "[") {
				q = argsName(t.Name()) // Page[a.User]: PageAUser
			} else {
				p := t.PkgPath()
				q = pathName(p[strings.LastIndexByte(p, '/')+1:]) + n // a.User: AUser
			}
			qual[q] = append(qual[q], t)
		}
		for q, qs := range qual {
			if len(qs) == 1 {
				r.names[qs[0]] = q
				continue
			}
			for _, t := range qs {
				r.names[t] = pathName(t.PkgPath()) + pathName(t.String())
			}
		}
	}
}

// baseName is the component name of a type before qualification.
func baseName(t reflect.Type) string {
	if t == problemType {
		return "Problem"
	}
	return identName(t.Name())
}

// identName folds a Go type name, with its type arguments, into a
// component name: package paths are dropped, slices become List, maps Map,
// each word is capitalised: "Page[[]example.com/x.User]" is
// "PageListUser".
func identName(s string) string { return foldName(s, false) }

// argsName is identName with each type argument qualified by the last
// element of its package path: "Page[example.com/x/a.User]" is
// "PageAUser".
func argsName(s string) string { return foldName(s, true) }

func foldName(s string, qualify bool) string {
	var b strings.Builder
	word := func(w string) {
		w = w[strings.LastIndexByte(w, '/')+1:] // the package path up to its last element
		if qualify {
			b.WriteString(pathName(w))
			return
		}
		if i := strings.LastIndexByte(w, '.'); i >= 0 {
			w = w[i+1:]
		}
		if w == "" {
			return
		}
		rs := []rune(w)
		rs[0] = unicode.ToUpper(rs[0])
		b.WriteString(string(rs))
	}
	start := -1
	for i, c := range s {
		isWord := c == '_' || c == '.' || c == '/' || c == '-' || unicode.IsLetter(c) || unicode.IsDigit(c)
		if isWord {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			word(s[start:i])
			start = -1
		}
		if c == '[' && i+1 < len(s) && s[i+1] == ']' {
			b.WriteString("List")
		}
	}
	if start >= 0 {
		word(s[start:])
	}
	return b.String()
}

// pathName folds a package path into a name: "example.com/a-b/c" is
// "ExampleComABC".
func pathName(p string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(p, func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) }) {
		rs := []rune(w)
		rs[0] = unicode.ToUpper(rs[0])
		b.WriteString(string(rs))
	}
	return b.String()
}

// deprecatedTag reads a field's `deprecated:"true"` tag.
func deprecatedTag(tag reflect.StructTag) (bool, error) {
	v, ok := tag.Lookup("deprecated")
	if !ok {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf(`deprecated:%q: use deprecated:"true"`, v)
	}
	return b, nil
}
