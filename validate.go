package graft

import (
	"cmp"
	"encoding"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/graftgo/graft/internal/schema"
)

// Validation is compiled once per type from struct tags: `required:"true"`,
// `min`, `max` (numbers), `minLength`, `maxLength` (string runes, slice and
// map lengths), `pattern` (a Go regexp), `enum` (comma-separated values),
// `format` (email, uuid, date-time). The compiled checks read fields
// through their offsets; per request they neither reflect nor allocate
// unless a check fails.

// constraintTags are the struct tags validation reads.
var constraintTags = schema.Tags

// parseConstraints reads the constraint tags of a field (schema's parser,
// the one the documents read too).
func parseConstraints(tag reflect.StructTag) (Constraints, bool, error) {
	c, req, err := schema.ParseConstraints(tag)
	return Constraints(c), req, err
}

func (c *Constraints) empty() bool { return (*schema.Constraints)(c).Empty() }

// maxFieldErrors caps the failures one answer lists; past it the answer
// says the list was cut (Problem.ErrorsTruncated). With the caps on the
// length of a location and of an echoed value, it bounds the size of a 422
// whatever the request holds.
const maxFieldErrors = 100

// maxErrorLocation and maxErrorValue cap, in bytes, the location and an
// echoed string value of one FieldError.
const (
	maxErrorLocation = 256
	maxErrorValue    = 128
)

// errs collects field errors; it allocates only on the first failure. It
// lives in the per-request state, so passing it around costs nothing.
//
// Work stays linear in the request: once maxFieldErrors are listed, a
// further failure only marks the list truncated, and after that every add
// returns at once. Failures in list[shadow0:shadow1] are decoding failures
// (a value of the wrong JSON type, left zero): what validation says at or
// below their locations is noise and is not recorded.
//
// A recursive type's checks are compiled once, with the locations of its
// first place in the body; each recursion the walk follows pushes a frame
// that maps those locations to where the walk is (see recurse), and add
// rewrites the location of a failure through the frames.
type errs struct {
	list      []FieldError
	idx       [8]int            // indexes of the slices and arrays being walked, for "[]" in locations
	keys      [8]*reflect.Value // keys of the map entries being walked (in their scratch), for "{}"
	n         int
	moreIdx   []int            // idx past len(idx), for documents nested deeper
	moreKeys  []*reflect.Value // keys past len(keys)
	frames    [8]locFrame      // the recursions being walked, outermost first
	moreFr    []locFrame       // frames past len(frames)
	nfr       int
	truncated bool
	shadow0   int
	shadow1   int
}

// locFrame says that the checks of a recursive type, compiled at location
// from (the type's first place), run at location to: a location from+rest
// is to+rest.
type locFrame struct{ from, to string }

// push enters a recursion: the checks compiled at from run at to.
func (e *errs) push(from, to string) {
	if e.nfr < len(e.frames) {
		e.frames[e.nfr] = locFrame{from, to}
	} else if i := e.nfr - len(e.frames); i < len(e.moreFr) {
		e.moreFr[i] = locFrame{from, to}
	} else {
		e.moreFr = append(e.moreFr, locFrame{from, to})
	}
	e.nfr++
}

// pop leaves the innermost recursion.
func (e *errs) pop() { e.nfr-- }

func (e *errs) frame(i int) *locFrame {
	if i < len(e.frames) {
		return &e.frames[i]
	}
	return &e.moreFr[i-len(e.frames)]
}

// setIdx records i as the index of the k-th slice or array being walked.
func (e *errs) setIdx(k, i int) {
	if k < len(e.idx) {
		e.idx[k] = i
		return
	}
	k -= len(e.idx)
	for len(e.moreIdx) <= k {
		e.moreIdx = append(e.moreIdx, 0)
	}
	e.moreIdx[k] = i
}

// setKey records kp as the key of the k-th map entry being walked.
func (e *errs) setKey(k int, kp *reflect.Value) {
	if k < len(e.keys) {
		e.keys[k] = kp
		return
	}
	k -= len(e.keys)
	for len(e.moreKeys) <= k {
		e.moreKeys = append(e.moreKeys, nil)
	}
	e.moreKeys[k] = kp
}

