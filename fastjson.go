package graft

import (
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/graftgo/graft/internal/jsonstr"
	"github.com/graftgo/graft/internal/schema"
)

// A JSON body of a plain struct (strings, bools, numbers and nested plain
// structs) is decoded by a plan compiled from its type: fields stored
// through offsets, no reflection, no decoder state. The plan only takes the
// plain road: a key that is not exactly a field's name (unknown, another
// case, escaped), a key sent twice, an escape or invalid UTF-8 in a string,
// null, a number that does not fit the field, a value of the wrong type,
// anything after the object: each makes it give up, the body is zeroed and
// encoding/json decodes it as it would have without the plan, errors and
// all. So what the plan accepts, encoding/json accepts with the same
// result (FuzzFastJSON holds it to that), and everything else is
// encoding/json's answer.

// fastDec is the compiled plan of one struct type.
type fastDec struct {
	fields []fastField
}

type fastKind uint8

const (
	fastString fastKind = iota
	fastBool
	fastInt
	fastUint
	fastFloat
	fastStruct
)

type fastField struct {
	name string
	off  uintptr
	kind fastKind
	bits int
	sub  *fastDec
}

// maxFastFields bounds a struct's fields, so that the keys seen fit one
// word.
const maxFastFields = 64

// compileFastDec returns the plan for struct type t, or nil when t has
// anything the plan does not handle: embedded fields, field names that
// fold to the same key, the ",string" option, pointers, slices, maps,
// interfaces, or a type with its own JSON or text decoding.
func compileFastDec(t reflect.Type) *fastDec {
	if t.Kind() != reflect.Struct || customJSONDecoding(t) {
		return nil
	}
	d := &fastDec{}
	seen := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			return nil
		}
		name, opts, use := schema.JSONName(f)
		if !use {
			continue
		}
		for opts != "" {
			var o string
			o, opts, _ = strings.Cut(opts, ",")
			if o == "string" {
				return nil
			}
		}
		folded := strings.ToLower(name)
		if seen[folded] || !isPlainASCII(name) {
			return nil
		}
		seen[folded] = true
		ff := fastField{name: name, off: f.Offset}
		var ok bool
		if ff.kind, ff.bits, ok = plainKind(f.Type, customJSONDecoding); !ok {
			return nil
		}
		if ff.kind == fastStruct {
			if ff.sub = compileFastDec(f.Type); ff.sub == nil {
				return nil
			}
		}
		d.fields = append(d.fields, ff)
	}
	if len(d.fields) > maxFastFields {
		return nil
	}
	return d
}

// customJSONDecoding reports whether encoding/json would decode t (or *t)
// with its own method instead of by kind.
func customJSONDecoding(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshalerType) || pt.Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

// plainKind returns the plan kind of a field of type t and its bit size
// (numbers only), or false when t is not plain or is not a struct and has
// its own method (custom: customJSONDecoding or customJSONEncoding). A
// struct's own plan, which checks its methods, is the caller's to compile.
func plainKind(t reflect.Type, custom func(reflect.Type) bool) (fastKind, int, bool) {
	if t.Kind() != reflect.Struct && custom(t) {
		return 0, 0, false
	}
	switch t.Kind() {
	case reflect.String:
		return fastString, 0, true
	case reflect.Bool:
		return fastBool, 0, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fastInt, t.Bits(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fastUint, t.Bits(), true
	case reflect.Float32, reflect.Float64:
		return fastFloat, t.Bits(), true
	case reflect.Struct:
		return fastStruct, 0, true
	}
	return 0, 0, false
}

// isPlainASCII reports whether a name is printable ASCII without a quote
// or backslash: such a key is sent as is, so matching it is comparing bytes
// (other names are left to encoding/json's folding rules).
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// decode decodes the JSON object b holds into the struct at p. It reports
// false, leaving the struct partly written, when b takes anything but the
// plain road (see above); the caller zeroes the struct and asks
// encoding/json.
func (d *fastDec) decode(b []byte, p unsafe.Pointer) bool {
	i, ok := d.object(b, skipWS(b, 0), p)
	return ok && skipWS(b, i) == len(b)
}

// valid reports whether decode would take b, storing nothing: for a
// target that must stay as it was when the plan gives up (c.BindJSON's,
// which may hold values set before the call).
func (d *fastDec) valid(b []byte) bool { return d.decode(b, nil) }

// fastDecs caches the plans of the types c.BindJSON decodes into (a nil
// plan for a type that has none), keyed by the pointer type.
var fastDecs sync.Map

// fastDecFor returns the plan for v when it is a non-nil pointer to a
// plain struct, with the struct's address.
func fastDecFor(v any) (*fastDec, unsafe.Pointer) {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return nil, nil
	}
	d, ok := fastDecs.Load(t)
	if !ok {
		d, _ = fastDecs.LoadOrStore(t, compileFastDec(t.Elem()))
	}
	p := efaceData(v)
	if d.(*fastDec) == nil || p == nil {
		return nil, nil
	}
	return d.(*fastDec), p
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
			continue
		}
		break
	}
	return i
}

