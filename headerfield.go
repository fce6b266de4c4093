package graft

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
)

// HeaderField is a typed header field (webpp's header-field extensie): it
// names one header, how to parse its value from a request and how to format
// one into a response, so handlers read and write values, not strings.
//
//	var IfNoneMatch = graft.NewHeaderField("If-None-Match", parseTags, formatTags)
//	var ETag = graft.NewHeaderField("ETag", parseTag, Tag.String)
//
//	app.Register(IfNoneMatch, ETag) // listed by app.Extensions()
//
//	ETag.Set(c, tag)                     // response side
//	tags, ok, err := IfNoneMatch.Get(c)  // request side, parsed once per request
//
// A field is an Extension, so registering it lists it (ID
// "graft.header.NAME") and checks that no other field of the scope claims the
// same header; an extension that uses fields declares them with
// Builder.HeaderField instead. Get and Set work whether or not the field was
// registered.
type HeaderField[T any] struct {
	name   string
	parse  func(string) (T, error)
	format func(T) string
	// parsed caches Get's result in the request's property slots, so the
	// header is parsed once however many times handlers, mixins and
	// middleware read it.
	parsed *Property[parsedField[T]]
}

// parsedField is one request's parse of a header field.
type parsedField[T any] struct {
	v   T
	ok  bool
	err error
}

// AnyHeaderField is what Builder.HeaderField records of a field;
// *HeaderField[T] implements it.
type AnyHeaderField interface {
	HeaderName() string
}

// CtxHolder is anything that embeds graft.Ctx: *Ctx itself and the app's
// own context type, so typed helpers such as HeaderField take either.
type CtxHolder interface {
	base() *Ctx
}

// NewHeaderField declares a typed header field. name is canonicalised
// (if-none-match becomes If-None-Match); parse turns a request's value into
// T (several header lines are joined with ", " first, as RFC 9110 allows for
// list fields) and format turns a T into a response value. Declare fields at
// package level: a field owns a property slot, like NewProperty. An empty
// name or a nil function panics, naming the field.
func NewHeaderField[T any](name string, parse func(string) (T, error), format func(T) string) *HeaderField[T] {
	switch {
	case name == "" || strings.ContainsAny(name, " \t\r\n:"):
		panic(fmt.Sprintf("graft: NewHeaderField(%q): the header name is empty or not a token; pass a name such as \"If-None-Match\"", name))
	case parse == nil:
		panic(fmt.Sprintf("graft: NewHeaderField(%q): parse is nil; pass the function that reads the request value", name))
	case format == nil:
		panic(fmt.Sprintf("graft: NewHeaderField(%q): format is nil; pass the function that writes the response value", name))
	}
	name = textproto.CanonicalMIMEHeaderKey(name)
	return &HeaderField[T]{name: name, parse: parse, format: format, parsed: NewProperty[parsedField[T]]("header."+name, nil)}
}

// HeaderName returns the header's canonical name.
func (f *HeaderField[T]) HeaderName() string { return f.name }

// ID returns the extension ID of the field, "graft.header.NAME".
func (f *HeaderField[T]) ID() string { return "graft.header." + f.name }

// String describes the field for messages.
func (f *HeaderField[T]) String() string { return "header field " + f.name }

// Extend registers the field itself, so that it can be passed to Register
// directly: app.Register(IfNoneMatch).
func (f *HeaderField[T]) Extend(b *Builder) error {
	b.HeaderField(f)
	return nil
}

// Get returns the field parsed from the request. ok is false when the
// header is absent or empty. A value that does not parse is a 400 *HTTPError
// naming the header, which a handler can return as is. The parse runs once
// per request: later calls return the first result.
func (f *HeaderField[T]) Get(h CtxHolder) (v T, ok bool, err error) {
	c := h.base()
	if f.parsed.IsSet(c) {
		p := f.parsed.Get(c)
		return p.v, p.ok, p.err
	}
	var p parsedField[T]
	var s string
	switch vs := c.Request.Header[f.name]; len(vs) {
	case 0:
	case 1:
		s = vs[0]
	default:
		s = strings.Join(vs, ", ")
	}
	if s = strings.TrimSpace(s); s != "" {
		p.ok = true
		var perr error
		if p.v, perr = f.parse(s); perr != nil {
			var zero T
			p.v = zero
			p.err = &HTTPError{Status: http.StatusBadRequest, Detail: fmt.Sprintf("header %s: %v", f.name, perr), Errors: []FieldError{{Location: "header." + f.name, Message: perr.Error()}}, Err: perr}
		}
	}
	f.parsed.Set(c, p)
	return p.v, p.ok, p.err
}

// Set sets the field on the response to v, formatted, replacing any value
// it had. Call it before the response is written; response-header hooks
// (OnWriteHeader) may call it too.
func (f *HeaderField[T]) Set(h CtxHolder, v T) {
	h.base().rw.Header()[f.name] = []string{f.format(v)}
}

// Del removes the field from the response.
func (f *HeaderField[T]) Del(h CtxHolder) {
	delete(h.base().rw.Header(), f.name)
}
