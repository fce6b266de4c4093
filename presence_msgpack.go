package graft

import (
	"reflect"
	"slices"
	"unsafe"

	"github.com/graftgo/graft/internal/mpbody"
)

// Presence in msgpack bodies: the same plan as JSON's (presence.go), the
// same rules and the same answers, read from the msgpack bytes. A struct
// node knows which of its tracked fields each msgpack key decodes into
// (pnode.mp, by the library's naming: msgpack tag, then json tag, aliases,
// inlined embedded structs; exact names, no case folding), and the scan
// below follows the plan through maps, arrays and nil as the JSON scan
// does through objects, arrays and null. It runs only on a body that
// mpbody.Check accepted and the library decoded, so its lengths are true
// and no key is given twice in an object; it is linear in the body
// (unknown keys cost one map lookup each, values outside the plan are
// skipped without recursion) and, like the JSON scan, allocates nothing.

// msgpackKeys maps each msgpack key of struct t to the index in fields of
// the tracked field it decodes into; fields[i] was compiled from jfs[i].
// A key whose field encoding/json does not decode (so the plan has no node
// for it) is left out: its value is decoded but not looked into.
func msgpackKeys(t reflect.Type, jfs []jsonField, fields []pfield) map[string]int32 {
	m := map[string]int32{}
	for name, idx := range mpbody.Names(t) {
		for i, jf := range jfs {
			if fields[i].bit >= 0 && slices.Equal(jf.index, idx) {
				m[name] = int32(i)
				break
			}
		}
	}
	return m
}

// validateMsgpack checks the decoded value at p against the msgpack body b
// it was decoded from, as validate does for JSON.
func (n *pnode) validateMsgpack(b []byte, p unsafe.Pointer, e *errs) {
	s := pscan{b: b, e: e}
	s.mpValue(n, p)
}

// mpValue checks the msgpack value at s.i, decoded at p, against n.
func (s *pscan) mpValue(n *pnode, p unsafe.Pointer) {
	k, cnt, j, ok := mpbody.Head(s.b, s.i)
	if !ok {
		s.i = len(s.b)
		return
	}
	switch n.kind {
	case pStruct:
		switch k {
		case mpbody.Map:
			s.mpObject(n, p, cnt, j)
			return
		case mpbody.Nil: // an object with no fields sent
			s.i = j
			for _, i := range n.required {
				s.e.add(n.fields[i].loc, "is required", nil)
			}
			return
		}
	case pPtr:
		if q := *(*unsafe.Pointer)(p); q != nil && k != mpbody.Nil {
			s.mpValue(n.elem, q)
			return
		}
	case pSlice:
		if k == mpbody.Array {
			h := (*sliceHeader)(p)
			s.mpArray(n, h.data, h.len, cnt, j)
			return
		}
	case pArray:
		if k == mpbody.Array {
			s.mpArray(n, p, n.n, cnt, j)
			return
		}
	case pMap:
		if k == mpbody.Map {
			s.mpMap(n, p, cnt, j)
			return
		}
	case pGo:
		n.check(p, s.e)
	case pRec:
		s.e.push(n.from, n.to)
		s.mpValue(n.elem, p)
		s.e.pop()
		return
	}
	s.i = mpbody.Skip(s.b, s.i)
}

// mpKey reads the map key at s.i and returns it as a string that aliases
// the body (valid during the scan), and whether it is a str, bin or nil
// (the library reads a nil key as "").
func (s *pscan) mpKey() (string, bool) {
	k, ln, j, ok := mpbody.Head(s.b, s.i)
	switch {
	case !ok:
		s.i = len(s.b)
		return "", false
	case k == mpbody.Str:
		s.i = j + ln
		if ln == 0 {
			return "", true
		}
		return unsafe.String(&s.b[j], ln), true
	case k == mpbody.Nil:
		s.i = j
		return "", true
	}
	s.i = mpbody.Skip(s.b, s.i)
	return "", false
}

// mpObject checks a msgpack map of cnt pairs, starting at j, decoded into
// the struct at p.
func (s *pscan) mpObject(n *pnode, p unsafe.Pointer, cnt, j int) {
	base := s.push(2 * n.words) // a bit per tracked field seen, then sent (not nil)
	s.i = j
	for range cnt {
		if s.i >= len(s.b) {
			break
		}
		key, isName := s.mpKey()
		x, known := n.mp[key]
		if !isName || !known {
			s.i = mpbody.Skip(s.b, s.i)
			continue
		}
		f := &n.fields[x]
		vk, _, _, _ := mpbody.Head(s.b, s.i)
		s.field(n, f, p, base, vk == mpbody.Nil, true)
	}
	s.endObject(n, base)
}

// mpArray checks a msgpack array of cnt items, starting at j, decoded into
// the length elements at data.
func (s *pscan) mpArray(n *pnode, data unsafe.Pointer, length, cnt, j int) {
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
			s.mpValue(n.elem, unsafe.Add(data, uintptr(i)*n.size))
		} else {
			s.i = mpbody.Skip(s.b, s.i)
		}
	}
	e.n--
}

// mpMap checks a msgpack map of cnt pairs, starting at j, decoded into the
// map at p, as mapObject does for JSON: an index of the keys' values
// first, then each decoded entry against its value in the body.
func (s *pscan) mpMap(n *pnode, p unsafe.Pointer, cnt, j int) {
	m := reflect.NewAt(n.mtyp, p).Elem()
	if m.Len() == 0 {
		s.i = mpbody.Skip(s.b, s.i)
		return
	}
	ms := n.mpool.Get().(*mapScan)
	s.i = j
	for range cnt {
		if s.i >= len(s.b) {
			break
		}
		key, isName := s.mpKey()
		if isName {
			ms.at[key] = s.i // the last one wins, as in the decoded map
		}
		s.i = mpbody.Skip(s.b, s.i)
	}
	s.mapEntries(n, m, ms, true)
}
