package graft

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/graftgo/graft/internal/schema"
)

// Presence: a field of a JSON body is sent when its key is in the
// document with a value other than null. `required` asks for a sent field
// (an explicit zero satisfies it), and a field's own constraints apply only
// when it was sent, so neither needs a pointer.
//
// The decoded value cannot tell (a zero is a zero), so after decoding, the
// body's bytes are scanned once against a plan compiled from the type (a
// presencePlan per Body type): the scan follows the plan where the
// document's shape matches it, reads each object's keys, matches them to
// fields as encoding/json does (exact name, then case-insensitive), runs
// the checks of the fields it finds on the decoded values (found through
// their offsets, as the decoder left them) and, at the object's end,
// reports the required fields it did not find. Everything the plan does
// not validate (unknown keys, fields without checks, values deeper than
// the plan) is skipped without recursion, so the scan is linear in the
// body and its depth is bounded by the document's (which the decoder read
// whole). A recursive type's plan is a graph: its fields that lead back to
// it are edges to its node (pRec), which the scan follows as deep as the
// document goes, in a location frame (see errs). The bits that say which
// fields an object had live on the stack (two words per object with up to
// 64 tracked fields, in a fixed array of 32 words: 16 such objects nested,
// spilling to the heap past that);
// nothing is allocated for a body whose keys have no escapes.

// pkind is what a plan node validates.
type pkind uint8

const (
	pStruct pkind = iota // a JSON object decoded into a struct
	pPtr                 // a pointer: the value it points to
	pSlice               // a JSON array decoded into a slice
	pArray               // a JSON array decoded into a fixed-size array
	pMap                 // a JSON object decoded into a map with string keys (or integer keys, JSON only)
	pGo                  // a value the plan does not look into: checked as decoded
	pRec                 // a value of a recursive type: its node, elem, in a frame from → to
)

// pnode is a node of a presence plan.
type pnode struct {
	kind     pkind
	fields   []pfield // pStruct: every field encoding/json decodes into, for matching keys
	required []int    // pStruct: indexes in fields of the required ones
	words    int      // pStruct: uint64 words per bit set (one bit per tracked field)
	elem     *pnode   // pPtr, pSlice, pArray, pMap, pRec
	size     uintptr  // pSlice, pArray: element size
	n        int      // pArray: length
	mtyp     reflect.Type
	numKey   numKey           // pMap: a map with integer keys (JSON bodies only)
	mpool    *sync.Pool       // pMap: *mapScan scratch
	check    check            // pGo
	keys     map[string]int32 // pStruct, in a body codec's plan: the tracked field each key decodes into (presence_wire.go)
	from, to string           // pRec: the locations of elem's checks and of this value
}

// pfield is a struct field as the scan sees it.
type pfield struct {
	name     string
	offs     []uintptr // schema.Field.Offsets: a pointer is followed between two
	bit      int       // -1: nothing to check, the value is skipped
	required bool
	own      check  // the field's own constraints, on the decoded value
	child    *pnode // the checks of the values inside it
	zero     func(unsafe.Pointer) bool
	typ      reflect.Type // at setup only
	zeroOK   bool         // the zero value passes own and child (decided at setup)
	loc      string
}

// compilePresence compiles the presence plan of a JSON value of type t at
// loc. It returns nil when values of t need no checks.
func compilePresence(t reflect.Type, loc string) (*pnode, error) {
	var pc presCompiler
	return pc.value(t, loc)
}

// compileWirePresence compiles the presence plan of a value of type t at
// loc in a body codec's format, whose struct keys are names (see
// WireScanner.FieldNames).
func compileWirePresence(t reflect.Type, loc string, names func(reflect.Type) map[string][]int) (*pnode, error) {
	pc := presCompiler{names: names}
	return pc.value(t, loc)
}

// presCompiler compiles one presence plan; as valCompiler does, it
// compiles a struct type once on a path, a field leading back to it
// becoming an edge to its node.
type presCompiler struct {
	stack []presHead // the struct types being compiled, outermost first
	// names lists a body codec's keys of a struct type; nil for JSON,
	// whose keys are matched as encoding/json matches them.
	names func(reflect.Type) map[string][]int
}

