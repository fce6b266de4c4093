package graft

import "fmt"

// HeaderField is a typed request header field (webpp's header-field
// extensie): it names a header and how to parse it, so handlers read a
// value, not a string.
//
//	var IfMatch = graft.NewHeaderField("If-Match", parseETags)
//	tags, ok, err := IfMatch.Get(c)
type HeaderField[T any] struct {
	name  string
	parse func(string) (T, error)
}

// HeaderFieldInfo is what Builder.HeaderField records of a field.
type HeaderFieldInfo interface {
	HeaderName() string
}

// NewHeaderField declares a typed header field.
func NewHeaderField[T any](name string, parse func(string) (T, error)) *HeaderField[T] {
	return &HeaderField[T]{name: name, parse: parse}
}

// HeaderName returns the header's name.
func (f *HeaderField[T]) HeaderName() string { return f.name }

// Get parses the field from the request. ok is false when the header is
// absent; a value that does not parse is a 400 *HTTPError naming the header.
func (f *HeaderField[T]) Get(c *Ctx) (v T, ok bool, err error) {
	s := c.Request.Header.Get(f.name)
	if s == "" {
		return v, false, nil
	}
	v, err = f.parse(s)
	if err != nil {
		return v, true, &HTTPError{Status: 400, Detail: fmt.Sprintf("header %s: %v", f.name, err), Errors: []FieldError{{Location: "header." + f.name, Message: err.Error()}}}
	}
	return v, true, nil
}
