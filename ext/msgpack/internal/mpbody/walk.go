package mpbody

import (
	"strconv"
	"strings"
	"unsafe"
)

// Reporter receives the problems of a body, each with its location
// ("body.items[2].qty"), a message ("must be an integer") and a
// description of what was sent ("string"). Once Full reports true the
// walk stops building reports (it still checks the rest of the body's
// syntax), so a body of a million wrong values costs no more than one.
type Reporter interface {
	Report(loc, msg string, got any)
	Full() bool
}

// Check walks the msgpack body b against t. A body that is not one
// well-formed value returns a *SyntaxError. Otherwise every value of the
// wrong type and, when forbid is set, every unknown field is reported, each
// at its location under root, and Check returns nil; the body then decodes
// with Decode exactly when nothing was reported (short of a type's own
// decoding method failing). The walk is linear in the body and allocates
// only to report.
func Check(b []byte, t *Type, root string, forbid bool, report Reporter) error {
	_, err := CheckCount(b, t, root, forbid, report)
	return err
}

// CheckCount is Check that also returns how many problems the body has,
// those a Full reporter no longer took included: the body decodes when
// there are none.
func CheckCount(b []byte, t *Type, root string, forbid bool, report Reporter) (int, error) {
	w := walker{b: b, root: root, forbid: forbid, report: report}
	end, err := w.value(0, t, 0)
	if err != nil {
		return w.found, err
	}
	return w.found, trailing(b, end)
}

// maxPath bounds the levels a reported location names; deeper values are
// still checked, and their locations end in "…".
const maxPath = 48

// seg is one level of the current location: an array index, or the
// offset of the map key (a field name or a map's key) in the body.
type seg struct {
	key bool
	n   int // index, or key offset
}

type walker struct {
	b      []byte
	root   string
	forbid bool
	report Reporter
	found  int // problems seen, reported or not
	depth  int
	path   [maxPath]seg
}

func (w *walker) push(s seg) {
	if w.depth < maxPath {
		w.path[w.depth] = s
	}
	w.depth++
}

func (w *walker) pop() { w.depth-- }

// loc formats the current location: "body.items[2].qty".
func (w *walker) loc() string {
	var sb strings.Builder
	sb.WriteString(w.root)
	for _, s := range w.path[:min(w.depth, maxPath)] {
		if !s.key {
			sb.WriteByte('[')
			sb.WriteString(strconv.Itoa(s.n))
			sb.WriteByte(']')
			continue
		}
		sb.WriteByte('.')
		h, vi, _ := readHead(w.b, s.n)
		switch h.kind {
		case kStr, kBin:
			sb.Write(w.b[vi : vi+h.n])
		case kInt:
			sb.WriteString(strconv.FormatInt(h.i, 10))
		case kUint:
			sb.WriteString(strconv.FormatUint(h.u, 10))
		default:
			sb.WriteString("(" + h.describe() + ")")
		}
	}
	if w.depth > maxPath {
		sb.WriteString("…")
	}
	return sb.String()
}

func (w *walker) wrong(t *Type, h head) {
	w.found++
	if !w.report.Full() {
		w.report.Report(w.loc(), "must be "+t.want, h.describe())
	}
}

// problem reports msg at the current location.
func (w *walker) problem(msg string, got any) {
	w.found++
	if !w.report.Full() {
		w.report.Report(w.loc(), msg, got)
	}
}

