package mpbody

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// op is what a Go type accepts from msgpack, as the library decodes it.
type op uint8

const (
	opAny     op = iota // anything well-formed: interfaces, types with their own decoder
	opText              // str or bin (Text/BinaryUnmarshaler, string, []byte)
	opBool              // bool
	opInt               // an integer that fits bits
	opUint              // a non-negative integer that fits bits
	opFloat32           // float 32 or an integer (the library refuses float 64 here)
	opFloat64           // any number
	opByteArr           // str or bin of at most alen bytes
	opSlice             // array of elem
	opArray             // array of at most alen elem
	opMap               // map of key to elem
	opStruct            // map of field names to fields
	opNever             // nothing, not even nil (channels, funcs…: the library cannot decode them)
	opDeny              // nothing at all (a name the library cannot set)
	opNilOnly           // nil alone (an interface with methods)
)

// Type is the compiled shape of a Go type, checked against a body before
// the library decodes it.
type Type struct {
	op     op
	want   string // "an integer", for messages
	bits   int
	alen   int
	elem   *Type
	key    *Type
	fields map[string]field // opStruct: by msgpack name
	nbits  int              // opStruct: distinct fields, one bit each
}

// field is a struct field a map key decodes into; names that reach the
// same Go field (an alias) share its bit.
type field struct {
	typ *Type
	bit int
}

var (
	typeCache sync.Map // reflect.Type → *Type

	customDecoderType     = reflect.TypeFor[msgpack.CustomDecoder]()
	unmarshalerType       = reflect.TypeFor[msgpack.Unmarshaler]()
	binaryUnmarshalerType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	textUnmarshalerType   = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType              = reflect.TypeFor[time.Time]()
)

// compiled is a cached shape, or why t cannot be decoded.
type compiled struct {
	t   *Type
	err error
}

// TypeOf compiles (once) the shape of t. It fails for a type the library
// would panic on (an ",intern" tag on a field that is not a string or an
// interface), so that a typed endpoint refuses it at registration.
func TypeOf(t reflect.Type) (*Type, error) {
	if v, ok := typeCache.Load(t); ok {
		c := v.(compiled)
		return c.t, c.err
	}
	c := compiler{seen: map[reflect.Type]*Type{}, visiting: map[reflect.Type]bool{}}
	typ := c.compile(t)
	v, _ := typeCache.LoadOrStore(t, compiled{typ, c.err})
	cc := v.(compiled)
	return cc.t, cc.err
}

type compiler struct {
	seen     map[reflect.Type]*Type
	visiting map[reflect.Type]bool
	err      error // the first field the library cannot handle
}

// denied is the type of a key no value may be sent for.
var denied = &Type{op: opDeny}

func (c *compiler) compile(t reflect.Type) *Type {
	for t.Kind() == reflect.Pointer {
		if t.Elem().Kind() != reflect.Pointer && implementsDecoder(t) {
			return &Type{op: opAny}
		}
		t = t.Elem() // nil fits every pointer; a value goes to the target
	}
	if x, ok := c.seen[t]; ok {
		return x
	}
	x := &Type{}
	c.seen[t] = x
	pt := reflect.PointerTo(t)
	switch {
	case t.Kind() == reflect.Interface && t.NumMethod() > 0:
		// The library would set whatever it decoded into the interface
		// (a reflect panic): only nil fits, as in encoding/json.
		x.op, x.want = opNilOnly, "nil (the field is an interface with methods)"
		return x
	case t.Kind() == reflect.Interface, t == timeType, implementsDecoder(t), implementsDecoder(pt):
		x.op = opAny
		return x
	case t.Implements(binaryUnmarshalerType), pt.Implements(binaryUnmarshalerType),
		t.Implements(textUnmarshalerType), pt.Implements(textUnmarshalerType):
		x.op, x.want = opText, "a string"
		return x
	}
	switch k := t.Kind(); k {
	case reflect.Bool:
		x.op, x.want = opBool, "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x.op, x.want, x.bits = opInt, "an integer", t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x.op, x.want, x.bits = opUint, "a non-negative integer", t.Bits()
	case reflect.Float32:
		x.op, x.want = opFloat32, "a 32-bit float or an integer"
	case reflect.Float64:
		x.op, x.want = opFloat64, "a number"
	case reflect.String:
		x.op, x.want = opText, "a string"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			x.op, x.want = opText, "a string or binary"
			break
		}
		x.op, x.want, x.elem = opSlice, "an array", c.compile(t.Elem())
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			x.op, x.want, x.alen = opByteArr, "a string or binary", t.Len()
			break
		}
		x.op, x.want, x.alen, x.elem = opArray, "an array", t.Len(), c.compile(t.Elem())
	case reflect.Map:
		x.op, x.want, x.key, x.elem = opMap, "an object", c.compile(t.Key()), c.compile(t.Elem())
	case reflect.Struct:
		if asArray(t) {
			x.op = opAny
			break
		}
		fs, n := c.fields(t)
		x.op, x.want, x.fields, x.nbits = opStruct, "an object", make(map[string]field, len(fs)), n
		for name, f := range fs {
			if f.typ == nil {
				x.fields[name] = field{typ: denied, bit: f.bit}
			} else {
				x.fields[name] = field{typ: c.compile(f.typ), bit: f.bit}
			}
		}
	default:
		// Channels, funcs, complex numbers, and uintptr, which the
		// library's table of decoders lacks (it would call a nil func).
		x.op = opNever
	}
	return x
}