func (e *errs) index(k int) (int, bool) {
	switch {
	case k >= e.n:
		return 0, false
	case k < len(e.idx):
		return e.idx[k], true
	case k-len(e.idx) < len(e.moreIdx):
		return e.moreIdx[k-len(e.idx)], true
	}
	return 0, false
}

func (e *errs) key(k int) *reflect.Value {
	switch {
	case k >= e.n:
		return nil
	case k < len(e.keys):
		return e.keys[k]
	case k-len(e.keys) < len(e.moreKeys):
		return e.moreKeys[k-len(e.keys)]
	}
	return nil
}

// add records a failure at loc, filling each "[]" of the location template
// with the index of the element being checked and each "{}" with the key
// of the map entry being checked.
func (e *errs) add(loc, msg string, v any) {
	if e.truncated || (e.shadow1 > e.shadow0 && e.shadowed(loc)) {
		return
	}
	if len(e.list) >= maxFieldErrors {
		e.truncated = true
		return
	}
	if e.nfr > 0 || strings.Contains(loc, "[]") || strings.Contains(loc, "{}") {
		loc = e.location(loc, maxErrorLocation)
	}
	if e.list == nil {
		// A failing request has a few failures as a rule: one
		// allocation for the first four, not one per failure.
		e.list = make([]FieldError, 0, 4)
	}
	e.list = append(e.list, FieldError{Location: clipString(loc, maxErrorLocation), Message: msg, Value: boundValue(v)})
}

// location expands the location template loc of a failure found now: the
// frames rewrite it, innermost first (to + loc[len(from):]), which writes
// it as the frames' segments outermost first; then each "[]" gets its
// index and each "{}" its key, in nesting order. It stops once past limit
// bytes: a longer location is clipped anyway.
func (e *errs) location(loc string, limit int) string {
	var b strings.Builder
	k, prev := 0, 0
	for i := 0; i < e.nfr; i++ {
		f := e.frame(i)
		if k = e.expand(&b, tail(f.to, prev), k, limit); k < 0 {
			return b.String()
		}
		prev = len(f.from)
	}
	e.expand(&b, tail(loc, prev), k, limit)
	return b.String()
}

// tail is s past its first n bytes.
func tail(s string, n int) string { return s[min(n, len(s)):] }

// expand writes the template t to b, its "[]" and "{}" filled from the
// k-th on, and returns the next k; -1 once b holds more than limit bytes.
func (e *errs) expand(b *strings.Builder, t string, k, limit int) int {
	for b.Len() <= limit {
		i := strings.Index(t, "[]")
		j := strings.Index(t, "{}")
		if i < 0 && j < 0 {
			b.WriteString(t)
			return k
		}
		if i < 0 || j >= 0 && j < i {
			b.WriteString(t[:j])
			b.WriteString(mapKeyString(e.key(k)))
			t = t[j+2:]
		} else {
			b.WriteString(t[:i+1])
			if x, ok := e.index(k); ok {
				b.WriteString(strconv.Itoa(x))
			}
			b.WriteByte(']')
			t = t[i+2:]
		}
		k++
	}
	return -1
}

// shadowed reports whether the location template loc, expanded as add
// would expand it, sits at or below the location of a decoding failure.
// Outside recursions, with arrays and maps nested up to len(idx) deep and
// no failure location clipped, it compares in place, without building the
// location. A clipped failure location shadows the locations that clip to
// it: they would read the same.
func (e *errs) shadowed(loc string) bool {
	ds := e.list[e.shadow0:e.shadow1]
	if e.nfr == 0 && e.n <= len(e.idx) && !slices.ContainsFunc(ds, clippedLoc) {
		for _, d := range ds {
			if locUnder(loc, &e.idx, &e.keys, e.n, d.Location) {
				return true
			}
		}
		return false
	}
	s := e.location(loc, maxErrorLocation) // longer than any recorded location, if cut
	for _, d := range ds {
		p := d.Location
		if strings.HasPrefix(s, p) && (len(s) == len(p) || s[len(p)] == '.' || s[len(p)] == '[') ||
			clippedLoc(d) && clipString(s, maxErrorLocation) == p {
			return true
		}
	}
	return false
}

