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
)

// Validation is compiled once per type from struct tags: `required:"true"`,
// `min`, `max` (numbers), `minLength`, `maxLength` (string runes, slice and
// map lengths), `pattern` (a Go regexp), `enum` (comma-separated values),
// `format` (email, uuid, date-time). The compiled checks read fields
// through their offsets; per request they neither reflect nor allocate
// unless a check fails.

// constraintTags are the struct tags validation reads.
var constraintTags = []string{"required", "min", "max", "minLength", "maxLength", "pattern", "enum", "format"}

// parseConstraints reads the constraint tags of a field.
func parseConstraints(tag reflect.StructTag) (Constraints, bool, error) {
	var c Constraints
	req := false
	if v, ok := tag.Lookup("required"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, false, fmt.Errorf(`required:%q: use required:"true"`, v)
		}
		req = b
	}
	for _, k := range [...]string{"min", "max"} {
		if v, ok := tag.Lookup(k); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return c, false, fmt.Errorf("%s:%q is not a number", k, v)
			}
			if k == "min" {
				c.Min = &f
			} else {
				c.Max = &f
			}
		}
	}
	for _, k := range [...]string{"minLength", "maxLength"} {
		if v, ok := tag.Lookup(k); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return c, false, fmt.Errorf("%s:%q is not a length", k, v)
			}
			if k == "minLength" {
				c.MinLength = &n
			} else {
				c.MaxLength = &n
			}
		}
	}
	if v, ok := tag.Lookup("pattern"); ok {
		if _, err := regexp.Compile(v); err != nil {
			return c, false, fmt.Errorf("pattern:%q: %v", v, err)
		}
		c.Pattern = v
	}
	if v, ok := tag.Lookup("enum"); ok {
		c.Enum = strings.Split(v, ",")
	}
	if v, ok := tag.Lookup("format"); ok {
		if formatChecks[v] == nil {
			return c, false, fmt.Errorf("format:%q is unknown; use email, uuid or date-time", v)
		}
		c.Format = v
	}
	return c, req, nil
}

func (c *Constraints) empty() bool {
	return c.Min == nil && c.Max == nil && c.MinLength == nil && c.MaxLength == nil &&
		c.Pattern == "" && len(c.Enum) == 0 && c.Format == ""
}

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
type errs struct {
	list      []FieldError
	idx       [8]int            // indexes of the slices and arrays being walked, for "[]" in locations
	keys      [8]*reflect.Value // keys of the map entries being walked (in their scratch), for "{}"
	n         int
	truncated bool
	shadow0   int
	shadow1   int
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
	if strings.Contains(loc, "[]") || strings.Contains(loc, "{}") {
		var b strings.Builder
		k := 0
		for {
			i := strings.Index(loc, "[]")
			j := strings.Index(loc, "{}")
			if i < 0 && j < 0 {
				break
			}
			if i < 0 || j >= 0 && j < i {
				b.WriteString(loc[:j])
				if k < e.n && k < len(e.keys) {
					b.WriteString(mapKeyString(e.keys[k]))
				}
				loc = loc[j+2:]
			} else {
				b.WriteString(loc[:i+1])
				if k < e.n && k < len(e.idx) {
					b.WriteString(strconv.Itoa(e.idx[k]))
				}
				b.WriteByte(']')
				loc = loc[i+2:]
			}
			k++
		}
		b.WriteString(loc)
		loc = b.String()
	}
	e.list = append(e.list, FieldError{Location: clipString(loc, maxErrorLocation), Message: msg, Value: boundValue(v)})
}

// shadowed reports whether the location template loc, with its "[]" filled
// as add would fill them, sits at or below the location of a decoding
// failure. It compares in place, without building the location.
func (e *errs) shadowed(loc string) bool {
	for _, d := range e.list[e.shadow0:e.shadow1] {
		if locUnder(loc, &e.idx, &e.keys, min(e.n, len(e.idx)), d.Location) {
			return true
		}
	}
	return false
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
			f, msg := formatChecks[c.Format], "must be a valid "+c.Format
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

// formatChecks are the `format` tag values.
var formatChecks = map[string]func(string) bool{
	"email":     isEmail,
	"uuid":      isUUID,
	"date-time": isDateTime,
}

// isEmail accepts local@domain with a dot-free-or-dotted domain of
// letters, digits and hyphens: the addr-spec subset real forms accept.
func isEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 254 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>[]:;@\,"`, c) >= 0 {
			return false
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c == '-' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}

// isUUID accepts the 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f') {
				return false
			}
		}
	}
	return true
}

// isDateTime accepts RFC 3339 date-times.
func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

var timeType = reflect.TypeFor[time.Time]()