type presHead struct {
	t    reflect.Type
	loc  string
	node *pnode
}

func (pc *presCompiler) value(t reflect.Type, loc string) (*pnode, error) {
	switch t.Kind() {
	case reflect.Pointer:
		elem, err := pc.value(t.Elem(), loc)
		if err != nil || elem == nil {
			return nil, err
		}
		return &pnode{kind: pPtr, elem: elem}, nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return nil, nil // base64 text
		}
		elem, err := pc.value(t.Elem(), loc+"[]")
		if err != nil || elem == nil {
			return nil, err
		}
		if t.Kind() == reflect.Array {
			return &pnode{kind: pArray, elem: elem, size: t.Elem().Size(), n: t.Len()}, nil
		}
		return &pnode{kind: pSlice, elem: elem, size: t.Elem().Size()}, nil
	case reflect.Map:
		nk, ok := keyKind(t.Key())
		if !ok || nk != strKey && pc.names != nil {
			// Keys that are text types (and, in a body codec's format,
			// numbers) are not compared with the document's: such a
			// map's values are checked as decoded.
			c, err := compileValidator(t, loc)
			if err != nil || c == nil {
				return nil, err
			}
			return &pnode{kind: pGo, check: c}, nil
		}
		elem, err := pc.value(t.Elem(), loc+".{}")
		if err != nil || elem == nil {
			return nil, err
		}
		return &pnode{kind: pMap, elem: elem, mtyp: t, numKey: nk, mpool: &sync.Pool{New: func() any {
			return &mapScan{k: reflect.New(t.Key()).Elem(), v: reflect.New(t.Elem()).Elem(), at: map[string]int{}, atNum: map[uint64]int{}}
		}}}, nil
	case reflect.Struct:
		if t == timeType || !hasConstraints(t) {
			return nil, nil
		}
		if implementsUnmarshaler(t) {
			// The type reads its own JSON: what it holds is checked as
			// decoded.
			c, err := compileValidator(t, loc)
			if err != nil || c == nil {
				return nil, err
			}
			return &pnode{kind: pGo, check: c}, nil
		}
		for _, h := range pc.stack {
			if h.t == t {
				return &pnode{kind: pRec, elem: h.node, from: h.loc, to: loc}, nil
			}
		}
		n := &pnode{kind: pStruct}
		pc.stack = append(pc.stack, presHead{t: t, loc: loc, node: n})
		defer func() { pc.stack = pc.stack[:len(pc.stack)-1] }()
		return pc.structNode(n, t, loc)
	}
	return nil, nil
}

func implementsUnmarshaler(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshalerType) || pt.Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

// structNode compiles the plan of struct type t at loc into n (which
// pRec nodes below may already point to). It returns nil when t has
// nothing to check.
func (pc *presCompiler) structNode(n *pnode, t reflect.Type, loc string) (*pnode, error) {
	bits := 0
	st, err := schema.StructOf(t)
	if err != nil {
		return nil, err
	}
	for i := range st.Fields {
		sf := &st.Fields[i]
		pf := pfield{name: sf.Name, offs: sf.Offsets, bit: -1, loc: loc + "." + sf.Name}
		if pf.own, err = ownCheck(sf.Type, Constraints(sf.Constraints), pf.loc); err != nil {
			return nil, fmt.Errorf("field %s.%s: %w", t, sf.GoName, err)
		}
		if !sf.Quoted {
			if pf.child, err = pc.value(sf.Type, pf.loc); err != nil {
				return nil, err
			}
		}
		pf.required = sf.Required
		pf.zero, pf.typ = zeroCheck(sf.Type), sf.Type
		if sf.Required || pf.own != nil || pf.child != nil {
			pf.bit = bits
			bits++
			if sf.Required {
				n.required = append(n.required, len(n.fields))
			}
		}
		n.fields = append(n.fields, pf)
	}
	if bits == 0 {
		return nil, nil
	}
	n.words = (bits + 63) / 64
	if pc.names != nil {
		n.keys = wireKeys(pc.names(t), st.Fields, n.fields)
	}
	for i := range n.fields {
		f := &n.fields[i]
		if f.bit < 0 {
			continue
		}
		var e errs
		zp := reflect.New(f.typ).UnsafePointer()
		if f.own != nil {
			f.own(zp, &e)
		}
		f.zeroOK = len(e.list) == 0 && (f.child == nil || f.child.ok(zp, &e))
		f.typ = nil
	}
	return n, nil
}

