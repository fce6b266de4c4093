package kintest

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/openapi"
)

// FuzzOpenAPITypes builds a random struct type from the fuzz bytes with
// reflect.StructOf (fields of basic kinds, pointers, slices, maps with
// string keys, nested structs, embedded structs by value and by pointer,
// json tags with omitempty, "-" and ",string", and the validation tags the
// generator reads: required, min, max, minLength, maxLength, pattern,
// enum, format), puts it in an app's OpenAPI document and checks that
//
//   - the 3.1 and the 3.0 documents load and validate under kin-openapi;
//   - the JSON encoding/json writes for a filled value of the type (every
//     pointer, slice and map set, every value within its constraints)
//     validates against the generated schema (kin-openapi's VisitJSON);
//   - the JSON of the zero value validates exactly when the model zeroOK,
//     which reads the same tags by encoding/json's rules, says it should.
//
// A typed endpoint's In and Out are type parameters, which a type built at
// run time cannot be, so the type enters the document the public way a
// plugin has: Signature.AddReturn with a Return whose Type is the
// reflect.Type (docs/endpoints.md, Outcomes). The document describes a
// return's body with the same schema code as a request body.
func FuzzOpenAPITypes(f *testing.F) {
	for _, s := range []string{
		"",
		"\x05\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09",
		"\x06\x0a\x1b\x2c\x3d\x4e\x5f\x60\x71\x82\x93\xa4\xb5\xc6\xd7\xe8\xf9",
		"\x04\x09\x09\x09\x09\x08\x08\x08\x08\x07\x07\x07\x07",
		"\x03\x0b\x03\x0c\x04\x0d\x05\x0e\x06",
		"\x07\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0",
		"\x06\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &typeGen{data: data}
		typ := g.structType(0)
		checkType(t, typ)
	})
}

// TestOpenAPITypesFixed runs the checks on hand-written types that hold
// each feature at least once, so that the model is known to say both
// "valid" and "invalid" for zero values.
func TestOpenAPITypesFixed(t *testing.T) {
	type inner struct {
		Code int      `json:"code" min:"1"`
		Tags []string `json:"tags,omitempty" maxLength:"3" pattern:"^[a-z]+$"`
	}
	for _, tc := range []struct {
		typ    reflect.Type
		zeroOK bool
	}{
		{reflect.TypeFor[struct {
			A int     `json:"a"`
			B *string `json:"b"`
			C []int   `json:"c"`
		}](), true},
		{reflect.TypeFor[struct {
			A int `json:"a" min:"1"`
		}](), false},
		{reflect.TypeFor[struct {
			A int `json:"a,omitempty" required:"true"`
		}](), false},
		{reflect.TypeFor[struct {
			EmbA
			I inner `json:"i"`
		}](), false},
		{reflect.TypeFor[struct {
			*EmbB
			N int `json:"n,string"`
		}](), true},
		{reflect.TypeFor[struct {
			M map[string]inner `json:"m" minLength:"1"`
			S string           `json:"s" enum:"x,y"`
		}](), false},
		{reflect.TypeFor[struct {
			S string `json:"s" enum:",x"`
			T string `json:"-" required:"true"`
		}](), true},
	} {
		checkType(t, tc.typ)
		if got := zeroOK(tc.typ); got != tc.zeroOK {
			t.Errorf("%v: zeroOK %v, want %v", tc.typ, got, tc.zeroOK)
		}
	}
}

// EmbA and EmbB are the named structs the generated types embed
// (reflect.StructOf embeds named types only).
type EmbA struct {
	EA1 int    `json:"ea1" min:"0" max:"9"`
	EA2 string `json:"ea2,omitempty" maxLength:"5"`
}

type EmbB struct {
	EB1 []string `json:"eb1" maxLength:"2"`
	EB2 *bool    `json:"eb2"`
}