// compileValidator compiles the checks of a value of type t found at loc
// (an absolute location such as "body" or "body.items[]"). It returns nil
// when values of t need no checks.
func compileValidator(t reflect.Type, loc string, depth int) (check, error) {
	if depth > 32 {
		return nil, nil // recursive types: stop descending
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner, err := compileValidator(t.Elem(), loc, depth+1)
		if err != nil || inner == nil {
			return nil, err
		}
		return func(p unsafe.Pointer, e *errs) {
			if q := *(*unsafe.Pointer)(p); q != nil {
				inner(q, e)
			}
		}, nil
	case reflect.Slice:
		inner, err := compileValidator(t.Elem(), loc+"[]", depth+1)
		if err != nil || inner == nil {
			return nil, err
		}
		return eachElem(t, inner), nil
	case reflect.Array:
		inner, err := compileValidator(t.Elem(), loc+"[]", depth+1)
		if err != nil || inner == nil {
			return nil, err
		}
		return eachArrayElem(t, inner), nil
	case reflect.Map:
		inner, err := compileValidator(t.Elem(), loc+".{}", depth+1)
		if err != nil || inner == nil {
			return nil, err
		}
		return eachEntry(t, inner), nil
	case reflect.Struct:
		if t == timeType {
			return nil, nil
		}
		return compileStruct(t, loc, depth)
	}
	return nil, nil
}

// eachElem runs inner on every element of a slice of type t, recording the
// index for the "[]" of error locations.
func eachElem(t reflect.Type, inner check) check {
	size := t.Elem().Size()
	return func(p unsafe.Pointer, e *errs) {
		h := (*sliceHeader)(p)
		k := e.n
		e.n++
		for i := 0; i < h.len; i++ {
			if k < len(e.idx) {
				e.idx[k] = i
			}
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
			if k < len(e.idx) {
				e.idx[k] = i
			}
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
			if k < len(e.keys) {
				me.k.SetIterKey(&me.it)
				e.keys[k] = &me.k
			}
			inner(vp, e)
		}
		e.n--
		if k < len(e.keys) {
			e.keys[k] = nil
		}
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

// compileStruct compiles the checks of t's exported fields.
func compileStruct(t reflect.Type, loc string, depth int) (check, error) {
	type fieldCheck struct {
		off   uintptr
		check check
	}
	var fields []fieldCheck
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, omitEmpty, skip := jsonName(f)
		if skip {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				inner, err := compileValidator(f.Type, loc, depth+1)
				if err != nil {
					return nil, err
				}
				if inner != nil {
					fields = append(fields, fieldCheck{off: f.Offset, check: inner})
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		c, err := fieldValidator(f, loc+"."+name, omitEmpty, depth)
		if err != nil {
			return nil, fmt.Errorf("field %s.%s: %w", t, f.Name, err)
		}
		if c != nil {
			fields = append(fields, fieldCheck{off: f.Offset, check: c})
		}
	}
	if len(fields) == 0 {
		return nil, nil
	}
	return func(p unsafe.Pointer, e *errs) {
		for i := range fields {
			fields[i].check(unsafe.Add(p, fields[i].off), e)
		}
	}, nil
}

// fieldValidator compiles the checks of one body field at loc: required,
// its own constraints, and those of the values inside it. A field is
// absent when it is a nil pointer, or zero with omitempty in its json tag:
// absent fields are only checked for required.
func fieldValidator(f reflect.StructField, loc string, omitEmpty bool, depth int) (check, error) {
	c, required, err := parseConstraints(f.Tag)
	if err != nil {
		return nil, err
	}
	t := f.Type
	inner, err := compileValidator(t, loc, depth+1)
	if err != nil {
		return nil, err
	}
	own, err := ownCheck(t, c, loc)
	if err != nil {
		return nil, err
	}
	if !required && own == nil && inner == nil {
		return nil, nil
	}
	zero := zeroCheck(t)
	optional := omitEmpty || t.Kind() == reflect.Pointer
	return func(p unsafe.Pointer, e *errs) {
		if zero(p) {
			if required {
				e.add(loc, "is required", nil)
				return
			}
			if optional {
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

// jsonName returns the JSON name of a struct field, whether it has
// omitempty (or omitzero), and whether JSON skips it.
func jsonName(f reflect.StructField) (name string, omitEmpty, skip bool) {
	tag, ok := f.Tag.Lookup("json")
	if !ok {
		return "", false, false
	}
	if tag == "-" {
		return "", false, true
	}
	name, _, _ = strings.Cut(tag, ",")
	return name, hasJSONOption(f, "omitempty") || hasJSONOption(f, "omitzero"), false
}

// hasJSONOption reports whether the json tag of f lists option opt after
// the name ("string" in `json:"n,string"`).
func hasJSONOption(f reflect.StructField, opt string) bool {
	_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == opt {
			return true
		}
	}
	return false
}