// match finds the field a key decodes into: an exact name first, then a
// case-insensitive one, as encoding/json does.
func (n *pnode) match(key []byte) *pfield {
	for i := range n.fields {
		if n.fields[i].name == string(key) {
			return &n.fields[i]
		}
	}
	for i := range n.fields {
		if equalFoldBytes(n.fields[i].name, key) {
			return &n.fields[i]
		}
	}
	return nil
}

func equalFoldBytes(s string, b []byte) bool {
	return strings.EqualFold(s, unsafe.String(unsafe.SliceData(b), len(b)))
}

// ptr returns the address of the field in the struct at p; nil when an
// embedded pointer on the way is nil.
func (f *pfield) ptr(p unsafe.Pointer) unsafe.Pointer {
	p = unsafe.Add(p, f.offs[0])
	for _, off := range f.offs[1:] {
		if p = *(*unsafe.Pointer)(p); p == nil {
			return nil
		}
		p = unsafe.Add(p, off)
	}
	return p
}

// fast reports whether the decoded value at p passes every check whatever
// the document sent, judging from the value alone: a field that is not
// zero was sent (the value was zero before decoding), so its checks run;
// a zero field may or may not have been sent, so it must pass either way:
// not required, and its checks pass on the zero value. Failing that, fast
// reports false, leaves e as it was, and the scan decides. It costs what
// validating a decoded value costs. It cannot see a key given twice, so
// it stands in for the scan only for a document known to have none (one
// the plain-struct decoder took, see fastjson.go).
func (n *pnode) fast(p unsafe.Pointer, e *errs) bool {
	mark, cut := len(e.list), e.truncated
	if n.ok(p, e) && len(e.list) == mark {
		return true
	}
	clear(e.list[mark:])
	e.list, e.truncated = e.list[:mark], cut
	return false
}

// ok is fast's walk; a failing check shows as a failure recorded in e.
func (n *pnode) ok(p unsafe.Pointer, e *errs) bool {
	switch n.kind {
	case pStruct:
		mark := len(e.list)
		for i := range n.fields {
			f := &n.fields[i]
			if f.bit < 0 {
				continue
			}
			fp := f.ptr(p)
			if fp == nil || f.zero(fp) {
				if f.required || !f.zeroOK {
					return false
				}
				continue
			}
			if f.own != nil {
				if f.own(fp, e); len(e.list) > mark {
					return false
				}
			}
			if f.child != nil && !f.child.ok(fp, e) {
				return false
			}
		}
	case pPtr:
		if q := *(*unsafe.Pointer)(p); q != nil {
			return n.elem.ok(q, e)
		}
	case pSlice:
		h := (*sliceHeader)(p)
		for i := 0; i < h.len; i++ {
			if !n.elem.ok(unsafe.Add(h.data, uintptr(i)*n.size), e) {
				return false
			}
		}
	case pArray:
		for i := 0; i < n.n; i++ {
			if !n.elem.ok(unsafe.Add(p, uintptr(i)*n.size), e) {
				return false
			}
		}
	case pMap:
		m := reflect.NewAt(n.mtyp, p).Elem()
		if m.Len() == 0 {
			return true
		}
		ms := n.mpool.Get().(*mapScan)
		vp := ms.v.Addr().UnsafePointer()
		ok := true
		ms.it.Reset(m)
		for ok && ms.it.Next() {
			ms.v.SetIterValue(&ms.it)
			ok = n.elem.ok(vp, e)
		}
		ms.it.Reset(reflect.Value{})
		ms.v.SetZero()
		n.mpool.Put(ms)
		return ok
	case pGo:
		mark := len(e.list)
		n.check(p, e)
		return len(e.list) == mark
	case pRec:
		e.push(n.from, n.to)
		ok := n.elem.ok(p, e)
		e.pop()
		return ok
	}
	return true
}

// mapScan is the scratch of a map node: where each key's value starts in
// the document, and the entry being checked.
type mapScan struct {
	it    reflect.MapIter
	k, v  reflect.Value
	at    map[string]int
	atNum map[uint64]int // at, for a map with integer keys: by the key's value (its bits)
}