// checkType builds an app whose document holds typ and runs the checks.
func checkType(t *testing.T, typ reflect.Type) {
	t.Helper()
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	ext := openapi.Extension(openapi.Info{Title: "fuzz", Version: "1.0.0"}).WithoutDocs()
	app.Register(ext)
	ret := graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
		sig.AddReturn(graft.Return{Status: 200, Type: typ, MediaType: "application/json", Encoder: "json", Description: "the fuzzed type"})
		return next, nil
	})
	graft.Get(app, "/t", func(context.Context, *struct{}) (*graft.NoContent, error) { return nil, nil }, graft.Plugins(ret))
	if err := app.Start(context.Background()); err != nil {
		t.Fatalf("%v: start-up: %v", typ, err)
	}
	defer func() { _ = app.Stop(context.Background()) }()
	for _, raw := range [][]byte{ext.JSON(), ext.JSON30()} {
		doc, err := openapi3.NewLoader().LoadFromData(raw)
		if err != nil {
			t.Fatalf("%v: kin-openapi cannot load the document: %v\n%s", typ, err, raw)
		}
		if err := doc.Validate(context.Background(), openapi3.EnableSchemaPatternValidation()); err != nil {
			t.Fatalf("%v: %s invalid: %v\n%s", typ, doc.OpenAPI, err, raw)
		}
		s := doc.Paths.Find("/t").Get.Responses.Status(200).Value.Content["application/json"].Schema.Value
		full := reflect.New(typ).Elem()
		fill(full, 0)
		if err := validate(doc, s, jsonOf(t, full)); err != nil {
			t.Fatalf("%v: %s: a filled value %s is refused: %v\nschema: %s", typ, doc.OpenAPI, jsonText(full), firstLine(err), schemaText(s))
		}
		zero := reflect.New(typ).Elem()
		err = validate(doc, s, jsonOf(t, zero))
		if want := zeroOK(typ); (err == nil) != want {
			t.Fatalf("%v: %s: the zero value %s: schema valid=%v (%v), the model says %v\nschema: %s", typ, doc.OpenAPI, jsonText(zero), err == nil, firstLine(err), want, schemaText(s))
		}
	}
}

