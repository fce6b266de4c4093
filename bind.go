package graft

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// The binding plan of an In type is compiled once, at registration, with
// reflection; per request the binder walks the plan's fields and stores
// each value through its offset with a setter made for the field's kind.

// inPlan is the compiled binding plan of an In type.
type inPlan struct {
	typ       reflect.Type
	params    []*paramField // path, query, header, cookie and form values
	files     []*paramField // form files
	body      *bodyField
	deps      []*depField
	plugins   []PluginParam
	form      bool
	multipart bool
	embeds    []string // embedded structs being flattened, for messages
}

// paramField is one request value bound into a field.
type paramField struct {
	Param
	loc     string // "query.limit"
	path    string // Go field path, through embedded structs ("Paging.Limit")
	key     string // name to look up (canonical for headers)
	off     uintptr
	pathIdx int
	hasDef  bool
	multi   bool
	split   splitMode // how the values of a slice field are split into items
	defVals []string  // the default of a slice field, split by the same rule
	set     func(p unsafe.Pointer, s string) error
	setAll  func(p unsafe.Pointer, vals []string) error
	check   check
	errMsg  string // message for a value that does not parse
}

// bodyField is In's Body field.
type bodyField struct {
	BodyParam
	off      uintptr
	ptrWord  unsafe.Pointer // type word of *T, to hand decoders a pointer
	raw      int            // 1: []byte body, 2: string body, read as is
	forbid   int            // 0: app default, 1: forbid unknown fields, 2: allow
	presence *pnode         // validation of a JSON body, which knows what was sent
	fast     *fastDec       // plan for a plain struct body; nil: encoding/json only
	required bool
	path     string // Go field path ("Body", "Envelope.Body")
}

// depField is an `inject:""` field.
type depField struct {
	Dependency
	off    uintptr
	store  func(p unsafe.Pointer, v any)
	reqVal reqValue // a request value stored directly, without the graph
}

// sourceTags are the tags that say where a field's value comes from.
var sourceTags = []string{"path", "query", "header", "cookie", "form", "inject", "plugin"}

// otherTags are further tags In fields may carry.
var otherTags = []string{"json", "msgpack", "xml", "yaml", "doc", "default", "example", "unknown", "deprecated", "explode"}

// tagKeys lists the keys of a struct tag, in the syntax reflect reads.
func tagKeys(tag reflect.StructTag) []string {
	var keys []string
	s := string(tag)
	for {
		s = strings.TrimLeft(s, " ")
		i := strings.IndexByte(s, ':')
		if i <= 0 || i+1 >= len(s) || s[i+1] != '"' {
			return keys
		}
		keys = append(keys, s[:i])
		j := i + 2
		for j < len(s) && s[j] != '"' {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(s) {
			return keys
		}
		s = s[j+1:]
	}
}

// compileIn compiles the binding plan of the In type t for a route whose
// pattern has the wildcards pathNames. paramsOnly restricts the fields to
// path, query, header and cookie params (request structs taken by
// providers).
func compileIn(t reflect.Type, pathNames []string, paramsOnly bool) (*inPlan, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("input type %s must be a struct", t)
	}
	pl := &inPlan{typ: t}
	if err := pl.addFields(t, 0, pathNames, paramsOnly); err != nil {
		return nil, err
	}
	if !paramsOnly {
		for i, n := range pathNames {
			found := false
			for _, f := range pl.params {
				if f.In == InPath && f.pathIdx == i {
					found = true
				}
			}
			if !found {
				return nil, fmt.Errorf("the pattern's wildcard {%s} has no field; add a field tagged path:%q to %s", n, n, t)
			}
		}
	}
	if pl.body != nil && pl.form {
		return nil, fmt.Errorf("%s has both a Body field and form fields; a request has one body: use one or the other", t)
	}
	return pl, nil
}