// clippedLoc reports whether the location of d was clipped by add.
func clippedLoc(d FieldError) bool {
	return len(d.Location) >= maxErrorLocation-len("…") && strings.HasSuffix(d.Location, "…")
}

// locUnder reports whether template t, its k-th "[]" holding idx[k] and
// its k-th "{}" the map key keys[k] for k < n, expands to prefix or to a
// location below it (prefix followed by "." or "[").
func locUnder(t string, idx *[8]int, keys *[8]*reflect.Value, n int, prefix string) bool {
	var digits [20]byte
	j, k := 0, 0 // position in prefix, index of the next "[]" or "{}"
	for i := 0; i < len(t); i++ {
		if t[i] == '{' && i+1 < len(t) && t[i+1] == '}' {
			var key string
			if k < n && keys != nil {
				key = mapKeyString(keys[k])
			}
			k++
			i++
			if !strings.HasPrefix(prefix[j:], key) {
				return false
			}
			j += len(key)
			continue
		}
		if t[i] == '[' && i+1 < len(t) && t[i+1] == ']' {
			var seg []byte
			if k < n {
				seg = strconv.AppendInt(digits[:0], int64(idx[k]), 10)
			}
			k++
			i++
			if j == len(prefix) {
				return true // the expansion goes on with "["
			}
			if prefix[j] != '[' {
				return false
			}
			j++
			for _, c := range seg {
				if j == len(prefix) || prefix[j] != c {
					return false
				}
				j++
			}
			if j == len(prefix) || prefix[j] != ']' {
				return false
			}
			j++
			continue
		}
		if j == len(prefix) {
			return t[i] == '.' || t[i] == '['
		}
		if prefix[j] != t[i] {
			return false
		}
		j++
	}
	return j == len(prefix)
}

// mapKeyString formats a map key as encoding/json names it in an object
// (the failure path only).
func mapKeyString(kp *reflect.Value) string {
	if kp == nil || !kp.IsValid() {
		return ""
	}
	k := *kp
	if k.Kind() == reflect.String {
		return k.String()
	}
	if m, ok := k.Interface().(encoding.TextMarshaler); ok {
		b, err := m.MarshalText()
		if err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(k.Interface())
}

// clipString cuts s to at most n bytes on a rune boundary, marking the cut
// with an ellipsis.
func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// maxErrorValues caps the values echoed for a multi-valued param.
const maxErrorValues = 8

// boundValue caps the size of a value echoed in a FieldError.
func boundValue(v any) any {
	switch x := v.(type) {
	case string:
		return clipString(x, maxErrorValue)
	case []string:
		if len(x) > maxErrorValues {
			x = x[:maxErrorValues]
		}
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = clipString(s, maxErrorValue)
		}
		return out
	}
	return v
}

// check validates the value at p; its location is compiled into it.
type check func(p unsafe.Pointer, e *errs)

