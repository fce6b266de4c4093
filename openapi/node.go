package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"

	"github.com/graftgo/graft/internal/jsonstr"
)

// obj is a JSON object that keeps its keys in insertion order, so that a
// document renders the same bytes at every start.
type obj struct {
	keys []string
	vals []any
}

// set adds k, or replaces its value when k is present.
func (o *obj) set(k string, v any) *obj {
	for i, x := range o.keys {
		if x == k {
			o.vals[i] = v
			return o
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	return o
}

// get returns k's value.
func (o *obj) get(k string) (any, bool) {
	for i, x := range o.keys {
		if x == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

// del removes k.
func (o *obj) del(k string) {
	for i, x := range o.keys {
		if x == k {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			o.vals = append(o.vals[:i], o.vals[i+1:]...)
			return
		}
	}
}

// clone copies o deeply (objects and arrays; leaves are immutable).
func clone(v any) any {
	switch v := v.(type) {
	case *obj:
		c := &obj{keys: append([]string(nil), v.keys...), vals: make([]any, len(v.vals))}
		for i, x := range v.vals {
			c.vals[i] = clone(x)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, x := range v {
			c[i] = clone(x)
		}
		return c
	}
	return v
}

// fromJSON turns a value decoded by encoding/json (UseNumber) into the
// document's nodes: objects get their keys sorted.
func fromJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		ks := make([]string, 0, len(v))
		for k := range v {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		o := &obj{}
		for _, k := range ks {
			o.set(k, fromJSON(v[k]))
		}
		return o
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = fromJSON(x)
		}
		return out
	}
	return v
}

// writeJSON renders v as indented JSON.
func writeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(initialSize)
	if err := encodeJSON(&b, v, 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// pad is indentation, written in slices of it.
const pad = "                                                                "

// indent starts a new line indented n levels.
func indent(b *bytes.Buffer, n int) {
	b.WriteByte('\n')
	for n > 0 {
		k := min(2*n, len(pad))
		b.WriteString(pad[:k])
		n -= k / 2
	}
}

// initialSize is the buffer a rendering starts with.
const initialSize = 64 << 10

func encodeJSON(b *bytes.Buffer, v any, depth int) error {
	switch v := v.(type) {
	case *obj:
		if len(v.keys) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(b, depth+1)
			writeString(b, k)
			b.WriteString(": ")
			if err := encodeJSON(b, v.vals[i], depth+1); err != nil {
				return err
			}
		}
		indent(b, depth)
		b.WriteByte('}')
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(b, depth+1)
			if err := encodeJSON(b, x, depth+1); err != nil {
				return err
			}
		}
		indent(b, depth)
		b.WriteByte(']')
	case string:
		writeString(b, v)
	default:
		s, err := scalarJSON(v)
		if err != nil {
			return err
		}
		b.WriteString(s)
	}
	return nil
}

// scalarJSON renders a leaf: string, bool, number or null.
func scalarJSON(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "null", nil
	case string:
		var b bytes.Buffer
		writeString(&b, v)
		return b.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "", fmt.Errorf("openapi: %v is not a JSON number", v)
		}
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case json.Number:
		return v.String(), nil
	}
	return "", fmt.Errorf("openapi: cannot render a %s in the document", reflect.TypeOf(v))
}

// writeString writes s as a JSON string, escaped as encoding/json
// escapes it without HTML escaping: control characters, quote and
// backslash, U+2028 and U+2029; invalid UTF-8 becomes U+FFFD.
func writeString(b *bytes.Buffer, s string) {
	b.Write(jsonstr.Append(b.AvailableBuffer(), s, false))
}

// writeYAML renders v as block-style YAML 1.2. Every string is written
// double-quoted with JSON's escapes, which YAML's double-quoted scalars
// share, so no value is ever read back as another type (a "200" key, a
// "yes" string).
func writeYAML(v any) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(initialSize)
	if err := encodeYAML(&b, v, 0, false); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func spaces(b *bytes.Buffer, n int) {
	for n > 0 {
		k := min(2*n, len(pad))
		b.WriteString(pad[:k])
		n -= k / 2
	}
}

// encodeYAML writes v at depth; inline is true when v follows "- " or a
// key on the same line, so its first line is not indented.
func encodeYAML(b *bytes.Buffer, v any, depth int, inline bool) error {
	switch v := v.(type) {
	case *obj:
		if len(v.keys) == 0 {
			b.WriteString("{}\n")
			return nil
		}
		for i, k := range v.keys {
			if i > 0 || !inline {
				spaces(b, depth)
			}
			writeString(b, k)
			b.WriteByte(':')
			if err := yamlValue(b, v.vals[i], depth+1); err != nil {
				return err
			}
		}
	case []any:
		if len(v) == 0 {
			b.WriteString("[]\n")
			return nil
		}
		for i, x := range v {
			if i > 0 || !inline {
				spaces(b, depth)
			}
			b.WriteString("- ")
			if isEmptyOrScalar(x) {
				if err := yamlScalar(b, x); err != nil {
					return err
				}
				continue
			}
			if err := encodeYAML(b, x, depth+1, true); err != nil {
				return err
			}
		}
	default:
		return yamlScalar(b, v)
	}
	return nil
}

// yamlValue writes the value of a mapping key: scalars and empty
// collections on the key's line, others on the lines below.
func yamlValue(b *bytes.Buffer, v any, depth int) error {
	if isEmptyOrScalar(v) {
		b.WriteByte(' ')
		return yamlScalar(b, v)
	}
	b.WriteByte('\n')
	return encodeYAML(b, v, depth, false)
}

func isEmptyOrScalar(v any) bool {
	switch v := v.(type) {
	case *obj:
		return len(v.keys) == 0
	case []any:
		return len(v) == 0
	}
	return true
}

func yamlScalar(b *bytes.Buffer, v any) error {
	switch v.(type) {
	case *obj:
		b.WriteString("{}\n")
		return nil
	case []any:
		b.WriteString("[]\n")
		return nil
	}
	if str, ok := v.(string); ok {
		writeString(b, str)
		b.WriteByte('\n')
		return nil
	}
	s, err := scalarJSON(v)
	if err != nil {
		return err
	}
	b.WriteString(s)
	b.WriteByte('\n')
	return nil
}