func (pl *inPlan) addFields(t reflect.Type, base uintptr, pathNames []string, paramsOnly bool) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		var src, name string
		n := 0
		for _, k := range tagKeys(f.Tag) {
			switch {
			case slices.Contains(sourceTags, k):
				src, name = k, f.Tag.Get(k)
				n++
			case slices.Contains(constraintTags, k), slices.Contains(otherTags, k):
			default:
				return fmt.Errorf("field %s has unknown tag %q; use path, query, header, cookie, form, inject or plugin for the source and %s for validation", f.Name, k, strings.Join(constraintTags, ", "))
			}
		}
		if n > 1 {
			return fmt.Errorf("field %s has %d source tags; give it exactly one of %s", f.Name, n, strings.Join(sourceTags, ", "))
		}
		if f.Anonymous && src == "" && f.Type.Kind() == reflect.Struct {
			pl.embeds = append(pl.embeds, f.Name)
			err := pl.addFields(f.Type, base+f.Offset, pathNames, paramsOnly)
			pl.embeds = pl.embeds[:len(pl.embeds)-1]
			if err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			if src != "" {
				return fmt.Errorf("field %s is unexported; export it so it can be bound", f.Name)
			}
			continue
		}
		if paramsOnly && src != "path" && src != "query" && src != "header" && src != "cookie" {
			return fmt.Errorf("field %s: a request struct taken by a provider may only have path, query, header and cookie fields", f.Name)
		}
		off := base + f.Offset
		switch src {
		case "":
			if f.Name != "Body" {
				return fmt.Errorf("field %s has no source tag; tag it path, query, header, cookie, form, inject or plugin, name it Body for the request body, or unexport it", f.Name)
			}
			if err := pl.addBody(f, off); err != nil {
				return err
			}
		case "inject":
			pl.deps = append(pl.deps, &depField{Dependency: Dependency{Field: f.Name, Type: f.Type}, off: off, store: storeFunc(f.Type)})
		case "plugin":
			pl.plugins = append(pl.plugins, PluginParam{Name: f.Name, Type: f.Type, Tag: name, offset: off})
		default:
			if err := pl.addParam(f, off, Location(src), name, pathNames); err != nil {
				return err
			}
		}
	}
	return nil
}

