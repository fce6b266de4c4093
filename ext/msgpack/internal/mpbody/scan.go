package mpbody

import "reflect"

// Kind is the family of a msgpack value, as a scan that follows a body's
// shape needs it (see Head).
type Kind uint8

// The kinds Head tells apart.
const (
	Nil   Kind = iota // nil
	Map               // a map: Head's n is its pairs
	Array             // an array: n is its items
	Str               // a str or a bin: n is its bytes
	Other             // a bool, a number, an extension
)

// Head reads the header of the value at b[i:] and returns its kind, its
// length (see Kind) and the offset of what follows the header: a str's
// bytes, the first item of an array or map. ok is false for a header that
// is malformed or longer than b, or a length that cannot fit in what is
// left of b. It is meant for a body Check accepted.
func Head(b []byte, i int) (k Kind, n, j int, ok bool) {
	h, j, err := readHead(b, i)
	if err != nil {
		return Other, 0, len(b), false
	}
	switch h.kind {
	case kNil:
		return Nil, 0, j, true
	case kMap:
		return Map, h.n, j, true
	case kArray:
		return Array, h.n, j, true
	case kStr, kBin:
		return Str, h.n, j, true
	}
	return Other, 0, j, true
}

// Skip returns the offset after the value at b[i:], without recursion;
// len(b) for a value that is malformed or truncated.
func Skip(b []byte, i int) int {
	j, err := skip(b, i, 0)
	if err != nil {
		return len(b)
	}
	return j
}

// Names lists the map keys that decode into the fields of struct t, by the
// library's rules (the msgpack tag's name, else the json tag's, else the
// Go name; aliases; embedded structs inlined unless their names collide),
// each with its field's index path from t (as reflect.Type.FieldByIndex
// takes it). Names the library cannot set (through an unexported embedded
// pointer) are left out.
func Names(t reflect.Type) map[string][]int {
	c := compiler{seen: map[reflect.Type]*Type{}, visiting: map[reflect.Type]bool{}}
	fs, _ := c.fields(t)
	m := make(map[string][]int, len(fs))
	for name, f := range fs {
		if f.typ != nil {
			m[name] = f.index
		}
	}
	return m
}
