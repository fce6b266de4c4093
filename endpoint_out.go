package graft

import (
	"encoding"
	"fmt"
	"net/http"
	"net/textproto"
	"reflect"
	"strconv"
	"unsafe"
)

// outPlan is the compiled response plan of an Out type.
type outPlan struct {
	typ       reflect.Type
	statusOff uintptr
	hasStatus bool
	defStatus int
	headers   []outHeader
	body      *outBody
}

type outHeader struct {
	Param
	key string
	get func(p unsafe.Pointer) []string // nil: not set
}

type outBody struct {
	typ     reflect.Type
	off     uintptr
	ptrWord unsafe.Pointer
	raw     int  // 1: []byte, 2: string: written as is
	ptr     bool // a nil pointer body writes no body
}

var textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

// compileOut compiles the response plan of the Out type t.
func compileOut(t reflect.Type) (*outPlan, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("output type %s must be a struct with Status, header fields and Body", t)
	}
	op := &outPlan{typ: t, defStatus: http.StatusOK}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, isHeader := f.Tag.Lookup("header")
		switch {
		case isHeader:
			if name == "" {
				return nil, fmt.Errorf("output field %s: header tag needs a name, e.g. header:\"X-Request-Id\"", f.Name)
			}
			get, err := headerGetter(f.Type, f.Offset)
			if err != nil {
				return nil, fmt.Errorf("output field %s: %w", f.Name, err)
			}
			op.headers = append(op.headers, outHeader{
				Param: Param{Name: name, In: InHeader, Field: f.Name, Type: f.Type, Doc: f.Tag.Get("doc")},
				key:   textproto.CanonicalMIMEHeaderKey(name),
				get:   get,
			})
		case f.Name == "Status":
			if f.Type.Kind() != reflect.Int {
				return nil, fmt.Errorf("output field Status must be an int, not %s", f.Type)
			}
			op.statusOff, op.hasStatus = f.Offset, true
			if d, ok := f.Tag.Lookup("default"); ok {
				n, err := strconv.Atoi(d)
				if err != nil || n < 100 || n > 999 {
					return nil, fmt.Errorf("output field Status: default:%q is not an HTTP status", d)
				}
				op.defStatus = n
			}
		case f.Name == "Body":
			b := &outBody{typ: f.Type, off: f.Offset, ptr: f.Type.Kind() == reflect.Pointer}
			switch {
			case f.Type == reflect.TypeFor[[]byte]():
				b.raw = 1
			case f.Type.Kind() == reflect.String:
				b.raw = 2
			default:
				b.ptrWord = typeWord(reflect.PointerTo(f.Type))
			}
			op.body = b
		default:
			return nil, fmt.Errorf("output field %s is neither Status, Body nor tagged header; tag it, rename it or unexport it", f.Name)
		}
	}
	return op, nil
}

// headerGetter formats a response header field; empty values are not sent.
func headerGetter(t reflect.Type, off uintptr) (func(p unsafe.Pointer) []string, error) {
	switch {
	case t.Implements(textMarshaler):
		return func(p unsafe.Pointer) []string {
			b, err := reflect.NewAt(t, unsafe.Add(p, off)).Elem().Interface().(encoding.TextMarshaler).MarshalText()
			if err != nil || len(b) == 0 {
				return nil
			}
			return []string{string(b)}
		}, nil
	case t.Kind() == reflect.String:
		return func(p unsafe.Pointer) []string {
			if s := *(*string)(unsafe.Add(p, off)); s != "" {
				return []string{s}
			}
			return nil
		}, nil
	case t == reflect.TypeFor[[]string]():
		return func(p unsafe.Pointer) []string { return *(*[]string)(unsafe.Add(p, off)) }, nil
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		get := numberGetter(t.Kind())
		return func(p unsafe.Pointer) []string {
			return []string{strconv.FormatInt(int64(get(unsafe.Add(p, off))), 10)}
		}, nil
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		get := numberGetter(t.Kind())
		return func(p unsafe.Pointer) []string {
			return []string{strconv.FormatUint(uint64(get(unsafe.Add(p, off))), 10)}
		}, nil
	case t.Kind() == reflect.Bool:
		return func(p unsafe.Pointer) []string {
			return []string{strconv.FormatBool(*(*bool)(unsafe.Add(p, off)))}
		}, nil
	}
	return nil, fmt.Errorf("response header of type %s is not supported; use a string, []string, integer, bool or a TextMarshaler", t)
}