var (
	fileHeaderType  = reflect.TypeFor[*multipart.FileHeader]()
	fileHeadersType = reflect.TypeFor[[]*multipart.FileHeader]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (pl *inPlan) addParam(f reflect.StructField, off uintptr, in Location, name string, pathNames []string) error {
	if name == "" {
		return fmt.Errorf("field %s: tag %s needs a name, e.g. %s:%q", f.Name, in, in, strings.ToLower(f.Name))
	}
	c, required, err := parseConstraints(f.Tag)
	if err != nil {
		return fmt.Errorf("field %s: %w", f.Name, err)
	}
	pf := &paramField{
		Param: Param{Name: name, In: in, Field: f.Name, Type: f.Type, Required: required, Doc: f.Tag.Get("doc"), Constraints: c},
		key:   name,
		off:   off,
	}
	pf.Default, pf.hasDef = f.Tag.Lookup("default")
	if in == InHeader {
		pf.key = textproto.CanonicalMIMEHeaderKey(name)
	}
	if other := pl.boundTo(in, pf.key); other != "" {
		return fmt.Errorf("fields %s and %s both read %s %q; a request value binds one field: rename one tag or drop a field", other, pl.fieldPath(f.Name), in, name)
	}
	pf.path = pl.fieldPath(f.Name)
	locName := name
	switch in {
	case InPath:
		pf.pathIdx = slices.Index(pathNames, name)
		if pf.pathIdx < 0 {
			return fmt.Errorf("field %s: path:%q names no wildcard of the pattern (it has %v); fix the tag or add {%s} to the pattern", f.Name, name, pathNames, name)
		}
		pf.Required = true
	case InHeader:
		locName = strings.ToLower(name)
	case InForm:
		pl.form = true
		if f.Type == fileHeaderType || f.Type == fileHeadersType {
			pf.File, pf.multi = true, f.Type == fileHeadersType
			pl.multipart = true
			pf.loc = "form." + name
			pl.files = append(pl.files, pf)
			return nil
		}
	}
	pf.loc = string(in) + "." + locName
	t := f.Type
	if t.Kind() == reflect.Slice && in != InPath && in != InCookie && !t.Implements(textUnmarshaler) && !reflect.PointerTo(t).Implements(textUnmarshaler) {
		set, msg, err := scalarSetter(t.Elem())
		if err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		pf.multi, pf.errMsg = true, msg
		pf.setAll = sliceSetter(t, set)
		if pf.check, err = lengthCheck(t, c, pf.loc); err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
	} else {
		ptr := t.Kind() == reflect.Pointer && !t.Implements(textUnmarshaler)
		et := t
		if ptr {
			et = t.Elem()
		}
		set, msg, err := scalarSetter(et)
		if err != nil {
			return fmt.Errorf("field %s (%s %q): %w", f.Name, in, name, err)
		}
		if ptr {
			set = pointerSetter(et, set)
		}
		pf.set, pf.errMsg = set, msg
		if pf.check, err = ownCheck(t, c, pf.loc); err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
	}
	if err := pf.arrayStyle(f.Tag); err != nil {
		return fmt.Errorf("field %s: %w", pf.path, err)
	}
	if pf.hasDef {
		if err := checkDefault(pf); err != nil {
			return fmt.Errorf("field %s: default:%q: %w", pf.path, pf.Default, err)
		}
	}
	if in == InForm {
		pl.form = true
	}
	pl.params = append(pl.params, pf)
	return nil
}

// splitMode says how the values of a slice param become its items.
type splitMode uint8

const (
	splitNone  splitMode = iota // one item per value: ?ids=1&ids=2 (explode)
	splitComma                  // values split on commas: ?ids=1,2 (explode:"false")
	splitList                   // header lists: split on commas, spaces trimmed, empty items dropped
)

// arrayStyle reads the explode tag and fixes how a slice param's values,
// and its default, are split. Query and form params record OpenAPI's
// explode (true unless explode:"false"); header lists are comma-separated
// (RFC 9110 §5.6.1, OpenAPI's simple style).
func (pf *paramField) arrayStyle(tag reflect.StructTag) error {
	ex, tagged := tag.Lookup("explode")
	if pf.In == InQuery || pf.In == InForm {
		pf.Explode = true
	}
	if tagged {
		if !pf.multi || (pf.In != InQuery && pf.In != InForm) {
			return fmt.Errorf("explode:%q applies to slice query and form fields only; remove it", ex)
		}
		switch ex {
		case "true":
		case "false":
			pf.Explode = false
		default:
			return fmt.Errorf("explode:%q: use explode:\"false\" for comma-separated values (?%s=1,2) or leave it out for repeated keys (?%s=1&%s=2)", ex, pf.Name, pf.Name, pf.Name)
		}
	}
	switch {
	case !pf.multi:
		return nil
	case pf.In == InHeader:
		pf.split = splitList
	case !pf.Explode:
		pf.split = splitComma
	}
	if !pf.hasDef {
		return nil
	}
	if pf.split == splitNone && strings.Contains(pf.Default, ",") {
		return fmt.Errorf("default:%q on a slice read from repeated keys (?%s=1&%s=2) is one item, and it has a comma; tag the field explode:\"false\" to read comma-separated values (?%s=1,2) and such a default", pf.Default, pf.Name, pf.Name, pf.Name)
	}
	pf.defVals = pf.splitValues([]string{pf.Default})
	return nil
}

// splitValues returns the items of a slice param's values.
func (pf *paramField) splitValues(vals []string) []string {
	switch pf.split {
	case splitComma:
		if len(vals) == 1 && strings.IndexByte(vals[0], ',') < 0 {
			return vals
		}
		var items []string
		for _, v := range vals {
			items = append(items, strings.Split(v, ",")...)
		}
		return items
	case splitList:
		var items []string
		for _, v := range vals {
			for it := range strings.SplitSeq(v, ",") {
				if it = strings.Trim(it, " \t"); it != "" {
					items = append(items, it)
				}
			}
		}
		return items
	}
	return vals
}

// checkDefault parses a default value once and validates it against the
// field's own constraints, so a bad one fails at setup.
func checkDefault(pf *paramField) error {
	v := reflect.New(pf.Type)
	var err error
	if pf.multi {
		err = pf.setAll(v.UnsafePointer(), slices.Clone(pf.defVals))
	} else {
		err = pf.set(v.UnsafePointer(), pf.Default)
	}
	if err != nil || pf.check == nil {
		return err
	}
	var e errs
	pf.check(v.UnsafePointer(), &e)
	if len(e.list) > 0 {
		fe := e.list[0]
		return fmt.Errorf("the default breaks the field's own constraints (%s %s); make the default valid or the constraints wider", fe.Location, fe.Message)
	}
	return nil
}

// fieldPath names field name of the struct being flattened by its path
// from In ("Paging.Limit").
func (pl *inPlan) fieldPath(name string) string {
	if len(pl.embeds) == 0 {
		return name
	}
	return strings.Join(pl.embeds, ".") + "." + name
}

// boundTo returns the path of the field already bound to the request
// value key at in, or "".
func (pl *inPlan) boundTo(in Location, key string) string {
	for _, l := range [][]*paramField{pl.params, pl.files} {
		for _, p := range l {
			if p.In == in && p.key == key {
				return p.path
			}
		}
	}
	return ""
}

func (pl *inPlan) addBody(f reflect.StructField, off uintptr) error {
	if pl.body != nil {
		return fmt.Errorf("fields %s and %s are both the request body (an embedded struct's Body is shadowed in Go, but both would bind); a request has one body: rename or remove one", pl.body.path, pl.fieldPath(f.Name))
	}
	t := f.Type
	bf := &bodyField{BodyParam: BodyParam{Field: f.Name, Type: t, Required: t.Kind() != reflect.Pointer}, off: off}
	bf.required = bf.Required
	bf.path = pl.fieldPath(f.Name)
	switch {
	case t == reflect.TypeFor[[]byte]():
		bf.raw, bf.MediaTypes = 1, []string{"application/octet-stream"}
	case t.Kind() == reflect.String:
		bf.raw, bf.MediaTypes = 2, []string{"text/plain"}
	default:
		bf.MediaTypes = []string{mediaJSON} // and the scope's body codecs', added at assembly
		bf.ptrWord = typeWord(reflect.PointerTo(t))
		bf.fast = compileFastDec(t)
		var err error
		if bf.presence, err = compilePresence(t, "body"); err != nil {
			return fmt.Errorf("body: %w", err)
		}
		if c, req, err := parseConstraints(f.Tag); err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		} else if !c.empty() {
			return fmt.Errorf("field %s: put constraints on the body type's fields, not on the Body field", f.Name)
		} else if _, ok := f.Tag.Lookup("required"); ok {
			bf.Required, bf.required = req, req
		}
	}
	switch u := f.Tag.Get("unknown"); u {
	case "":
	case "forbid":
		bf.forbid, bf.ForbidUnknown = 1, true
	case "allow":
		bf.forbid = 2
	default:
		return fmt.Errorf("field %s: unknown:%q: use unknown:\"forbid\" or unknown:\"allow\"", f.Name, u)
	}
	pl.body = bf
	return nil
}