func jsonOf(t *testing.T, v reflect.Value) any {
	b, err := json.Marshal(v.Interface())
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func jsonText(v reflect.Value) string {
	b, _ := json.Marshal(v.Interface())
	return string(b)
}

func schemaText(s *openapi3.Schema) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// typeGen turns bytes into a type; past the end it reads zeros.
type typeGen struct {
	data []byte
	n    int // fields made, for unique names
}

func (g *typeGen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

var embedded = []reflect.Type{reflect.TypeFor[EmbA](), reflect.TypeFor[EmbB]()}

// structType makes a struct of up to 7 fields; depth bounds nesting.
func (g *typeGen) structType(depth int) reflect.Type {
	nf := int(g.byte() % 8)
	var fields []reflect.StructField
	used := map[reflect.Type]bool{}
	for range nf {
		b := g.byte()
		if b%11 == 10 && depth < 2 {
			// An embedded named struct, by value or by pointer, each once.
			et := embedded[int(b/11)%len(embedded)]
			if used[et] {
				continue
			}
			used[et] = true
			ft := et
			if b&0x80 != 0 {
				ft = reflect.PointerTo(et)
			}
			fields = append(fields, reflect.StructField{Name: et.Name(), Type: ft, Anonymous: true})
			continue
		}
		ft, scalar := g.fieldType(b, depth)
		g.n++
		name := "F" + strconv.Itoa(g.n)
		tag := g.tag(ft, scalar, "f"+strconv.Itoa(g.n))
		fields = append(fields, reflect.StructField{Name: name, Type: ft, Tag: reflect.StructTag(tag)})
	}
	return reflect.StructOf(fields)
}

var scalars = []reflect.Type{
	reflect.TypeFor[bool](), reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[int32](),
	reflect.TypeFor[uint16](), reflect.TypeFor[float64](), reflect.TypeFor[string](),
}

// fieldType picks a field's type; scalar reports a scalar (or pointer to
// one), which may take ",string".
func (g *typeGen) fieldType(b byte, depth int) (reflect.Type, bool) {
	switch k := b % 11; {
	case k < 7:
		return scalars[k], true
	case k == 7:
		return reflect.PointerTo(scalars[int(b/11)%len(scalars)]), true
	case k == 8:
		if depth < 2 && b&0x80 != 0 {
			return reflect.SliceOf(g.structType(depth + 1)), false
		}
		return reflect.SliceOf(scalars[int(b/11)%len(scalars)]), false
	case k == 9:
		if depth < 2 && b&0x80 != 0 {
			return reflect.MapOf(reflect.TypeFor[string](), g.structType(depth+1)), false
		}
		return reflect.MapOf(reflect.TypeFor[string](), scalars[int(b/11)%len(scalars)]), false
	}
	if depth < 2 {
		st := g.structType(depth + 1)
		if b&0x80 != 0 {
			return reflect.PointerTo(st), false
		}
		return st, false
	}
	return scalars[6], true
}

// tag makes a field's json tag and validation tags. Constraints always
// leave a value that meets them (min <= max, minLength <= maxLength, a
// pattern and a format that a short lowercase or well-formed string meets);
// ",string" fields take none.
func (g *typeGen) tag(ft reflect.Type, scalar bool, name string) string {
	b := g.byte()
	var parts []string
	j := name
	switch b & 3 {
	case 1:
		j += ",omitempty"
	case 2:
		if scalar && ft.Kind() != reflect.String && (ft.Kind() != reflect.Pointer || ft.Elem().Kind() != reflect.String) {
			j += ",string"
		}
	case 3:
		if b&4 != 0 {
			j = "-"
		}
	}
	parts = append(parts, `json:"`+j+`"`)
	if b&8 != 0 {
		parts = append(parts, `required:"true"`)
	}
	if strings.HasSuffix(j, ",string") {
		return strings.Join(parts, " ")
	}
	c := g.byte()
	base := ft
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	elem := false
	if base.Kind() == reflect.Slice || base.Kind() == reflect.Map {
		elem = true
		lo := int(c & 3)
		if c&4 != 0 {
			parts = append(parts, `minLength:"`+strconv.Itoa(lo)+`"`)
		}
		if c&8 != 0 {
			parts = append(parts, `maxLength:"`+strconv.Itoa(max(lo, 1)+int(c>>6))+`"`)
		}
		base = base.Elem()
		for base.Kind() == reflect.Pointer {
			base = base.Elem()
		}
		c = g.byte()
	}
	switch base.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int32, reflect.Uint16, reflect.Float64:
		lo := int(c&7) - 2
		if base.Kind() == reflect.Uint16 {
			lo = max(lo, 0)
		}
		switch c >> 6 {
		case 1:
			parts = append(parts, `min:"`+strconv.Itoa(lo)+`"`)
		case 2:
			parts = append(parts, `min:"`+strconv.Itoa(lo)+`" max:"`+strconv.Itoa(lo+1+int(c>>3&7))+`"`)
		case 3:
			parts = append(parts, `enum:"`+strconv.Itoa(lo)+`,`+strconv.Itoa(lo+2)+`"`)
		}
	case reflect.String:
		switch c >> 5 {
		case 1:
			if !elem { // on a slice or map, the lengths are its own
				parts = append(parts, `minLength:"`+strconv.Itoa(int(c&3))+`" maxLength:"`+strconv.Itoa(int(c&3)+1+int(c>>2&3))+`"`)
			}
		case 2:
			parts = append(parts, `pattern:"^[a-z]*$"`)
		case 3:
			if !elem {
				parts = append(parts, `pattern:"^[a-z]+$" maxLength:"8"`)
			} else {
				parts = append(parts, `pattern:"^[a-z]+$"`)
			}
		case 4:
			parts = append(parts, `enum:"red,green"`)
		case 5:
			parts = append(parts, `enum:",red"`)
		case 6:
			parts = append(parts, `format:"email"`)
		case 7:
			parts = append(parts, `format:"date-time"`)
		}
	}
	return strings.Join(parts, " ")
}

// tagInfo is what the model reads of a field's tags.
type tagInfo struct {
	name                 string
	skip, omit, quoted   bool
	required             bool
	min, max             *float64
	minLen, maxLen       *int
	pattern, format      string
	enum                 []string
	hasScalarConstraints bool
}

func info(sf reflect.StructField) tagInfo {
	var ti tagInfo
	j := sf.Tag.Get("json")
	if j == "-" {
		ti.skip = true
		return ti
	}
	name, opts, _ := strings.Cut(j, ",")
	ti.name = name
	ti.omit = strings.Contains(","+opts+",", ",omitempty,")
	ti.quoted = strings.Contains(","+opts+",", ",string,")
	ti.required = sf.Tag.Get("required") == "true"
	num := func(k string) *float64 {
		if v, ok := sf.Tag.Lookup(k); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return &f
		}
		return nil
	}
	in := func(k string) *int {
		if v, ok := sf.Tag.Lookup(k); ok {
			n, _ := strconv.Atoi(v)
			return &n
		}
		return nil
	}
	ti.min, ti.max, ti.minLen, ti.maxLen = num("min"), num("max"), in("minLength"), in("maxLength")
	ti.pattern, ti.format = sf.Tag.Get("pattern"), sf.Tag.Get("format")
	if e, ok := sf.Tag.Lookup("enum"); ok {
		ti.enum = strings.Split(e, ",")
	}
	return ti
}

// fill sets v to a value that meets its constraints, with every pointer,
// slice and map set (one item, one entry).
func fill(v reflect.Value, depth int) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		ti := info(sf)
		fillValue(v.Field(i), ti, depth)
	}
}