// numKey says how a JSON object's keys name the entries of a map with
// integer keys: decimal text, which encoding/json parses (so "01" and "1"
// name one entry); the scan indexes the document's keys by their value.
type numKey uint8

const (
	strKey  numKey = iota // string keys: compared as text
	intKey                // signed integer keys
	uintKey               // unsigned integer keys
)

// keyKind returns the numKey of a map key type for JSON, false when its
// keys are neither strings nor integers that encoding/json reads as
// decimal text (text types, which decode themselves).
func keyKind(k reflect.Type) (numKey, bool) {
	if implementsUnmarshaler(k) {
		return 0, false
	}
	switch k.Kind() {
	case reflect.String:
		return strKey, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intKey, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintKey, true
	}
	return 0, false
}

// maxPooledMapKeys bounds the index a pooled mapScan keeps.
const maxPooledMapKeys = 1024

// pscan is the state of one scan of a body.
type pscan struct {
	b     []byte
	i     int
	e     *errs
	w     WireScanner // a body codec's format; nil: JSON
	nbits int         // words in use
	bits  [32]uint64  // the objects' bit sets, innermost last
	spill []uint64    // words past len(bits)
	kbuf  []byte      // unescaped keys (made for the first escaped key)
}

// validate checks the decoded value at p against the JSON document b it
// was decoded from (syntactically valid: the decoder read it whole).
func (n *pnode) validate(b []byte, p unsafe.Pointer, e *errs) {
	s := pscan{b: b, e: e}
	s.ws()
	s.value(n, p)
}

// word returns bit-set word i.
func (s *pscan) word(i int) *uint64 {
	if i < len(s.bits) {
		return &s.bits[i]
	}
	return &s.spill[i-len(s.bits)]
}

// push adds k zeroed words and returns the index of the first.
func (s *pscan) push(k int) int {
	base := s.nbits
	s.nbits += k
	if s.nbits <= len(s.bits) {
		clear(s.bits[base:s.nbits])
		return base
	}
	for i := base; i < s.nbits; i++ {
		if i-len(s.bits) >= len(s.spill) {
			s.spill = append(s.spill, 0)
		}
		*s.word(i) = 0
	}
	return base
}

func (s *pscan) ws() {
	b, i := s.b, s.i
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	s.i = i
}

func (s *pscan) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// value checks the value at s.i, decoded at p, against n.
func (s *pscan) value(n *pnode, p unsafe.Pointer) {
	c := s.peek()
	switch n.kind {
	case pStruct:
		switch c {
		case '{':
			s.object(n, p)
			return
		case 'n': // null: an object with no fields sent
			s.skip()
			for _, i := range n.required {
				s.e.add(n.fields[i].loc, "is required", nil)
			}
			return
		}
	case pPtr:
		if q := *(*unsafe.Pointer)(p); q != nil && c != 'n' {
			s.value(n.elem, q)
			return
		}
	case pSlice:
		if c == '[' {
			h := (*sliceHeader)(p)
			s.array(n, h.data, h.len)
			return
		}
	case pArray:
		if c == '[' {
			s.array(n, p, n.n)
			return
		}
	case pMap:
		if c == '{' {
			s.mapObject(n, p)
			return
		}
	case pGo:
		n.check(p, s.e)
	case pRec:
		s.e.push(n.from, n.to)
		s.value(n.elem, p)
		s.e.pop()
		return
	}
	s.skip()
}

// object checks a JSON object decoded into the struct at p.
func (s *pscan) object(n *pnode, p unsafe.Pointer) {
	base := s.push(2 * n.words) // a bit per tracked field seen, then sent (not null)
	s.i++                       // {
	for {
		s.ws()
		if c := s.peek(); c != '"' {
			if c == '}' {
				s.i++
			}
			break
		}
		key := s.key()
		s.ws()
		s.i++ // :
		s.ws()
		f := n.match(key)
		if f == nil || f.bit < 0 {
			s.skip()
		} else {
			s.field(n, f, p, base, s.peek() == 'n')
		}
		s.ws()
		if s.peek() == ',' {
			s.i++
		}
	}
	s.endObject(n, base)
}