// scalarSetter returns a parser-and-store for a value of type t, and the
// message for a value that does not parse.
func scalarSetter(t reflect.Type) (func(p unsafe.Pointer, s string) error, string, error) {
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return func(p unsafe.Pointer, s string) error {
			return reflect.NewAt(t, p).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
		}, "", nil
	}
	switch k := t.Kind(); k {
	case reflect.String:
		return func(p unsafe.Pointer, s string) error { *(*string)(p) = s; return nil }, "", nil
	case reflect.Bool:
		return func(p unsafe.Pointer, s string) error {
			b, err := strconv.ParseBool(s)
			*(*bool)(p) = b
			return err
		}, "must be true or false", nil
	case reflect.Int:
		return intSetter[int](64), "must be an integer", nil
	case reflect.Int8:
		return intSetter[int8](8), "must be an integer between -128 and 127", nil
	case reflect.Int16:
		return intSetter[int16](16), "must be a 16-bit integer", nil
	case reflect.Int32:
		return intSetter[int32](32), "must be a 32-bit integer", nil
	case reflect.Int64:
		return intSetter[int64](64), "must be an integer", nil
	case reflect.Uint:
		return uintSetter[uint](64), "must be a non-negative integer", nil
	case reflect.Uint8:
		return uintSetter[uint8](8), "must be an integer between 0 and 255", nil
	case reflect.Uint16:
		return uintSetter[uint16](16), "must be a non-negative 16-bit integer", nil
	case reflect.Uint32:
		return uintSetter[uint32](32), "must be a non-negative 32-bit integer", nil
	case reflect.Uint64:
		return uintSetter[uint64](64), "must be a non-negative integer", nil
	case reflect.Float32:
		return func(p unsafe.Pointer, s string) error {
			f, err := strconv.ParseFloat(s, 32)
			*(*float32)(p) = float32(f)
			return err
		}, "must be a number", nil
	case reflect.Float64:
		return func(p unsafe.Pointer, s string) error {
			f, err := strconv.ParseFloat(s, 64)
			*(*float64)(p) = f
			return err
		}, "must be a number", nil
	}
	return nil, "", fmt.Errorf("type %s cannot be bound from a request string; use a string, bool, number, a slice or pointer of one, or a type with UnmarshalText", t)
}

