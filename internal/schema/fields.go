package schema

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unsafe"
)

// Field is one field of a struct as encoding/json sees it on the wire,
// with what its tags say.
type Field struct {
	// Name is the field's key in a JSON object.
	Name string
	// GoName is the Go field's name.
	GoName string
	// Index is the field's index path from the struct, through embedded
	// structs (reflect.Value.FieldByIndex).
	Index []int
	// Offsets locate the field in a value of the struct: add Offsets[0];
	// then, for each further offset, follow the embedded pointer found
	// there and add it (see Ptr). One offset for a field of the struct
	// itself or of embedded structs held by value.
	Offsets []uintptr
	// Type is the field's Go type.
	Type reflect.Type
	// Tag is the field's struct tag.
	Tag reflect.StructTag
	// Tagged reports whether the name comes from the json tag; OmitEmpty
	// whether the tag has omitempty or omitzero; Quoted whether ",string"
	// applies (the value travels as a JSON string).
	Tagged, OmitEmpty, Quoted bool
	// Required is the `required:"true"` tag.
	Required bool
	// Constraints are the field's validation tags.
	Constraints Constraints
	// Doc is the `doc` tag: the field's description.
	Doc string
	// Example is the `example` tag's text, when HasExample.
	Example    string
	HasExample bool
	// Deprecated is the `deprecated:"true"` tag.
	Deprecated bool
}

// Checked reports whether the validator has anything to check on the
// field itself (required or a constraint).
func (f *Field) Checked() bool { return f.Required || !f.Constraints.Empty() }

// Ptr returns the address of the field in the struct value at p, nil when
// an embedded pointer on the way is nil (the field is absent).
func (f *Field) Ptr(p unsafe.Pointer) unsafe.Pointer {
	p = unsafe.Add(p, f.Offsets[0])
	for _, off := range f.Offsets[1:] {
		if p = *(*unsafe.Pointer)(p); p == nil {
			return nil
		}
		p = unsafe.Add(p, off)
	}
	return p
}

// Struct is the description of a struct type.
type Struct struct {
	// Type is the struct type.
	Type reflect.Type
	// Fields are the fields encoding/json encodes and decodes, in the
	// order of their index paths (declaration order, embedded fields
	// where their struct is embedded).
	Fields []Field
}

// Lookup returns the field a JSON key decodes into: the field of that
// exact name, else one whose name matches it case-insensitively, as
// encoding/json does; nil when none.
func (s *Struct) Lookup(key string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == key {
			return &s.Fields[i]
		}
	}
	for i := range s.Fields {
		if strings.EqualFold(s.Fields[i].Name, key) {
			return &s.Fields[i]
		}
	}
	return nil
}

type entry struct {
	s   *Struct
	err error
}

var structs sync.Map // reflect.Type → *entry

// StructOf returns the description of struct type t, compiled once per
// type. The error names the field whose tags are wrong.
func StructOf(t reflect.Type) (*Struct, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("schema: %s is not a struct type", t)
	}
	if e, ok := structs.Load(t); ok {
		return e.(*entry).s, e.(*entry).err
	}
	s, err := compile(t)
	e, _ := structs.LoadOrStore(t, &entry{s, err})
	return e.(*entry).s, e.(*entry).err
}

// cand is a field found by the walk, before dominance is settled.
type cand struct {
	sf     reflect.StructField
	name   string
	opts   string
	tagged bool
	quoted bool
	index  []int
}

