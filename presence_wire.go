package graft

import (
	"reflect"
	"slices"
	"unsafe"

	"github.com/graftgo/graft/internal/schema"
)

// Presence in the bodies of a body codec (msgpack, through ext/msgpack):
// the same plan as JSON's (presence.go), the same rules and the same
// answers, read from the body's bytes through the codec's WireScanner. A
// struct node of a codec's plan knows which of its tracked fields each key
// decodes into (pnode.keys, from WireScanner.FieldNames: exact names, no
// case folding), and the scan below follows the plan through maps, arrays
// and nil as the JSON scan does through objects, arrays and null. It runs
// only on a body the codec's BodyDecoder accepted and decoded, so its
// lengths are true and no key is given twice in an object; it is linear in
// the body (unknown keys cost one map lookup each, values outside the plan
// are skipped through the codec's Skip, which does not recurse into the
// scan) and, like the JSON scan, allocates nothing.

// wireKeys maps each key of a struct (names, from FieldNames) to the index
// in fields of the tracked field it decodes into; fields[i] was compiled
// from sfs[i]. A key whose field encoding/json does not decode (so the
// plan has no node for it) is left out: its value is decoded but not
// looked into.
func wireKeys(names map[string][]int, sfs []schema.Field, fields []pfield) map[string]int32 {
	m := map[string]int32{}
	for name, idx := range names {
		for i := range sfs {
			if fields[i].bit >= 0 && slices.Equal(sfs[i].Index, idx) {
				m[name] = int32(i)
				break
			}
		}
	}
	return m
}

// validateWire checks the decoded value at p against the body b, in the
// format w reads, it was decoded from, as validate does for JSON; n is a
// plan compiled with compileWirePresence for w's codec.
func (n *pnode) validateWire(b []byte, w WireScanner, p unsafe.Pointer, e *errs) {
	s := pscan{b: b, e: e, w: w}
	s.wireValue(n, p)
}

// wireValue checks the value at s.i, decoded at p, against n.
func (s *pscan) wireValue(n *pnode, p unsafe.Pointer) {
	k, cnt, j, ok := s.w.Head(s.b, s.i)
	if !ok {
		s.i = len(s.b)
		return
	}
	switch n.kind {
	case pStruct:
		switch k {
		case WireMap:
			s.wireObject(n, p, cnt, j)
			return
		case WireNil: // an object with no fields sent
			s.i = j
			for _, i := range n.required {
				s.e.add(n.fields[i].loc, "is required", nil)
			}
			return
		}
	case pPtr:
		if q := *(*unsafe.Pointer)(p); q != nil && k != WireNil {
			s.wireValue(n.elem, q)
			return
		}
	case pSlice:
		if k == WireArray {
			h := (*sliceHeader)(p)
			s.wireArray(n, h.data, h.len, cnt, j)
			return
		}
	case pArray:
		if k == WireArray {
			s.wireArray(n, p, n.n, cnt, j)
			return
		}
	case pMap:
		if k == WireMap {
			s.wireMap(n, p, cnt, j)
			return
		}
	case pGo:
		n.check(p, s.e)
	case pRec:
		s.e.push(n.from, n.to)
		s.wireValue(n.elem, p)
		s.e.pop()
		return
	}
	s.i = s.w.Skip(s.b, s.i)
}

// wireKey reads the map key at s.i and returns it as a string that
// aliases the body (valid during the scan), and whether it is a string or
// nil (which decoders read as "").
func (s *pscan) wireKey() (string, bool) {
	k, ln, j, ok := s.w.Head(s.b, s.i)
	switch {
	case !ok:
		s.i = len(s.b)
		return "", false
	case k == WireString:
		if ln > len(s.b)-j {
			s.i = len(s.b)
			return "", false
		}
		s.i = j + ln
		if ln == 0 {
			return "", true
		}
		return unsafe.String(&s.b[j], ln), true
	case k == WireNil:
		s.i = j
		return "", true
	}
	s.i = s.w.Skip(s.b, s.i)
	return "", false
}

// wireObject checks a map of cnt pairs, starting at j, decoded into the
// struct at p.
func (s *pscan) wireObject(n *pnode, p unsafe.Pointer, cnt, j int) {
	base := s.push(2 * n.words) // a bit per tracked field seen, then sent (not nil)
	s.i = j
	for range cnt {
		if s.i >= len(s.b) {
			break
		}
		key, isName := s.wireKey()
		x, known := n.keys[key]
		if !isName || !known {
			s.i = s.w.Skip(s.b, s.i)
			continue
		}
		f := &n.fields[x]
		vk, _, _, _ := s.w.Head(s.b, s.i)
		s.field(n, f, p, base, vk == WireNil)
	}
	s.endObject(n, base)
}

// wireArray checks an array of cnt items, starting at j, decoded into the
// length elements at data.
func (s *pscan) wireArray(n *pnode, data unsafe.Pointer, length, cnt, j int) {
	e := s.e
	k := e.n
	e.n++
	s.i = j
	for i := range cnt {
		if s.i >= len(s.b) {
			break
		}
		if i < length {
			e.setIdx(k, i)
			s.wireValue(n.elem, unsafe.Add(data, uintptr(i)*n.size))
		} else {
			s.i = s.w.Skip(s.b, s.i)
		}
	}
	e.n--
}

// wireMap checks a map of cnt pairs, starting at j, decoded into the Go
// map at p, as mapObject does for JSON: an index of the keys' values
// first, then each decoded entry against its value in the body.
func (s *pscan) wireMap(n *pnode, p unsafe.Pointer, cnt, j int) {
	m := reflect.NewAt(n.mtyp, p).Elem()
	if m.Len() == 0 {
		s.i = s.w.Skip(s.b, s.i)
		return
	}
	ms := n.mpool.Get().(*mapScan)
	s.i = j
	for range cnt {
		if s.i >= len(s.b) {
			break
		}
		key, isName := s.wireKey()
		if isName {
			ms.at[key] = s.i // the last one wins, as in the decoded map
		}
		s.i = s.w.Skip(s.b, s.i)
	}
	s.mapEntries(n, m, ms)
}