// visit checks the value at s.i, decoded at p, against n: with wireValue
// in a body codec's format (s.w set), else value. (A test of s.w, not a
// func value: an indirect call would make s escape and allocate the
// scanner.)
func (s *pscan) visit(n *pnode, p unsafe.Pointer) {
	if s.w != nil {
		s.wireValue(n, p)
	} else {
		s.value(n, p)
	}
}

// skipValue moves s.i past the value at s.i, in the codec's format or JSON.
func (s *pscan) skipValue() {
	if s.w != nil {
		s.i = s.w.Skip(s.b, s.i)
	} else {
		s.skip()
	}
}

// field handles the value at s.i for the tracked field f of the struct at
// p, for object and wireObject: base is the struct's frame of seen and
// sent bits, null says the value is null/nil.
func (s *pscan) field(n *pnode, f *pfield, p unsafe.Pointer, base int, null bool) {
	seen, sent := s.word(base+f.bit/64), s.word(base+n.words+f.bit/64)
	m := uint64(1) << (f.bit % 64)
	switch {
	case *seen&m != 0:
		// encoding/json keeps the last value (and merges objects), and
		// a body codec's check refuses such a body but an alias and its name
		// reach the same field: which one was checked would be unclear.
		s.e.add(f.loc, "is given more than once", nil)
		s.skipValue()
	case null:
		*seen |= m
		s.skipValue()
	default:
		*seen |= m
		*sent |= m
		fp := f.ptr(p)
		if fp != nil && f.own != nil {
			f.own(fp, s.e)
		}
		if fp != nil && f.child != nil {
			s.visit(f.child, fp)
		} else {
			s.skipValue()
		}
	}
}

// endObject ends the struct frame at base for object and wireObject: it
// reports each required field of n not sent and pops the frame.
func (s *pscan) endObject(n *pnode, base int) {
	for _, i := range n.required {
		f := &n.fields[i]
		if *s.word(base + n.words + f.bit/64)&(1<<(f.bit%64)) == 0 {
			s.e.add(f.loc, "is required", nil)
		}
	}
	s.nbits = base
}

// array checks a JSON array decoded into the n elements at data.
func (s *pscan) array(n *pnode, data unsafe.Pointer, length int) {
	e := s.e
	k := e.n
	e.n++
	s.i++ // [
	for i := 0; ; i++ {
		s.ws()
		if c := s.peek(); c == ']' || c == 0 {
			s.i++
			break
		}
		if i < length {
			e.setIdx(k, i)
			s.value(n.elem, unsafe.Add(data, uintptr(i)*n.size))
		} else {
			s.skip()
		}
		s.ws()
		if s.peek() == ',' {
			s.i++
		}
	}
	e.n--
}

// mapObject checks a JSON object decoded into the map at p. Map values are
// reached through the decoded map's entries (copied into scratch, as
// eachEntry does), each checked against the value its key has in the
// document, found through an index of the object's keys built first: the
// object is read twice, not once per entry.
func (s *pscan) mapObject(n *pnode, p unsafe.Pointer) {
	m := reflect.NewAt(n.mtyp, p).Elem()
	if m.Len() == 0 {
		s.skip()
		return
	}
	ms := n.mpool.Get().(*mapScan)
	s.i++ // {
	for {
		s.ws()
		if c := s.peek(); c != '"' {
			if c == '}' {
				s.i++
			}
			break
		}
		start := s.i
		key := s.key()
		var k string
		switch {
		case len(key) == 0:
		case s.i-start == len(key)+2: // no escapes: the key is in the body
			k = unsafe.String(&s.b[start+1], len(key))
		default:
			k = string(key)
		}
		s.ws()
		s.i++ // :
		s.ws()
		switch n.numKey {
		case strKey:
			ms.at[k] = s.i // the last one wins, as in the decoded map
		case intKey:
			if v, err := strconv.ParseInt(k, 10, 64); err == nil {
				ms.atNum[uint64(v)] = s.i
			}
		case uintKey:
			if v, err := strconv.ParseUint(k, 10, 64); err == nil {
				ms.atNum[v] = s.i
			}
		}
		s.skip()
		s.ws()
		if s.peek() == ',' {
			s.i++
		}
	}
	s.mapEntries(n, m, ms)
}