// object decodes the object at b[i:] and returns the index after it.
func (d *fastDec) object(b []byte, i int, p unsafe.Pointer) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	var seen uint64
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		start := i + 1
		j := start
		for j < len(b) && b[j] != '"' && b[j] != '\\' {
			j++
		}
		if j >= len(b) || b[j] != '"' {
			return j, false
		}
		key := b[start:j]
		k := -1
		for n := range d.fields {
			if d.fields[n].name == string(key) {
				k = n
				break
			}
		}
		if k < 0 || seen&(1<<k) != 0 {
			return j, false
		}
		seen |= 1 << k
		i = skipWS(b, j+1)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		var ok bool
		var fp unsafe.Pointer // nil: a dry run (valid) stores nothing
		if p != nil {
			fp = unsafe.Add(p, d.fields[k].off)
		}
		if i, ok = d.fields[k].value(b, skipWS(b, i+1), fp); !ok {
			return i, false
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// value decodes the value at b[i:] into the field at p.
func (f *fastField) value(b []byte, i int, p unsafe.Pointer) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch f.kind {
	case fastString:
		if b[i] != '"' {
			return i, false
		}
		j, ascii := i+1, true
		for ; j < len(b); j++ {
			c := b[j]
			if c == '"' {
				break
			}
			if c == '\\' || c < 0x20 {
				return j, false
			}
			if c >= utf8.RuneSelf {
				ascii = false
			}
		}
		if j >= len(b) {
			return j, false
		}
		s := b[i+1 : j]
		if !ascii && !utf8.Valid(s) {
			return j, false // encoding/json replaces invalid bytes with U+FFFD
		}
		if p != nil {
			*(*string)(p) = string(s)
		}
		return j + 1, true
	case fastBool:
		switch {
		case len(b)-i >= 4 && string(b[i:i+4]) == "true":
			if p != nil {
				*(*bool)(p) = true
			}
			return i + 4, true
		case len(b)-i >= 5 && string(b[i:i+5]) == "false":
			if p != nil {
				*(*bool)(p) = false
			}
			return i + 5, true
		}
		return i, false
	case fastStruct:
		return f.sub.object(b, i, p)
	}
	j, isInt := numberEnd(b, i)
	if j == i {
		return i, false
	}
	s := unsafe.String(&b[i], j-i)
	switch f.kind {
	case fastInt:
		if !isInt {
			return i, false
		}
		n, err := strconv.ParseInt(s, 10, f.bits)
		if err != nil {
			return i, false
		}
		if p == nil {
			break
		}
		switch f.bits {
		case 8:
			*(*int8)(p) = int8(n)
		case 16:
			*(*int16)(p) = int16(n)
		case 32:
			*(*int32)(p) = int32(n)
		default:
			*(*int64)(p) = n
		}
	case fastUint:
		if !isInt || b[i] == '-' {
			return i, false
		}
		n, err := strconv.ParseUint(s, 10, f.bits)
		if err != nil {
			return i, false
		}
		if p == nil {
			break
		}
		switch f.bits {
		case 8:
			*(*uint8)(p) = uint8(n)
		case 16:
			*(*uint16)(p) = uint16(n)
		case 32:
			*(*uint32)(p) = uint32(n)
		default:
			*(*uint64)(p) = n
		}
	case fastFloat:
		n, err := strconv.ParseFloat(s, f.bits)
		if err != nil {
			return i, false
		}
		if p == nil {
			break
		}
		if f.bits == 32 {
			*(*float32)(p) = float32(n)
		} else {
			*(*float64)(p) = n
		}
	}
	return j, true
}

// numberEnd returns the end of the JSON number at b[i:] (i itself when
// there is none) and whether it is an integer (no fraction, no exponent).
func numberEnd(b []byte, i int) (int, bool) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	default:
		return i, false
	}
	isInt := true
	if j < len(b) && b[j] == '.' {
		isInt = false
		j++
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == k {
			return i, false
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		isInt = false
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == k {
			return i, false
		}
	}
	return j, isInt
}

// fastEnc is the compiled encoding plan of a plain struct type, for
// response bodies: the same road as fastDec, the other way. Each key is
// written as encoding/json writes it (quoted by json.Marshal at compile
// time), each string value escaped as encoding/json escapes it, HTML-safe
// (internal/jsonstr); a float that is not finite makes the plan give up and
// encoding/json encode the value instead (and refuse it), so the bytes are
// always encoding/json's (FuzzFastJSONEncode holds it to that).
type fastEnc struct {
	fields []fastEncField
}

type fastEncField struct {
	key       []byte // `"name":`
	off       uintptr
	kind      fastKind
	bits      int
	omitEmpty bool
	sub       *fastEnc
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// customJSONEncoding reports whether encoding/json would encode t (or *t)
// with its own method instead of by kind.
func customJSONEncoding(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonMarshalerType) || pt.Implements(jsonMarshalerType) ||
		t.Implements(textMarshalerType) || pt.Implements(textMarshalerType)
}

