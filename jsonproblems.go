package graft

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/graftgo/graft/internal/schema"
)

// jsonProblems records in e every unknown field (when forbid) and every
// value of the wrong JSON type in the JSON document b decoded into a value
// of type t, each at its location ("body.user.tags[2]"). encoding/json
// stops reporting at the first such problem; this walk, run only after a
// decode failed (the cold path), lets a 422 list them all, as it does for
// validation failures. It follows encoding/json's rules for field names
// (tags, embedded structs, exact then case-insensitive match) and reports
// false when it finds nothing, so that the caller falls back to the
// decoder's own error.
func jsonProblems(b []byte, t reflect.Type, forbid bool, e *errs) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return false
	}
	n := len(e.list)
	w := jsonWalk{forbid: forbid, e: e}
	w.value(v, t, "body", 0)
	return len(e.list) > n
}

// unknownFieldName returns the key named by encoding/json's error
// `json: unknown field "KEY"` (quoted with %q).
func unknownFieldName(msg string) string {
	q := strings.TrimPrefix(msg, "json: unknown field ")
	if k, err := strconv.Unquote(q); err == nil {
		return k
	}
	return strings.Trim(q, `"`)
}

// maxJSONWalkDepth bounds the recursion of jsonWalk; deeper values are not
// checked (encoding/json has already refused documents nested past 10 000).
const maxJSONWalkDepth = 64

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

type jsonWalk struct {
	forbid bool
	e      *errs
}

// value checks the decoded JSON value v against type t at loc.
func (w *jsonWalk) value(v any, t reflect.Type, loc string, depth int) {
	if v == nil || depth > maxJSONWalkDepth || w.e.truncated {
		return // null fits every type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pt := reflect.PointerTo(t) // methods sit on T or *T, never deeper
	if t.Implements(jsonUnmarshalerType) || pt.Implements(jsonUnmarshalerType) {
		return // the type decides what it accepts
	}
	if t.Implements(textUnmarshalerType) || pt.Implements(textUnmarshalerType) {
		if _, ok := v.(string); !ok {
			w.wrongType(loc, "a string", v)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			w.wrongType(loc, "an object", v)
			return
		}
		st, err := schema.StructOf(t)
		if err != nil {
			return // the endpoint's plan compiled it: not reached
		}
		for _, k := range sortedKeys(obj) {
			f := st.Lookup(k)
			switch {
			case f == nil && w.forbid:
				w.e.add(loc+"."+k, "is not a known field", nil)
			case f != nil && f.Quoted:
				if _, ok := obj[k].(string); !ok && obj[k] != nil {
					w.wrongType(loc+"."+f.Name, "a string", obj[k])
				}
			case f != nil:
				w.value(obj[k], f.Type, loc+"."+f.Name, depth+1)
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			w.wrongType(loc, "an object", v)
			return
		}
		for _, k := range sortedKeys(obj) {
			w.value(obj[k], t.Elem(), loc+"."+k, depth+1)
		}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			if _, ok := v.(string); !ok { // []byte is base64 text
				w.wrongType(loc, "a string", v)
			}
			return
		}
		arr, ok := v.([]any)
		if !ok {
			w.wrongType(loc, "an array", v)
			return
		}
		for i, x := range arr {
			if t.Kind() == reflect.Array && i >= t.Len() {
				break // encoding/json drops the extra elements
			}
			w.value(x, t.Elem(), loc+"["+strconv.Itoa(i)+"]", depth+1)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			w.wrongType(loc, "a string", v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			w.wrongType(loc, "a boolean", v)
		}
	default:
		if isJSONNumberKind(t.Kind()) {
			if n, ok := v.(json.Number); !ok || !numberFits(string(n), t) {
				w.wrongType(loc, jsonKind(t.Kind().String()), v)
			}
		}
	}
}

// isJSONNumberKind reports the kinds encoding/json decodes a JSON number
// into.
func isJSONNumberKind(k reflect.Kind) bool { return isNumberKind(k) || k == reflect.Uintptr }

// numberFits reports whether the JSON number s decodes into t (a number
// kind): integers must be integral and in range, floats in range.
func numberFits(s string, t reflect.Type) bool {
	var err error
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		_, err = strconv.ParseInt(s, 10, t.Bits())
	case reflect.Float32, reflect.Float64:
		_, err = strconv.ParseFloat(s, t.Bits())
	default:
		_, err = strconv.ParseUint(s, 10, t.Bits())
	}
	return err == nil
}

// wrongType records a value of the wrong JSON type, described as
// encoding/json describes it ("string", "number 1.5").
func (w *jsonWalk) wrongType(loc, want string, v any) {
	var got string
	switch x := v.(type) {
	case string:
		got = "string"
	case bool:
		got = "bool"
	case json.Number:
		got = "number " + string(x)
	case []any:
		got = "array"
	default:
		got = "object"
	}
	w.e.add(loc, "must be "+want, got)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