func intSetter[T int | int8 | int16 | int32 | int64](bits int) func(p unsafe.Pointer, s string) error {
	return func(p unsafe.Pointer, s string) error {
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return err
		}
		*(*T)(p) = T(n)
		return nil
	}
}

func uintSetter[T uint | uint8 | uint16 | uint32 | uint64](bits int) func(p unsafe.Pointer, s string) error {
	return func(p unsafe.Pointer, s string) error {
		n, err := strconv.ParseUint(s, 10, bits)
		if err != nil {
			return err
		}
		*(*T)(p) = T(n)
		return nil
	}
}

// pointerSetter allocates the value a pointer field points to.
func pointerSetter(et reflect.Type, set func(unsafe.Pointer, string) error) func(unsafe.Pointer, string) error {
	return func(p unsafe.Pointer, s string) error {
		q := reflect.New(et).UnsafePointer()
		if err := set(q, s); err != nil {
			return err
		}
		*(*unsafe.Pointer)(p) = q
		return nil
	}
}

// sliceSetter builds a slice of t from all values of a param.
func sliceSetter(t reflect.Type, set func(unsafe.Pointer, string) error) func(unsafe.Pointer, []string) error {
	if t == reflect.TypeFor[[]string]() {
		return func(p unsafe.Pointer, vals []string) error { *(*[]string)(p) = vals; return nil }
	}
	size := t.Elem().Size()
	return func(p unsafe.Pointer, vals []string) error {
		sv := reflect.MakeSlice(t, len(vals), len(vals))
		data := sv.UnsafePointer()
		for i, s := range vals {
			if err := set(unsafe.Add(data, uintptr(i)*size), s); err != nil {
				return err
			}
		}
		*(*sliceHeader)(p) = sliceHeader{data: data, len: len(vals), cap: len(vals)}
		return nil
	}
}