// value checks the value at offset i, depth levels deep, against t and
// returns the offset after it.
func (w *walker) value(i int, t *Type, depth int) (int, error) {
	switch t.op {
	case opAny:
		return skip(w.b, i, depth)
	case opDeny:
		w.problem("is not a known field", nil)
		return skip(w.b, i, depth)
	case opNever:
		w.problem("cannot be decoded from msgpack", nil)
		return skip(w.b, i, depth)
	}
	h, j, err := readHead(w.b, i)
	if err != nil {
		return i, err
	}
	if h.kind == kNil {
		return j, nil // nil fits every other type, as JSON's null does
	}
	ok := false
	switch t.op {
	case opText:
		ok = h.kind == kStr || h.kind == kBin
	case opByteArr:
		ok = (h.kind == kStr || h.kind == kBin) && h.n <= t.alen
	case opBool:
		ok = h.kind == kBool
	case opInt:
		ok = (h.kind == kInt || h.kind == kUint) && h.fitsInt(t.bits)
	case opUint:
		ok = (h.kind == kInt || h.kind == kUint) && h.fitsUint(t.bits)
	case opFloat32:
		ok = h.kind == kFloat32 || h.kind == kInt || h.kind == kUint
	case opFloat64:
		ok = h.kind == kFloat32 || h.kind == kFloat64 || h.kind == kInt || h.kind == kUint
	case opSlice, opArray:
		if h.kind != kArray {
			break
		}
		if t.op == opArray && h.n > t.alen {
			if !w.report.Full() {
				w.problem("must have at most "+strconv.Itoa(t.alen)+" items", "array of "+strconv.Itoa(h.n))
			}
			return skip(w.b, i, depth)
		}
		if depth+1 > MaxDepth {
			return i, tooDeep(i)
		}
		for k := range h.n {
			w.push(seg{n: k})
			j, err = w.value(j, t.elem, depth+1)
			w.pop()
			if err != nil {
				return j, err
			}
		}
		return j, nil
	case opMap, opStruct:
		if h.kind != kMap {
			break
		}
		if depth+1 > MaxDepth {
			return i, tooDeep(i)
		}
		var seen []uint64 // opStruct: the fields given so far
		var one [1]uint64
		if t.op == opStruct {
			seen = one[:]
			if t.nbits > 64 {
				seen = make([]uint64, (t.nbits+63)/64)
			}
		}
		for range h.n {
			w.push(seg{key: true, n: j})
			j, err = w.pair(j, t, seen, depth+1)
			w.pop()
			if err != nil {
				return j, err
			}
		}
		return j, nil
	}
	if !ok {
		w.wrong(t, h)
	}
	if h.kind == kArray || h.kind == kMap {
		return skip(w.b, i, depth)
	}
	return h.payloadEnd(j), nil
}

// pair checks the key at offset i and the value after it, in a map
// decoded into t (a map or a struct; seen has a bit for each of a
// struct's fields given so far).
func (w *walker) pair(i int, t *Type, seen []uint64, depth int) (int, error) {
	kh, vi, err := readHead(w.b, i)
	if err != nil {
		return i, err
	}
	if t.op == opMap {
		var j int
		if kh.kind == kArray || kh.kind == kMap || kh.kind == kExt {
			// Not a key graft accepts, whatever the key type: the
			// library would decode an array or map into an interface
			// key as a slice or map, which cannot be hashed (a panic).
			if !w.report.Full() {
				w.problem("must be a string, number or boolean key", kh.describe())
			}
			j, err = skip(w.b, i, depth)
		} else {
			j, err = w.value(i, t.key, depth)
		}
		if err != nil {
			return j, err
		}
		return w.value(j, t.elem, depth)
	}
	var name string
	switch kh.kind {
	case kStr, kBin:
		name = unsafe.String(unsafe.SliceData(w.b[vi:]), kh.n)
	case kNil: // the library reads a nil key as ""
	default:
		w.pop() // the problem is the object's, not the key's
		if !w.report.Full() {
			w.problem("must be an object with string keys", "object with a "+kh.describe()+" key")
		}
		w.push(seg{})
		j, err := skip(w.b, i, depth)
		if err != nil {
			return j, err
		}
		return skip(w.b, j, depth)
	}
	j := kh.payloadEnd(vi)
	f, known := t.fields[name]
	if !known {
		if w.forbid {
			w.problem("is not a known field", nil)
		}
		return skip(w.b, j, depth)
	}
	word, bit := &seen[f.bit/64], uint64(1)<<(f.bit%64)
	if *word&bit != 0 {
		// The library keeps the last value: which one was meant (and
		// checked) would be unclear.
		w.problem("is given more than once", nil)
		return skip(w.b, j, depth)
	}
	*word |= bit
	return w.value(j, f.typ, depth)
}

func tooDeep(i int) error {
	return &SyntaxError{Offset: i, Msg: "nested more than " + strconv.Itoa(MaxDepth) + " levels deep"}
}