// scalarCheck compiles the constraints of a scalar of type t (string, bool,
// number, or a named type of one). It returns nil when nothing is checked.
func scalarCheck(t reflect.Type, c Constraints, loc string) (check, error) {
	if c.empty() {
		return nil, nil
	}
	var fns []check
	switch k := t.Kind(); {
	case k == reflect.String:
		get := func(p unsafe.Pointer) string { return *(*string)(p) }
		if c.Min != nil || c.Max != nil {
			return nil, fmt.Errorf("min/max apply to numbers; use minLength/maxLength on %s", t)
		}
		if c.MinLength != nil {
			n := *c.MinLength
			fns = append(fns, func(p unsafe.Pointer, e *errs) {
				if s := get(p); utf8.RuneCountInString(s) < n {
					e.add(loc, fmt.Sprintf("must be at least %d characters long", n), s)
				}
			})
		}
		if c.MaxLength != nil {
			n := *c.MaxLength
			fns = append(fns, func(p unsafe.Pointer, e *errs) {
				if s := get(p); utf8.RuneCountInString(s) > n {
					e.add(loc, fmt.Sprintf("must be at most %d characters long", n), s)
				}
			})
		}
		if c.Pattern != "" {
			re := regexp.MustCompile(c.Pattern)
			fns = append(fns, func(p unsafe.Pointer, e *errs) {
				if s := get(p); !re.MatchString(s) {
					e.add(loc, "must match the pattern "+re.String(), s)
				}
			})
		}
		if len(c.Enum) > 0 {
			enum := c.Enum
			msg := "must be one of " + strings.Join(enum, ", ")
			fns = append(fns, func(p unsafe.Pointer, e *errs) {
				s := get(p)
				for _, x := range enum {
					if s == x {
						return
					}
				}
				e.add(loc, msg, s)
			})
		}
		if c.Format != "" {
			f, msg := schema.Format(c.Format), "must be a valid "+c.Format
			fns = append(fns, func(p unsafe.Pointer, e *errs) {
				if s := get(p); !f(s) {
					e.add(loc, msg, s)
				}
			})
		}
	case isNumberKind(k):
		if c.MinLength != nil || c.MaxLength != nil || c.Pattern != "" || c.Format != "" {
			return nil, fmt.Errorf("minLength/maxLength/pattern/format apply to strings; use min/max on %s", t)
		}
		get := numberGetter(k)
		if c.Min != nil {
			lo := *c.Min
			msg := "must be at least " + strconv.FormatFloat(lo, 'g', -1, 64)
			fns = append(fns, func(p unsafe.Pointer, e *errs) {
				if v := get(p); v < lo {
					e.add(loc, msg, v)
				}
			})
		}
		if c.Max != nil {
			hi := *c.Max
			msg := "must be at most " + strconv.FormatFloat(hi, 'g', -1, 64)
			fns = append(fns, func(p unsafe.Pointer, e *errs) {
				if v := get(p); v > hi {
					e.add(loc, msg, v)
				}
			})
		}
		if len(c.Enum) > 0 {
			vals := make([]float64, len(c.Enum))
			for i, s := range c.Enum {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return nil, fmt.Errorf("enum value %q of %s is not a number", s, t)
				}
				vals[i] = f
			}
			msg := "must be one of " + strings.Join(c.Enum, ", ")
			fns = append(fns, func(p unsafe.Pointer, e *errs) {
				v := get(p)
				for _, x := range vals {
					if v == x {
						return
					}
				}
				e.add(loc, msg, v)
			})
		}
	default:
		return nil, fmt.Errorf("constraints do not apply to %s", t)
	}
	if len(fns) == 1 {
		return fns[0], nil
	}
	return func(p unsafe.Pointer, e *errs) {
		for _, f := range fns {
			f(p, e)
		}
	}, nil
}

func isNumberKind(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Float64 && k != reflect.Uintptr
}

// numberGetter reads a number of kind k as a float64.
func numberGetter(k reflect.Kind) func(p unsafe.Pointer) float64 {
	switch k {
	case reflect.Int:
		return func(p unsafe.Pointer) float64 { return float64(*(*int)(p)) }
	case reflect.Int8:
		return func(p unsafe.Pointer) float64 { return float64(*(*int8)(p)) }
	case reflect.Int16:
		return func(p unsafe.Pointer) float64 { return float64(*(*int16)(p)) }
	case reflect.Int32:
		return func(p unsafe.Pointer) float64 { return float64(*(*int32)(p)) }
	case reflect.Int64:
		return func(p unsafe.Pointer) float64 { return float64(*(*int64)(p)) }
	case reflect.Uint:
		return func(p unsafe.Pointer) float64 { return float64(*(*uint)(p)) }
	case reflect.Uint8:
		return func(p unsafe.Pointer) float64 { return float64(*(*uint8)(p)) }
	case reflect.Uint16:
		return func(p unsafe.Pointer) float64 { return float64(*(*uint16)(p)) }
	case reflect.Uint32:
		return func(p unsafe.Pointer) float64 { return float64(*(*uint32)(p)) }
	case reflect.Uint64:
		return func(p unsafe.Pointer) float64 { return float64(*(*uint64)(p)) }
	case reflect.Float32:
		return func(p unsafe.Pointer) float64 { return float64(*(*float32)(p)) }
	case reflect.Float64:
		return func(p unsafe.Pointer) float64 { return *(*float64)(p) }
	}
	return func(unsafe.Pointer) float64 { return math.NaN() }
}