// implementsDecoder reports whether the library hands values of t to t's
// own decoding method.
func implementsDecoder(t reflect.Type) bool {
	return t.Implements(customDecoderType) || t.Implements(unmarshalerType)
}

// asArray reports a struct the library encodes as an array (a
// `_msgpack:",as_array"` field).
func asArray(t reflect.Type) bool {
	f, ok := t.FieldByName("_msgpack")
	if !ok {
		return false
	}
	_, opts := tagOf(f)
	return hasOpt(opts, "as_array") || hasOpt(opts, "asArray")
}

// tagOf returns the name and options of a field's tag as the library reads
// it: the msgpack tag, else the json one.
func tagOf(f reflect.StructField) (name string, opts []string) {
	s := f.Tag.Get("msgpack")
	if s == "" {
		s = f.Tag.Get(StructTag)
	}
	parts := strings.Split(s, ",")
	return parts[0], parts[1:]
}

func hasOpt(opts []string, o string) bool {
	for _, x := range opts {
		if x == o || strings.HasPrefix(x, o+":") {
			return true
		}
	}
	return false
}

func optValue(opts []string, o string) (string, bool) {
	for _, x := range opts {
		if v, ok := strings.CutPrefix(x, o+":"); ok {
			return v, true
		}
	}
	return "", false
}

// gofield is a name's Go field while the shape is compiled.
type gofield struct {
	typ   reflect.Type // nil: a name the library would set through an unexported embedded field
	bit   int
	index []int // the field's index path from the struct (through inlined structs)
}

// fields lists the names a struct's map keys may take and the field each
// decodes into, by the library's rules (its getFields): the tag's name or
// the field's, embedded structs inlined unless their names collide, and
// the number of distinct fields. A nil type marks a name the library would
// try to set through an unexported embedded field (a reflect panic): the
// walk refuses it.
func (c *compiler) fields(t reflect.Type) (map[string]gofield, int) {
	m := map[string]gofield{}
	if c.visiting[t] {
		return m, 0 // a struct embedding a pointer to itself
	}
	c.visiting[t] = true
	defer delete(c.visiting, t)
	bits := 0
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts := tagOf(f)
		if name == "-" || (f.PkgPath != "" && !f.Anonymous) {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if k := f.Type.Kind(); hasOpt(opts, "intern") && k != reflect.String && k != reflect.Interface && c.err == nil {
			c.err = fmt.Errorf("field %s.%s: the msgpack option \"intern\" applies to strings and interfaces, not %s (the library panics on it); remove it", t, f.Name, f.Type)
		}
		gf := gofield{typ: f.Type, bit: bits, index: []int{i}}
		bits++
		if f.PkgPath != "" {
			gf.typ = nil
		}
		if f.Anonymous && !hasOpt(opts, "noinline") {
			inner := f.Type
			for inner.Kind() == reflect.Pointer {
				inner = inner.Elem()
			}
			inlined := false
			if inner.Kind() == reflect.Struct {
				sub, n := c.fields(inner)
				if f.PkgPath != "" && f.Type.Kind() == reflect.Pointer {
					// The library would have to allocate the unexported
					// pointer to reach them (encoding/json refuses too).
					for sn, sf := range sub {
						sub[sn] = gofield{bit: sf.bit, index: sf.index}
					}
				}
				if hasOpt(opts, "inline") {
					for sn, sf := range sub {
						if _, ok := m[sn]; !ok {
							m[sn] = gofield{typ: sf.typ, bit: bits + sf.bit, index: append([]int{i}, sf.index...)}
						}
					}
					inlined = true
				} else if plainStruct(inner) && !collides(m, sub) {
					for sn, sf := range sub {
						m[sn] = gofield{typ: sf.typ, bit: bits + sf.bit, index: append([]int{i}, sf.index...)}
					}
					inlined = true
				}
				if inlined {
					bits += n
				}
			}
			if inlined {
				m[name] = gf
				continue
			}
		}
		m[name] = gf
		if alias, ok := optValue(opts, "alias"); ok {
			m[alias] = gf
		}
	}
	return m, bits
}

// plainStruct reports a struct the library decodes field by field (and so
// inlines when embedded).
func plainStruct(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Kind() == reflect.Struct && t != timeType && !implementsDecoder(t) && !implementsDecoder(pt) &&
		!t.Implements(binaryUnmarshalerType) && !pt.Implements(binaryUnmarshalerType) &&
		!t.Implements(textUnmarshalerType) && !pt.Implements(textUnmarshalerType)
}

func collides(m, sub map[string]gofield) bool {
	for n := range sub {
		if _, ok := m[n]; ok {
			return true
		}
	}
	return false
}
