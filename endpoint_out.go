package graft

import (
	"encoding"
	"fmt"
	"io"
	"mime"
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

// outBody is the compiled plan of a response body: Out's Body field, or the
// body of a declared outcome (Responds).
type outBody struct {
	typ     reflect.Type
	off     uintptr // of the Body field in Out; 0 for an outcome's body
	kind    bodyKind
	ptrWord unsafe.Pointer // encoded bodies: type word of *typ
	ptr     bool           // a nil pointer (or interface) body writes no body
	// ctype is the Content-Type sent when no header field set one. For an
	// encoded body nil means JSON or a body codec chosen by Accept; otherwise
	// the body is JSON sent with this media type (problem+json, a +json
	// type from a mediaType tag).
	ctype   []string
	media   string // for the signature
	encoder string // for the signature: json, problem, raw, stream, sse
	// fast is the JSON plan of a plain struct body (see fastjson.go);
	// nil: encoding/json only.
	fast *fastEnc
	// stream writes a body of kind bodySSE (see sse.go).
	stream func(c *Ctx, status int, bp unsafe.Pointer) error
}

// bodyKind says how a response body is written.
type bodyKind uint8

const (
	bodyEncoded bodyKind = iota // JSON or a body codec by Accept
	bodyBytes                   // []byte, written as is
	bodyString                  // a string kind, written as is
	bodyReader                  // an io.Reader, copied
	bodySSE                     // an event stream
	bodyNone                    // NoContent: the status alone
)

var (
	typeBytes  = reflect.TypeFor[[]byte]()
	typeReader = reflect.TypeFor[io.Reader]()
)

// newOutBody compiles the plan of a body of type t; media is its declared
// media type ("" for the default of its kind).
func newOutBody(t reflect.Type, media string) (*outBody, error) {
	b := &outBody{typ: t, ptr: t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface}
	if media != "" {
		if _, _, err := mime.ParseMediaType(media); err != nil {
			return nil, fmt.Errorf("mediaType %q is not a media type: %v", media, err)
		}
	}
	switch {
	case t == reflect.TypeFor[NoContent]():
		if media != "" {
			return nil, fmt.Errorf("graft.NoContent has no body, so no media type (%q)", media)
		}
		b.kind = bodyNone
		return b, nil
	case t == typeBytes:
		b.kind, b.encoder, b.media = bodyBytes, "raw", "application/octet-stream"
	case t.Kind() == reflect.String:
		b.kind, b.encoder, b.media = bodyString, "raw", "text/plain; charset=utf-8"
	case t.Implements(typeReader):
		b.kind, b.encoder, b.media = bodyReader, "stream", "application/octet-stream"
	case t.Kind() == reflect.Interface:
		return nil, fmt.Errorf("a body of interface type %s cannot be encoded; use a concrete type, or io.Reader for a stream", t)
	default:
		b.kind, b.encoder, b.media = bodyEncoded, "json", mediaJSON
		b.ptrWord = typeWord(reflect.PointerTo(t))
		b.fast = compileFastEnc(t)
		if t == reflect.TypeFor[Problem]() {
			b.encoder, b.media = "problem", mediaProblem
			b.ctype = []string{mediaProblem}
		}
		if media != "" {
			if !isJSONMediaType(media) {
				return nil, fmt.Errorf("a %s body is encoded as JSON or msgpack, not as %q; use []byte, string or io.Reader for other media types", t, media)
			}
			b.media, b.ctype = media, []string{media}
		}
		return b, nil
	}
	switch {
	case media != "":
		b.media, b.ctype = media, []string{media}
	case b.kind == bodyString:
		b.ctype = hdrText
	default:
		b.ctype = hdrOctet
	}
	return b, nil
}

var textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

// NoContent is the Out of an endpoint that answers 204 No Content:
// Handler[In, graft.NoContent] returns nil (or &graft.NoContent{}) on
// success. Its signature's default return has no body type.
type NoContent struct{}

// compileOut compiles the response plan of the Out type t.
func compileOut(t reflect.Type) (*outPlan, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("output type %s must be a struct with Status, header fields and Body", t)
	}
	op := &outPlan{typ: t, defStatus: http.StatusOK}
	if t == reflect.TypeFor[NoContent]() {
		op.defStatus = http.StatusNoContent
	}
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
			b, err := newOutBody(f.Type, f.Tag.Get("mediaType"))
			if err != nil {
				return nil, fmt.Errorf("output field Body: %w", err)
			}
			b.off = f.Offset
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
	return b.write(c, status, unsafe.Add(p, b.off))
}

// write answers status with the body at bp.
func (b *outBody) write(c *Ctx, status int, bp unsafe.Pointer) error {
	switch b.kind {
	case bodyBytes:
		return writeRaw(c, status, *(*[]byte)(bp), b.ctype)
	case bodyString:
		s := *(*string)(bp)
		return writeRaw(c, status, unsafe.Slice(unsafe.StringData(s), len(s)), b.ctype)
	case bodyReader:
		return b.copyReader(c, status, bp)
	case bodySSE:
		return b.stream(c, status, bp)
	case bodyNone:
		c.rw.WriteHeader(status)
		return nil
	}
	if b.ptr && *(*unsafe.Pointer)(bp) == nil {
		c.rw.WriteHeader(status)
		return nil
	}
	ctype := b.ctype // a declared media type is JSON-family
	if ctype == nil {
		be, err := answerCodec(c)
		if err != nil {
			return err
		}
		if be != nil {
			return writeCodec(c, status, be, eface(b.ptrWord, bp))
		}
		ctype = hdrJSON
	}
	if b.fast != nil {
		if done, err := writeFastJSON(c, status, b.fast, bp, ctype); done {
			return err
		}
	}
	return writeJSONAs(c, status, eface(b.ptrWord, bp), ctype)
}

// copyReader streams an io.Reader body (a nil one writes the status
// alone) and closes it when it is an io.Closer. The status is sent before
// the first byte, so a failed read ends the response early; the error is
// returned to be logged.
func (b *outBody) copyReader(c *Ctx, status int, bp unsafe.Pointer) error {
	v := reflect.NewAt(b.typ, bp).Elem()
	if b.ptr && v.IsNil() {
		c.rw.WriteHeader(status)
		return nil
	}
	r := v.Interface().(io.Reader)
	if cl, ok := r.(io.Closer); ok {
		defer cl.Close()
	}
	h := c.rw.Header()
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = b.ctype
	}
	c.rw.WriteHeader(status)
	if _, err := c.rw.ReadFrom(r); err != nil {
		return fmt.Errorf("graft: streaming the response body: %w", err)
	}
	return nil
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
		ret.Type, ret.MediaType, ret.Encoder = b.typ, b.media, b.encoder
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