var timeType = reflect.TypeFor[time.Time]()

// compileValidator compiles the checks of a value of type t found at loc
// (an absolute location such as "body" or "body.items[]"). It returns nil
// when values of t need no checks.
func compileValidator(t reflect.Type, loc string) (check, error) {
	var vc valCompiler
	return vc.value(t, loc)
}

// valCompiler compiles the checks of one type. A struct type is compiled
// once on a path: a field that leads back to a type being compiled (a
// recursive type) compiles to a call of that type's checks (recurse), so
// the plan is linear in the size of the type and checks values at every
// depth of the document.
type valCompiler struct {
	stack []valHead // the struct types being compiled, outermost first
}

// valHead is a struct type being compiled at loc; its checks are bound to
// fn when it is done.
type valHead struct {
	t   reflect.Type
	loc string
	fn  *check
}

func (vc *valCompiler) value(t reflect.Type, loc string) (check, error) {
	switch t.Kind() {
	case reflect.Pointer:
		inner, err := vc.value(t.Elem(), loc)
		if err != nil || inner == nil {
			return nil, err
		}
		return func(p unsafe.Pointer, e *errs) {
			if q := *(*unsafe.Pointer)(p); q != nil {
				inner(q, e)
			}
		}, nil
	case reflect.Slice:
		inner, err := vc.value(t.Elem(), loc+"[]")
		if err != nil || inner == nil {
			return nil, err
		}
		return eachElem(t, inner), nil
	case reflect.Array:
		inner, err := vc.value(t.Elem(), loc+"[]")
		if err != nil || inner == nil {
			return nil, err
		}
		return eachArrayElem(t, inner), nil
	case reflect.Map:
		inner, err := vc.value(t.Elem(), loc+".{}")
		if err != nil || inner == nil {
			return nil, err
		}
		return eachEntry(t, inner), nil
	case reflect.Struct:
		if t == timeType || !hasConstraints(t) {
			return nil, nil
		}
		for _, h := range vc.stack {
			if h.t == t {
				return recurse(h.fn, h.loc, loc), nil
			}
		}
		fn := new(check)
		vc.stack = append(vc.stack, valHead{t: t, loc: loc, fn: fn})
		c, err := vc.structCheck(t, loc)
		vc.stack = vc.stack[:len(vc.stack)-1]
		*fn = c
		return c, err
	}
	return nil, nil
}

// recurse is the check of a value of a recursive type at location to: the
// type's checks, compiled at from and bound to *fn once compiled, run in a
// frame that maps their locations to the value's.
func recurse(fn *check, from, to string) check {
	if from == to { // an embedded pointer to the type itself
		return func(p unsafe.Pointer, e *errs) {
			if c := *fn; c != nil {
				c(p, e)
			}
		}
	}
	return func(p unsafe.Pointer, e *errs) {
		if c := *fn; c != nil {
			e.push(from, to)
			c(p, e)
			e.pop()
		}
	}
}

// hasConstraints reports whether a value of struct type t can hold a
// field with a check (required or a constraint), at any depth, among the
// fields encoding/json decodes (schema.HasChecks).
func hasConstraints(t reflect.Type) bool { return schema.HasChecks(t) }

// eachElem runs inner on every element of a slice of type t, recording the
// index for the "[]" of error locations.
func eachElem(t reflect.Type, inner check) check {
	size := t.Elem().Size()
	return func(p unsafe.Pointer, e *errs) {
		h := (*sliceHeader)(p)
		k := e.n
		e.n++
		for i := 0; i < h.len; i++ {
			e.setIdx(k, i)
			inner(unsafe.Add(h.data, uintptr(i)*size), e)
		}
		e.n--
	}
}