func fillValue(v reflect.Value, ti tagInfo, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(v.Elem(), ti, depth)
	case reflect.Struct:
		fill(v, depth+1)
	case reflect.Slice:
		n := 1
		if ti.minLen != nil {
			n = max(n, *ti.minLen)
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fillElem(s.Index(i), ti, depth)
		}
		v.Set(s)
	case reflect.Map:
		n := 1
		if ti.minLen != nil {
			n = max(n, *ti.minLen)
		}
		m := reflect.MakeMap(v.Type())
		for i := range n {
			e := reflect.New(v.Type().Elem()).Elem()
			fillElem(e, ti, depth)
			m.SetMapIndex(reflect.ValueOf("k"+strconv.Itoa(i)), e)
		}
		v.Set(m)
	default:
		fillScalar(v, ti)
	}
}

// fillElem fills a slice item or map value: the field's constraints but
// its lengths apply to it.
func fillElem(v reflect.Value, ti tagInfo, depth int) {
	ti.minLen, ti.maxLen = nil, nil
	fillValue(v, ti, depth)
}

func fillScalar(v reflect.Value, ti tagInfo) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.String:
		s := "abc"
		switch {
		case len(ti.enum) > 0:
			s = ti.enum[len(ti.enum)-1]
		case ti.format == "email":
			s = "a@example.com"
		case ti.format == "date-time":
			s = "2026-01-02T03:04:05Z"
		case ti.minLen != nil:
			s = strings.Repeat("a", max(*ti.minLen, 1))
		}
		v.SetString(s)
	case reflect.Float64:
		v.SetFloat(fillNumber(ti, 1.5))
	default:
		n := fillNumber(ti, 1)
		if v.CanInt() {
			v.SetInt(int64(n))
		} else {
			v.SetUint(uint64(n))
		}
	}
}

// fillNumber is a number within the constraints, not zero (which
// omitempty would leave out): def, the least enum value but 0, or the
// minimum (plus one when it is 0; the generator gives a range room for it).
func fillNumber(ti tagInfo, def float64) float64 {
	switch {
	case len(ti.enum) > 0:
		n, _ := strconv.ParseFloat(ti.enum[0], 64)
		if n == 0 {
			n, _ = strconv.ParseFloat(ti.enum[1], 64)
		}
		return n
	case ti.min != nil && *ti.min == 0:
		return 1
	case ti.min != nil:
		return *ti.min
	}
	return def
}

// zeroOK is the model of the zero value's verdict: the fields
// encoding/json writes for it (promoted from embedded structs, not behind
// a nil embedded pointer, not "-", not omitted by omitempty) and the
// generator's schema rules (docs/openapi.md): a required field must be
// there and not null; a nil pointer to a struct, written as null, is
// refused (such a field is optional, not null, in the schema); a nil
// slice, map or pointer to a scalar is null, which is allowed when the
// field is not required; a zero scalar must meet its constraints; a
// struct value must hold to the same rules.
func zeroOK(t reflect.Type) bool {
	for i := range t.NumField() {
		sf := t.Field(i)
		ti := info(sf)
		if ti.skip || !sf.IsExported() && !sf.Anonymous {
			continue
		}
		if sf.Anonymous && ti.name == "" {
			if sf.Type.Kind() == reflect.Pointer {
				// A nil embedded pointer: its fields are not written.
				if anyRequired(sf.Type.Elem()) {
					return false
				}
				continue
			}
			if !zeroOK(sf.Type) {
				return false
			}
			continue
		}
		ft := sf.Type
		switch ft.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			if ti.omit {
				if ti.required {
					return false
				}
				continue
			}
			if ti.required {
				return false // null
			}
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				return false // null, where the schema wants an object
			}
			continue
		case reflect.Struct:
			if !zeroOK(ft) {
				return false
			}
			continue
		}
		if ti.omit {
			if ti.required {
				return false
			}
			continue
		}
		if !ti.quoted && !scalarZeroOK(ft, ti) {
			return false
		}
	}
	return true
}

// anyRequired reports a required field among t's written fields.
func anyRequired(t reflect.Type) bool {
	for i := range t.NumField() {
		sf := t.Field(i)
		ti := info(sf)
		if !ti.skip && ti.required {
			return true
		}
	}
	return false
}

// scalarZeroOK: the zero of a scalar meets its constraints.
func scalarZeroOK(t reflect.Type, ti tagInfo) bool {
	if t.Kind() == reflect.String {
		switch {
		case ti.minLen != nil && *ti.minLen > 0:
			return false
		case ti.pattern == "^[a-z]+$":
			return false
		case ti.format != "":
			return false
		case len(ti.enum) > 0:
			return ti.enum[0] == ""
		}
		return true
	}
	if t.Kind() == reflect.Bool {
		return true
	}
	switch {
	case ti.min != nil && *ti.min > 0, ti.max != nil && *ti.max < 0:
		return false
	case len(ti.enum) > 0:
		for _, e := range ti.enum {
			if e == "0" {
				return true
			}
		}
		return false
	}
	return true
}