// storeFunc returns how to store a resolved dependency (boxed in an any)
// into a field of type t: pointer-shaped values are stored as a word.
func storeFunc(t reflect.Type) func(p unsafe.Pointer, v any) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return func(p unsafe.Pointer, v any) { *(*unsafe.Pointer)(p) = efaceData(v) }
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return func(p unsafe.Pointer, v any) { *(*any)(p) = v }
		}
	}
	return func(p unsafe.Pointer, v any) {
		if v != nil {
			reflect.NewAt(t, p).Elem().Set(reflect.ValueOf(v))
		}
	}
}

// pathValue returns wildcard i of the matched route, percent-decoded.
func pathValue(c *Ctx, i int) string {
	if i >= min(c.params.n, maxParams) {
		return ""
	}
	return c.params.vals[i]
}

// bindParams binds the path, query, header, cookie and form values of the
// plan into the struct at p, recording failures in e.
func (pl *inPlan) bindParams(c *Ctx, p unsafe.Pointer, e *errs) {
	r := c.Request
	for _, f := range pl.params {
		var s string
		var vals []string
		ok := false
		switch f.In {
		case InPath:
			s, ok = pathValue(c, f.pathIdx), true
		case InQuery:
			if f.multi {
				vals = c.QueryValues()[f.key]
				ok = len(vals) > 0
			} else {
				s, ok = lookupQuery(r.URL.RawQuery, f.key)
			}
		case InHeader:
			vals = r.Header[f.key]
			ok = len(vals) > 0
			if ok && !f.multi {
				s = vals[0]
			}
		case InCookie:
			if ck, err := r.Cookie(f.key); err == nil {
				s, ok = ck.Value, true
			}
		case InForm:
			vals = r.PostForm[f.key]
			ok = len(vals) > 0
			if ok && !f.multi {
				s = vals[0]
			}
		}
		if !ok {
			if !f.hasDef {
				if f.Required {
					e.add(f.loc, "is required", nil)
				}
				continue
			}
			s = f.Default
			if f.multi {
				vals = slices.Clone(f.defVals) // the handler may change its slice
			}
		} else if f.multi && f.split != splitNone {
			vals = f.splitValues(vals)
		}
		fp := unsafe.Add(p, f.off)
		if f.multi {
			if err := f.setAll(fp, vals); err != nil {
				e.add(f.loc, f.message(err), vals)
				continue
			}
		} else if err := f.set(fp, s); err != nil {
			e.add(f.loc, f.message(err), s)
			continue
		}
		if f.check != nil {
			f.check(fp, e)
		}
	}
	for _, f := range pl.files {
		var fhs []*multipart.FileHeader
		if mf := r.MultipartForm; mf != nil {
			fhs = mf.File[f.key]
		}
		if len(fhs) == 0 {
			if f.Required {
				e.add(f.loc, "is required", nil)
			}
			continue
		}
		fp := unsafe.Add(p, f.off)
		if f.multi {
			*(*[]*multipart.FileHeader)(fp) = fhs
		} else {
			*(**multipart.FileHeader)(fp) = fhs[0]
		}
	}
}

func (f *paramField) message(err error) string {
	if f.errMsg != "" {
		return f.errMsg
	}
	return "is not valid: " + err.Error()
}

// newFormMeta describes a form endpoint, with the default limits until
// start-up knows the endpoint's own (formLimits.report).
func newFormMeta(multipart bool) *FormMeta {
	return &FormMeta{Multipart: multipart, MaxFiles: DefaultFormMaxFiles, MaxFields: DefaultFormMaxFields,
		MaxPartSize: min(DefaultFormMaxPartSize, DefaultBodyLimit), MaxMemory: min(DefaultFormMaxMemory, DefaultBodyLimit)}
}