// compileFastEnc returns the encoding plan of struct type t, or nil when t
// has anything but plain fields (see compileFastDec), an option other
// than omitempty, or two fields of one name.
func compileFastEnc(t reflect.Type) *fastEnc {
	if t.Kind() != reflect.Struct || customJSONEncoding(t) {
		return nil
	}
	e := &fastEnc{}
	seen := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			return nil
		}
		name, opts, use := schema.JSONName(f)
		if !use {
			continue
		}
		ef := fastEncField{off: f.Offset}
		for opts != "" {
			var o string
			o, opts, _ = strings.Cut(opts, ",")
			switch o {
			case "omitempty":
				ef.omitEmpty = true
			case "":
			default:
				return nil
			}
		}
		if seen[name] {
			return nil
		}
		seen[name] = true
		q, err := json.Marshal(name)
		if err != nil {
			return nil
		}
		ef.key = append(q, ':')
		var ok bool
		if ef.kind, ef.bits, ok = plainKind(f.Type, customJSONEncoding); !ok {
			return nil
		}
		if ef.kind == fastStruct {
			if ef.sub = compileFastEnc(f.Type); ef.sub == nil {
				return nil
			}
		}
		e.fields = append(e.fields, ef)
	}
	return e
}

// fastEncs caches the encoding plans of the types c.JSON writes (a nil
// plan for a type that has none).
var fastEncs sync.Map

// fastEncFor returns the encoding plan for v, a plain struct or a non-nil
// pointer to one, with the struct's address.
func fastEncFor(v any) (*fastEnc, unsafe.Pointer) {
	t := reflect.TypeOf(v)
	if t == nil {
		return nil, nil
	}
	e, ok := fastEncs.Load(t)
	if !ok {
		st := t
		if st.Kind() == reflect.Pointer {
			st = st.Elem()
		}
		// A plain struct is never stored in the interface word itself (it
		// has no pointer-shaped field), so the data word is its address.
		e, _ = fastEncs.LoadOrStore(t, compileFastEnc(st))
	}
	p := efaceData(v)
	if e.(*fastEnc) == nil || p == nil {
		return nil, nil
	}
	return e.(*fastEnc), p
}

// appendJSON appends the struct at p as JSON; false when the plan gave up
// (the caller throws away what was appended).
func (e *fastEnc) appendJSON(b []byte, p unsafe.Pointer) ([]byte, bool) {
	b = append(b, '{')
	first := true
	for i := range e.fields {
		f := &e.fields[i]
		fp := unsafe.Add(p, f.off)
		if f.omitEmpty && f.empty(fp) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.key...)
		var ok bool
		if b, ok = f.appendValue(b, fp); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

func (f *fastEncField) empty(p unsafe.Pointer) bool {
	switch f.kind {
	case fastString:
		return len(*(*string)(p)) == 0
	case fastBool:
		return !*(*bool)(p)
	case fastInt:
		return f.int(p) == 0
	case fastUint:
		return f.uint(p) == 0
	case fastFloat:
		return f.float(p) == 0
	}
	return false // encoding/json never omits a struct
}

func (f *fastEncField) int(p unsafe.Pointer) int64 {
	switch f.bits {
	case 8:
		return int64(*(*int8)(p))
	case 16:
		return int64(*(*int16)(p))
	case 32:
		return int64(*(*int32)(p))
	}
	return *(*int64)(p)
}

func (f *fastEncField) uint(p unsafe.Pointer) uint64 {
	switch f.bits {
	case 8:
		return uint64(*(*uint8)(p))
	case 16:
		return uint64(*(*uint16)(p))
	case 32:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

func (f *fastEncField) float(p unsafe.Pointer) float64 {
	if f.bits == 32 {
		return float64(*(*float32)(p))
	}
	return *(*float64)(p)
}

func (f *fastEncField) appendValue(b []byte, p unsafe.Pointer) ([]byte, bool) {
	switch f.kind {
	case fastString:
		return jsonstr.Append(b, *(*string)(p), true), true
	case fastBool:
		return strconv.AppendBool(b, *(*bool)(p)), true
	case fastInt:
		return strconv.AppendInt(b, f.int(p), 10), true
	case fastUint:
		return strconv.AppendUint(b, f.uint(p), 10), true
	case fastFloat:
		return appendJSONFloat(b, f.float(p), f.bits)
	}
	return f.sub.appendJSON(b, p)
}

// appendJSONFloat is encoding/json's float encoding: shortest form,
// exponent notation outside [1e-6, 1e21), "e-07" written "e-7".
func appendJSONFloat(b []byte, x float64, bits int) ([]byte, bool) {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return b, false // encoding/json's error
	}
	abs := math.Abs(x)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, x, format, -1, bits)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}