// eachArrayElem runs inner on every element of an array of type t.
func eachArrayElem(t reflect.Type, inner check) check {
	n, size := t.Len(), t.Elem().Size()
	return func(p unsafe.Pointer, e *errs) {
		k := e.n
		e.n++
		for i := 0; i < n; i++ {
			e.setIdx(k, i)
			inner(unsafe.Add(p, uintptr(i)*size), e)
		}
		e.n--
	}
}

// mapEntry is the scratch a map check copies each entry into: map values
// are not addressable, and reflect copies them into these without
// allocating. It is pooled per map type.
type mapEntry struct {
	it   reflect.MapIter
	k, v reflect.Value
}

// eachEntry runs inner on the value of every entry of a map of type t,
// recording the key for the "{}" of error locations. Entries are copied
// into pooled scratch, so nothing is allocated per entry; the failures are
// sorted by location (the failure path only), since map order is random.
func eachEntry(t reflect.Type, inner check) check {
	pool := &sync.Pool{New: func() any {
		return &mapEntry{k: reflect.New(t.Key()).Elem(), v: reflect.New(t.Elem()).Elem()}
	}}
	return func(p unsafe.Pointer, e *errs) {
		m := reflect.NewAt(t, p).Elem()
		if m.Len() == 0 {
			return
		}
		me := pool.Get().(*mapEntry)
		before := len(e.list)
		k := e.n
		e.n++
		me.it.Reset(m)
		vp := me.v.Addr().UnsafePointer()
		for me.it.Next() {
			me.v.SetIterValue(&me.it)
			me.k.SetIterKey(&me.it)
			e.setKey(k, &me.k)
			inner(vp, e)
		}
		e.n--
		e.setKey(k, nil)
		if len(e.list) > before+1 {
			slices.SortStableFunc(e.list[before:], func(a, b FieldError) int { return cmp.Compare(a.Location, b.Location) })
		}
		me.it.Reset(reflect.Value{})
		me.k.SetZero()
		me.v.SetZero()
		pool.Put(me)
	}
}

type sliceHeader struct {
	data unsafe.Pointer
	len  int
	cap  int
}

// structCheck compiles the checks of the fields encoding/json decodes
// into (schema.StructOf: embedded structs flattened, hidden fields left
// out). A field behind a nil embedded pointer is absent: only required
// applies to it.
func (vc *valCompiler) structCheck(t reflect.Type, loc string) (check, error) {
	st, err := schema.StructOf(t)
	if err != nil {
		return nil, err
	}
	type fieldCheck struct {
		f     *schema.Field
		check check
	}
	var fields []fieldCheck
	for i := range st.Fields {
		f := &st.Fields[i]
		c, err := vc.field(f, loc+"."+f.Name)
		if err != nil {
			return nil, fmt.Errorf("field %s.%s: %w", t, f.GoName, err)
		}
		if c != nil {
			fields = append(fields, fieldCheck{f: f, check: c})
		}
	}
	if len(fields) == 0 {
		return nil, nil
	}
	return func(p unsafe.Pointer, e *errs) {
		for i := range fields {
			fields[i].check(fields[i].f.Ptr(p), e)
		}
	}, nil
}

// field compiles the checks of one body field at loc: required,
// its own constraints, and those of the values inside it. A field is
// absent when it is a nil pointer, behind a nil embedded pointer (p is
// nil), or zero with omitempty in its json tag: absent fields are only
// checked for required.
func (vc *valCompiler) field(f *schema.Field, loc string) (check, error) {
	c, required := Constraints(f.Constraints), f.Required
	t := f.Type
	var inner check
	if !f.Quoted {
		var err error
		if inner, err = vc.value(t, loc); err != nil {
			return nil, err
		}
	}
	own, err := ownCheck(t, c, loc)
	if err != nil {
		return nil, err
	}
	if !required && own == nil && inner == nil {
		return nil, nil
	}
	zero := zeroCheck(t)
	optional := f.OmitEmpty || t.Kind() == reflect.Pointer
	return func(p unsafe.Pointer, e *errs) {
		if p == nil || zero(p) {
			if required {
				e.add(loc, "is required", nil)
				return
			}
			if optional || p == nil {
				return
			}
		}
		if own != nil {
			own(p, e)
		}
		if inner != nil {
			inner(p, e)
		}
	}, nil
}