// parseForm parses an urlencoded or multipart body: 415 for another media
// type, 413 over the body limit or a form limit, 400 when malformed.
func (pl *inPlan) parseForm(c *Ctx, lim *formLimits) error {
	r := c.Request
	ct := r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	limit := c.BodyLimit()
	if r.Body != nil && r.Body != http.NoBody {
		if err := codingError(r); err != nil {
			return err
		}
	}
	switch {
	case mt == "multipart/form-data":
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		if err := lim.parseMultipart(r); err != nil {
			return err
		}
	case mt == "application/x-www-form-urlencoded" && !pl.multipart:
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		if err := r.ParseForm(); err != nil {
			return formError(err, limit)
		}
		if err := lim.checkURLEncoded(r); err != nil {
			return err
		}
	case mt == "" && (r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody):
		r.PostForm = url.Values{}
	default:
		want := "application/x-www-form-urlencoded or multipart/form-data"
		if pl.multipart {
			want = "multipart/form-data"
		}
		return &HTTPError{Status: http.StatusUnsupportedMediaType, Detail: fmt.Sprintf("Content-Type %q is not a form; send %s", ct, want)}
	}
	return nil
}

func formError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body exceeds the limit of %d bytes", limit), Err: err}
	}
	return &HTTPError{Status: http.StatusBadRequest, Detail: "malformed form body: " + err.Error(), Err: err}
}

// bind reads and decodes the request body into the Body field of the
// struct at p and validates it; tbs are the endpoint's body codecs (JSON
// is built in). Media type, size and syntax problems are returned (415,
// 413, 400); field problems go to e.
func (b *bodyField) bind(c *Ctx, p unsafe.Pointer, e *errs, forbidDefault bool, tbs []typedBody) error {
	r := c.Request
	var tb *typedBody
	if b.raw == 0 {
		ct := headerValue(r.Header, "Content-Type")
		var json bool
		if tb, json = requestCodec(ct, tbs); tb == nil && !json {
			return unsupportedBody(ct, tbs)
		}
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		// Nothing decoded aliases buf (the JSON decoders copy strings
		// and bytes, as BodyDecoder requires of body codecs; raw bodies
		// are copied below), so it can serve the next request.
		if buf.Cap() <= maxPooledBuf {
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	if err := readBody(r, buf, c.BodyLimit()); err != nil {
		return err
	}
	fp := unsafe.Add(p, b.off)
	if buf.Len() == 0 {
		if b.required {
			e.add("body", "is required", nil)
		}
		return nil
	}
	before := len(e.list) // failures recorded by other sources
	forbid := b.forbid == 1 || (b.forbid == 0 && forbidDefault)
	switch {
	case b.raw == 1:
		*(*[]byte)(fp) = bytes.Clone(buf.Bytes())
		return nil
	case b.raw == 2:
		*(*string)(fp) = buf.String()
		return nil
	case tb != nil:
		decoded, err := tb.decode(buf.Bytes(), eface(b.ptrWord, fp), forbid, e)
		if err != nil || !decoded {
			// A body with values of the wrong type did not decode:
			// validating its zero values would report fields that were
			// sent, so its type problems are answered alone.
			return err
		}
		// The codec refuses a key given twice in an object, so, as for
		// the plain-struct decoder's bodies, a value that passes its
		// checks whatever was sent needs no scan.
		if tb.presence != nil && !tb.presence.fast(fp, e) {
			tb.presence.validateWire(buf.Bytes(), tb.c, fp, e)
		}
	default:
		plain := b.fast != nil && b.fast.decode(buf.Bytes(), fp)
		if !plain {
			if b.fast != nil {
				reflect.NewAt(b.Type, fp).Elem().SetZero() // what the plan wrote before it gave up
			}
			if err := decodeJSONBody(buf.Bytes(), eface(b.ptrWord, fp), forbid, e); err != nil {
				return err
			}
		}
		// The plain-struct decoder takes no document with a key given
		// twice: there, a value that passes its checks whatever was sent
		// needs no scan (most valid requests). Every other body is scanned.
		if b.presence != nil && !(plain && b.presence.fast(fp, e)) {
			// Failures the decoder recorded, in list[before:], hide what
			// validation finds at or below their locations.
			e.shadow0, e.shadow1 = before, len(e.list)
			b.presence.validate(buf.Bytes(), fp, e)
			e.shadow0, e.shadow1 = 0, 0
		}
	}
	return nil
}