// compile walks t as encoding/json's typeFields does: breadth first
// through embedded structs, each struct type once, then of the fields
// sharing a name the shallowest wins, a tagged one over untagged ones at
// its depth, and a tie drops them all.
func compile(t reflect.Type) (*Struct, error) {
	type level struct {
		t     reflect.Type
		index []int
	}
	var found []cand
	next := []level{{t: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current := next
		next = nil
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, lv := range current {
			if visited[lv.t] {
				continue
			}
			visited[lv.t] = true
			for i := 0; i < lv.t.NumField(); i++ {
				sf := lv.t.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validName(name) {
					name = ""
				}
				index := append(append([]int(nil), lv.index...), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					c := cand{sf: sf, name: name, opts: opts, tagged: name != "", index: index}
					if c.name == "" {
						c.name = sf.Name
					}
					c.quoted = hasOpt(opts, "string") && quotable(ft.Kind())
					found = append(found, c)
					if count[lv.t] > 1 {
						found = append(found, c) // embedded twice at this depth: the pair annihilates
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, level{t: ft, index: index})
				}
			}
		}
	}
	slices.SortFunc(found, func(a, b cand) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	var kept []cand
	for i, n := 0, 0; i < len(found); i += n {
		for n = 1; i+n < len(found) && found[i+n].name == found[i].name; n++ {
		}
		if n > 1 && len(found[i].index) == len(found[i+1].index) && found[i].tagged == found[i+1].tagged {
			continue // no dominant field: encoding/json ignores the name
		}
		kept = append(kept, found[i])
	}
	slices.SortFunc(kept, func(a, b cand) int { return slices.Compare(a.index, b.index) })
	s := &Struct{Type: t, Fields: make([]Field, 0, len(kept))}
	for _, c := range kept {
		f, err := field(t, c)
		if err != nil {
			return nil, fmt.Errorf("field %s.%s: %w", t, c.sf.Name, err)
		}
		s.Fields = append(s.Fields, f)
	}
	return s, nil
}

// FieldOf describes one struct field on its own, as a param rather than
// a member of a JSON object (a query or header field: its key is the
// param's name, not a json tag): its type, constraints and documentation
// tags. Name is the Go name; Index and Offsets are the field's own.
func FieldOf(sf reflect.StructField) (Field, error) {
	f, err := field(nil, cand{sf: sf, name: sf.Name, index: sf.Index})
	if err != nil {
		return f, fmt.Errorf("field %s: %w", sf.Name, err)
	}
	f.Offsets = []uintptr{sf.Offset}
	return f, nil
}

// field reads the tags of a field the walk kept.
func field(t reflect.Type, c cand) (Field, error) {
	f := Field{
		Name: c.name, GoName: c.sf.Name, Index: c.index, Type: c.sf.Type, Tag: c.sf.Tag,
		Tagged: c.tagged, Quoted: c.quoted,
		OmitEmpty: hasOpt(c.opts, "omitempty") || hasOpt(c.opts, "omitzero"),
		Doc:       c.sf.Tag.Get("doc"),
	}
	if t != nil {
		f.Offsets = offsets(t, c.index)
	}
	f.Example, f.HasExample = c.sf.Tag.Lookup("example")
	if v, ok := c.sf.Tag.Lookup("deprecated"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, fmt.Errorf(`deprecated:%q: use deprecated:"true"`, v)
		}
		f.Deprecated = b
	}
	var err error
	if f.Constraints, f.Required, err = ParseConstraints(c.sf.Tag); err != nil {
		return f, err
	}
	if f.Quoted && !f.Constraints.Empty() {
		return f, fmt.Errorf("constraints on a \",string\" field are checked on the decoded %s but the JSON value is a string, so no document can state them; drop \",string\" or the constraints", f.Type)
	}
	return f, nil
}

// offsets computes Field.Offsets for the field at index path idx of t:
// offsets add up through embedded structs held by value and start anew
// past each embedded pointer.
func offsets(t reflect.Type, idx []int) []uintptr {
	offs := []uintptr{0}
	for i, x := range idx {
		sf := t.Field(x)
		offs[len(offs)-1] += sf.Offset
		t = sf.Type
		if i < len(idx)-1 && t.Kind() == reflect.Pointer {
			t = t.Elem()
			offs = append(offs, 0)
		}
	}
	return offs
}

// JSONName returns the key and the tag options encoding/json uses for
// struct field f (the tag's name when valid, else the field's), and false
// for a field encoding/json leaves out (unexported, or tagged "-"). It
// does not settle embedding: see StructOf.
func JSONName(f reflect.StructField) (name, opts string, use bool) {
	if !f.IsExported() {
		return "", "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", "", false
	}
	name, opts, _ = strings.Cut(tag, ",")
	if !validName(name) {
		name = f.Name
	}
	return name, opts, true
}

// validName is encoding/json's isValidTag: a tag name it uses, else it
// falls back to the Go field name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

func hasOpt(opts, opt string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == opt {
			return true
		}
	}
	return false
}

// quotable reports whether ",string" applies to a value of kind k.
func quotable(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	}
	return false
}

var timeType = reflect.TypeFor[time.Time]()

// HasChecks reports whether a value of type t can hold a field the
// validator checks (required or a constraint), at any depth, through
// pointers, slices, arrays, maps and the fields StructOf lists. Types
// whose tags are wrong report true: compiling their checks reports the
// mistake.
func HasChecks(t reflect.Type) bool {
	if v, ok := checked.Load(t); ok {
		return v.(bool)
	}
	edges := map[reflect.Type][]reflect.Type{}
	marked := map[reflect.Type]bool{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		if _, ok := edges[t]; ok {
			return
		}
		edges[t] = nil
		s, err := StructOf(t)
		if err != nil {
			marked[t] = true
			return
		}
		for i := range s.Fields {
			f := &s.Fields[i]
			if f.Checked() {
				marked[t] = true
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array || ft.Kind() == reflect.Map {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != timeType {
				edges[t] = append(edges[t], ft)
				visit(ft)
			}
		}
	}
	root := t
	for root.Kind() == reflect.Pointer || root.Kind() == reflect.Slice || root.Kind() == reflect.Array || root.Kind() == reflect.Map {
		root = root.Elem()
	}
	if root.Kind() != reflect.Struct || root == timeType {
		return false
	}
	visit(root)
	for changed := true; changed; {
		changed = false
		for u, to := range edges {
			for _, v := range to {
				if marked[v] && !marked[u] {
					marked[u], changed = true, true
				}
			}
		}
	}
	checked.Store(t, marked[root])
	return marked[root]
}

var checked sync.Map // reflect.Type → bool
