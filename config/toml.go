package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// loadTOML applies a TOML document: name is the file name used in errors
// and sources.
func (l *Loader) loadTOML(name string, data []byte) error {
	// The decoder checks the whole document (syntax, duplicate keys,
	// redefined tables) and reports the line; the parser below then walks
	// a valid document with the line of every key.
	var probe map[string]any
	if err := toml.Unmarshal(data, &probe); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return &Error{Source: fmt.Sprintf("%s:%d", name, row), Problem: fmt.Sprintf("invalid TOML at column %d: %s", col, de.Error())}
		}
		return &Error{Source: name, Problem: "invalid TOML: " + err.Error()}
	}
	var p unstable.Parser
	p.Reset(data)
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			key, line := keyOf(&p, e.Key())
			src := fmt.Sprintf("%s:%d", name, line)
			if !l.sections[key] {
				return l.unknown(src, key, "section")
			}
			table = key
		case unstable.ArrayTable:
			key, line := keyOf(&p, e.Key())
			return &Error{Source: fmt.Sprintf("%s:%d", name, line), Key: key, Problem: "arrays of tables ([[" + key + "]]) are not config; expected a [section] or a key"}
		case unstable.KeyValue:
			if err := l.setKV(&p, name, table, e); err != nil {
				return err
			}
		}
	}
	if err := p.Error(); err != nil { // unreachable after Unmarshal, kept for safety
		return &Error{Source: name, Problem: "invalid TOML: " + err.Error()}
	}
	return nil
}

// keyOf joins a key's parts with dots and returns the line of its first part.
func keyOf(p *unstable.Parser, it unstable.Iterator) (string, int) {
	var parts []string
	line := 0
	for it.Next() {
		n := it.Node()
		if line == 0 {
			line = p.Shape(n.Raw).Start.Line
		}
		parts = append(parts, string(n.Data))
	}
	return strings.Join(parts, "."), line
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func (l *Loader) setKV(p *unstable.Parser, name, table string, kv *unstable.Node) error {
	key, line := keyOf(p, kv.Key())
	full := join(table, key)
	src := fmt.Sprintf("%s:%d", name, line)
	v := kv.Value()
	if v.Kind == unstable.InlineTable {
		if !l.sections[full] {
			return l.unknown(src, full, "section")
		}
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				if err := l.setKV(p, name, full, c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	f := l.byKey[full]
	if f == nil {
		if l.sections[full] {
			return &Error{Source: src, Key: full, Problem: "is a section; expected [" + full + "] or " + full + " = { … }"}
		}
		return l.unknownKey(src, full, rawValue(p, v))
	}
	if err := setNode(p, f.v, v); err != nil {
		err.Source, err.Key = src, full
		return err
	}
	f.source = src
	return nil
}

// unknownKey is unknown for a key with its value, as written.
func (l *Loader) unknownKey(src, key, raw string) error {
	err := l.unknown(src, key, "key").(*Error)
	err.Value = raw
	return err
}

// rawValue is a value node's text: a string's contents, or the TOML text
// of other values.
func rawValue(p *unstable.Parser, n *unstable.Node) string {
	if n.Kind == unstable.String {
		return string(n.Data)
	}
	if n.Kind == unstable.Array {
		return "[…]"
	}
	return string(p.Raw(n.Raw))
}

func (l *Loader) unknown(src, key, what string) error {
	p := "unknown " + what
	cands := l.Keys()
	for s := range l.sections {
		cands = append(cands, s)
	}
	if s := closest(key, sorted(cands)); s != "" {
		p += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return &Error{Source: src, Key: key, Problem: p + "; see --help for the keys"}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func kindName(k unstable.Kind) string {
	switch k {
	case unstable.String:
		return "a string"
	case unstable.Integer:
		return "an integer"
	case unstable.Float:
		return "a float"
	case unstable.Bool:
		return "a boolean"
	case unstable.Array:
		return "an array"
	case unstable.InlineTable:
		return "a table"
	}
	return "a date or time"
}

// setNode sets v from a TOML value node, checking its TOML type.
func setNode(p *unstable.Parser, v reflect.Value, n *unstable.Node) *Error {
	t := v.Type()
	raw := string(n.Data)
	if n.Kind != unstable.String && n.Kind != unstable.Array {
		raw = string(p.Raw(n.Raw))
	}
	bad := func() *Error {
		return &Error{Value: raw, Problem: expected(t) + ", got " + kindName(n.Kind)}
	}
	if t == durationType {
		if n.Kind != unstable.String {
			return bad()
		}
		d, err := time.ParseDuration(raw)
		if err != nil {
			return &Error{Value: raw, Problem: expected(t)}
		}
		v.SetInt(int64(d))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		if n.Kind != unstable.String {
			return bad()
		}
		v.SetString(raw)
	case reflect.Bool:
		if n.Kind != unstable.Bool {
			return bad()
		}
		v.SetBool(raw == "true")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n.Kind != unstable.Integer {
			return bad()
		}
		x, err := strconv.ParseInt(raw, 0, t.Bits())
		if err != nil {
			return &Error{Value: raw, Problem: expected(t) + ": out of range"}
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind != unstable.Integer {
			return bad()
		}
		x, err := strconv.ParseUint(raw, 0, t.Bits())
		if err != nil {
			return &Error{Value: raw, Problem: expected(t) + ": negative or out of range"}
		}
		v.SetUint(x)
	case reflect.Float32, reflect.Float64:
		var x float64
		var err error
		switch n.Kind {
		case unstable.Integer:
			var i int64
			i, err = strconv.ParseInt(raw, 0, 64)
			x = float64(i)
		case unstable.Float:
			s := strings.ReplaceAll(raw, "_", "")
			if strings.HasSuffix(s, "nan") {
				s = "nan"
			}
			x, err = strconv.ParseFloat(s, t.Bits())
		default:
			return bad()
		}
		if err != nil {
			return &Error{Value: raw, Problem: expected(t) + ": out of range"}
		}
		v.SetFloat(x)
	case reflect.Slice:
		if n.Kind != unstable.Array {
			return bad()
		}
		list := []string{}
		it := n.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			if c.Kind != unstable.String {
				e := setNodeElem(p, c)
				return e
			}
			list = append(list, string(c.Data))
		}
		v.Set(reflect.ValueOf(list).Convert(t))
	default:
		return bad()
	}
	return nil
}

func setNodeElem(p *unstable.Parser, c *unstable.Node) *Error {
	raw := "…"
	if c.Kind != unstable.Array && c.Kind != unstable.InlineTable {
		raw = string(p.Raw(c.Raw))
	}
	return &Error{Value: raw, Problem: "expected a list of strings, got " + kindName(c.Kind) + " in the list"}
}