// write answers with the output at p (nil: the default status, no body).
func (op *outPlan) write(c *Ctx, p unsafe.Pointer) error {
	status := op.defStatus
	if p == nil {
		c.rw.WriteHeader(status)
		return nil
	}
	if op.hasStatus {
		if s := *(*int)(unsafe.Add(p, op.statusOff)); s != 0 {
			if s < 100 || s > 999 {
				// net/http panics on such a code; answer 500 before any
				// header of Out is set, and let the error handler log it
				// with the route.
				return &HTTPError{Status: http.StatusInternalServerError, Err: fmt.Errorf("graft: Out.Status %d is not an HTTP status (100-999)", s)}
			}
			status = s
		}
	}
	if len(op.headers) > 0 {
		h := c.rw.Header()
		for i := range op.headers {
			if v := op.headers[i].get(p); v != nil {
				h[op.headers[i].key] = v
			}
		}
	}
	b := op.body
	if b == nil {
		c.rw.WriteHeader(status)
		return nil
	}
	bp := unsafe.Add(p, b.off)
	switch {
	case b.raw == 1:
		return writeRaw(c, status, *(*[]byte)(bp), hdrOctet)
	case b.raw == 2:
		s := *(*string)(bp)
		return writeRaw(c, status, unsafe.Slice(unsafe.StringData(s), len(s)), hdrText)
	case b.ptr && *(*unsafe.Pointer)(bp) == nil:
		c.rw.WriteHeader(status)
		return nil
	}
	return writeEncoded(c, status, eface(b.ptrWord, bp))
}

// writeRaw writes a []byte or string body as is.
func writeRaw(c *Ctx, status int, body []byte, ct []string) error {
	h := c.rw.Header()
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = ct
	}
	c.rw.WriteHeader(status)
	_, err := c.rw.Write(body)
	return err
}

// newSignature builds the request side and the returns of an endpoint's
// signature from its compiled plans.
func newSignature(method, route string, in *inPlan, out *outPlan) *Signature {
	s := &Signature{Method: method, Route: route, In: in.typ, Out: out.typ}
	for _, p := range in.params {
		switch p.In {
		case InPath:
			s.PathParams = append(s.PathParams, p.Param)
		case InQuery:
			s.QueryParams = append(s.QueryParams, p.Param)
		case InHeader:
			s.HeaderParams = append(s.HeaderParams, p.Param)
		case InCookie:
			s.CookieParams = append(s.CookieParams, p.Param)
		}
	}
	if in.form {
		fm := newFormMeta(in.multipart)
		for _, p := range in.params {
			if p.In == InForm {
				fm.Fields = append(fm.Fields, p.Param)
			}
		}
		for _, p := range in.files {
			fm.Fields = append(fm.Fields, p.Param)
		}
		s.Form = fm
	}
	if in.body != nil {
		b := in.body.BodyParam
		s.Body = &b
	}
	for _, d := range in.deps {
		s.Dependencies = append(s.Dependencies, d.Dependency)
	}
	s.Plugins = append(s.Plugins, in.plugins...)
	ret := Return{Status: out.defStatus, Description: http.StatusText(out.defStatus)}
	for _, h := range out.headers {
		ret.Headers = append(ret.Headers, h.Param)
	}
	if b := out.body; b != nil {
		ret.Type = b.typ
		switch b.raw {
		case 1:
			ret.MediaType, ret.Encoder = "application/octet-stream", "raw"
		case 2:
			ret.MediaType, ret.Encoder = "text/plain; charset=utf-8", "raw"
		default:
			ret.MediaType, ret.Encoder = mediaJSON, "json"
		}
	}
	s.Returns = append(s.Returns, ret)
	problem := func(status int, why string) {
		s.Returns = append(s.Returns, Return{Status: status, Type: reflect.TypeFor[Problem](), MediaType: mediaProblem, Encoder: "problem", Description: why})
	}
	if len(in.params) > 0 || len(in.files) > 0 || in.body != nil {
		problem(http.StatusUnprocessableEntity, "a request field is missing or invalid")
	}
	if in.body != nil || in.form {
		problem(http.StatusBadRequest, "the request body is malformed")
		problem(http.StatusRequestEntityTooLarge, "the request body is over the limit")
		problem(http.StatusUnsupportedMediaType, "the request body's media type is not accepted")
	}
	return s
}
