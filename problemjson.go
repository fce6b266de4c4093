package graft

import (
	"strconv"

	"github.com/graftgo/graft/internal/jsonstr"
)

// appendProblem appends p as json.Marshal encodes it: the fields in
// order, the omitempty ones left out when empty, strings escaped as
// encoding/json does (HTML-safe). ok is false when a field error's Value
// is of a type it does not write itself; the caller then encodes the
// document with encoding/json, which writes the same bytes for the rest.
func appendProblem(b []byte, p *Problem) ([]byte, bool) {
	b = append(b, `{"type":`...)
	b = jsonstr.Append(b, p.Type, true)
	b = append(b, `,"title":`...)
	b = jsonstr.Append(b, p.Title, true)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(p.Status), 10)
	if p.Detail != "" {
		b = append(b, `,"detail":`...)
		b = jsonstr.Append(b, p.Detail, true)
	}
	if p.Instance != "" {
		b = append(b, `,"instance":`...)
		b = jsonstr.Append(b, p.Instance, true)
	}
	if len(p.Errors) > 0 {
		b = append(b, `,"errors":[`...)
		for i := range p.Errors {
			fe := &p.Errors[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"location":`...)
			b = jsonstr.Append(b, fe.Location, true)
			b = append(b, `,"message":`...)
			b = jsonstr.Append(b, fe.Message, true)
			if fe.Value != nil {
				b = append(b, `,"value":`...)
				var ok bool
				if b, ok = appendJSONValue(b, fe.Value); !ok {
					return b, false
				}
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if p.ErrorsTruncated {
		b = append(b, `,"errorsTruncated":true`...)
	}
	return append(b, '}'), true
}

// appendJSONValue appends v, one of the values validation failures carry
// (strings, string lists, booleans and numbers of the built-in types), as
// encoding/json encodes it; false for any other type, or a float that
// encoding/json refuses (NaN, ±Inf).
func appendJSONValue(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case string:
		return jsonstr.Append(b, x, true), true
	case bool:
		return strconv.AppendBool(b, x), true
	case float64:
		return appendJSONFloat(b, x, 64)
	case float32:
		return appendJSONFloat(b, float64(x), 32)
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int8:
		return strconv.AppendInt(b, int64(x), 10), true
	case int16:
		return strconv.AppendInt(b, int64(x), 10), true
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint64:
		return strconv.AppendUint(b, x, 10), true
	case []string:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonstr.Append(b, s, true)
		}
		return append(b, ']'), true
	}
	return b, false
}