// mapEntries is the second half of mapObject and wireMap: with ms.at
// indexing where each key's value starts in the body, it checks each
// decoded entry of m against its value (see visit),
// sorts the entries' errors by location, leaves s.i at the end of the map
// and returns ms to n's pool.
func (s *pscan) mapEntries(n *pnode, m reflect.Value, ms *mapScan) {
	end := s.i
	e := s.e
	before := len(e.list)
	d := e.n
	e.n++
	vp := ms.v.Addr().UnsafePointer()
	ms.it.Reset(m)
	for ms.it.Next() {
		ms.k.SetIterKey(&ms.it)
		var at int
		var ok bool
		switch n.numKey {
		case strKey:
			at, ok = ms.at[ms.k.String()]
		case intKey:
			at, ok = ms.atNum[uint64(ms.k.Int())]
		case uintKey:
			at, ok = ms.atNum[ms.k.Uint()]
		}
		if !ok {
			continue
		}
		ms.v.SetIterValue(&ms.it)
		e.setKey(d, &ms.k)
		s.i = at
		s.visit(n.elem, vp)
	}
	e.n--
	e.setKey(d, nil)
	if len(e.list) > before+1 {
		slices.SortStableFunc(e.list[before:], func(a, b FieldError) int { return cmp.Compare(a.Location, b.Location) })
	}
	s.i = end
	ms.it.Reset(reflect.Value{})
	ms.k.SetZero()
	ms.v.SetZero()
	if len(ms.at) > maxPooledMapKeys {
		ms.at = map[string]int{}
	} else {
		clear(ms.at)
	}
	if len(ms.atNum) > maxPooledMapKeys {
		ms.atNum = map[uint64]int{}
	} else {
		clear(ms.atNum)
	}
	n.mpool.Put(ms)
}

// key reads the string at s.i (an object key) and returns it unescaped.
// Without escapes it is a slice of the body; with them it is written into
// s.kbuf, which is allocated for the first key that has escapes.
func (s *pscan) key() []byte {
	b := s.b
	start := s.i + 1 // past "
	i := start
	escaped := false
	for i < len(b) && b[i] != '"' {
		if b[i] == '\\' {
			escaped = true
			i++
		}
		i++
	}
	i = min(i, len(b))
	raw := b[start:i]
	s.i = i + 1 // past "
	if !escaped {
		return raw
	}
	s.kbuf = unescapeJSON(s.kbuf[:0], raw)
	return s.kbuf
}

// unescapeJSON appends the JSON string body raw, unescaped, to dst.
func unescapeJSON(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			dst = append(dst, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw, i+1)
			if !ok {
				return dst
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(raw, i+3); ok && i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // " \ /
			dst = append(dst, raw[i])
		}
	}
	return dst
}

// hex4 reads the four hex digits of a \u escape at raw[i:].
func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, c := range raw[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skip moves past the value at s.i without recursion.
func (s *pscan) skip() {
	b, i := s.b, s.i
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = skipString(b, i)
		case '{', '[':
			depth++
			i++
		case '}', ']':
			depth--
			i++
		default:
			if depth == 0 { // a number or a literal
				for i < len(b) && !isJSONDelim(b[i]) {
					i++
				}
				s.i = i
				return
			}
			i++
		}
		if depth <= 0 {
			break
		}
	}
	s.i = i
}

// skipString returns the index past the string at b[i].
func skipString(b []byte, i int) int {
	i++
	// Most strings are short and plain: look at them byte by byte first.
	for end := min(i+16, len(b)); i < end; i++ {
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			return skipEscaped(b, i)
		}
	}
	return skipEscaped(b, i)
}

// skipEscaped returns the index past the string whose bytes go on at b[i].
func skipEscaped(b []byte, i int) int {
	for {
		j := bytes.IndexByte(b[min(i, len(b)):], '"')
		if j < 0 {
			return len(b)
		}
		i += j + 1
		// The quote ends the string unless an odd number of backslashes
		// escapes it.
		n := 0
		for k := i - 2; k >= 0 && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return i
		}
	}
}

func isJSONDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