// ownCheck compiles a field's own constraints: on the value, on the value
// a pointer points to, or on a slice's (or map's) length and elements.
func ownCheck(t reflect.Type, c Constraints, loc string) (check, error) {
	if c.empty() {
		return nil, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		ec, err := ownCheck(t.Elem(), c, loc)
		if err != nil || ec == nil {
			return nil, err
		}
		return func(p unsafe.Pointer, e *errs) {
			if q := *(*unsafe.Pointer)(p); q != nil {
				ec(q, e)
			}
		}, nil
	case reflect.Slice, reflect.Map, reflect.Array:
		return lengthCheck(t, c, loc)
	}
	return scalarCheck(t, c, loc)
}

// lengthCheck checks the length of a slice, array or map; the other
// constraints (enum, pattern, min…) apply to each element (each value of a
// map).
func lengthCheck(t reflect.Type, c Constraints, loc string) (check, error) {
	lo, hi := -1, -1
	if c.MinLength != nil {
		lo = *c.MinLength
	}
	if c.MaxLength != nil {
		hi = *c.MaxLength
	}
	ec := c
	ec.MinLength, ec.MaxLength = nil, nil
	var elem check
	if !ec.empty() {
		var err error
		var inner check
		switch t.Kind() {
		case reflect.Map:
			if inner, err = scalarCheck(t.Elem(), ec, loc+".{}"); err == nil {
				elem = eachEntry(t, inner)
			}
		case reflect.Array:
			if inner, err = scalarCheck(t.Elem(), ec, loc+"[]"); err == nil {
				elem = eachArrayElem(t, inner)
			}
		default:
			if inner, err = scalarCheck(t.Elem(), ec, loc+"[]"); err == nil {
				elem = eachElem(t, inner)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	kind := t.Kind()
	if kind == reflect.Array && lo < 0 && hi < 0 {
		return elem, nil
	}
	return func(p unsafe.Pointer, e *errs) {
		var n int
		switch kind {
		case reflect.Map:
			n = reflect.NewAt(t, p).Elem().Len()
		case reflect.Array:
			n = t.Len()
		default:
			n = (*sliceHeader)(p).len
		}
		if lo >= 0 && n < lo {
			e.add(loc, fmt.Sprintf("must have at least %d items", lo), n)
		}
		if hi >= 0 && n > hi {
			e.add(loc, fmt.Sprintf("must have at most %d items", hi), n)
		}
		if elem != nil {
			elem(p, e)
		}
	}, nil
}

// zeroCheck returns a function reporting whether the value at p is the
// zero value of t (nil, empty, 0, "").
func zeroCheck(t reflect.Type) func(p unsafe.Pointer) bool {
	switch t.Kind() {
	case reflect.String:
		return func(p unsafe.Pointer) bool { return *(*string)(p) == "" }
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return func(p unsafe.Pointer) bool { return *(*unsafe.Pointer)(p) == nil }
	case reflect.Slice:
		return func(p unsafe.Pointer) bool { return (*sliceHeader)(p).len == 0 }
	case reflect.Bool:
		return func(p unsafe.Pointer) bool { return !*(*bool)(p) }
	case reflect.Interface:
		return func(p unsafe.Pointer) bool { return (*[2]unsafe.Pointer)(p)[0] == nil }
	}
	if isNumberKind(t.Kind()) {
		get := numberGetter(t.Kind())
		return func(p unsafe.Pointer) bool { return get(p) == 0 }
	}
	size := t.Size()
	return func(p unsafe.Pointer) bool {
		for _, b := range unsafe.Slice((*byte)(p), size) {
			if b != 0 {
				return false
			}
		}
		return true
	}
}
