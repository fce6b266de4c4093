package graft

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"unsafe"
)

// Responds declares an outcome of a typed endpoint besides the default
// success that Out describes: the status, the body type T and when it
// happens (the description; empty means the status text). The handler
// answers it by returning Respond(status, body) as its error. The outcome
// is listed in the endpoint's Signature.Returns, so OpenAPI shows it.
//
// T's media type follows from its type as for Out's Body: a struct (or
// other encoded type) is JSON or a body codec's format by the Accept
// header, Problem is
// application/problem+json, []byte is application/octet-stream, a string
// is text/plain, an io.Reader is copied; RespondsAs declares another one.
// NoContent declares an answer without a body, the only kind a 1xx, 204
// or 304 may have.
//
//	graft.Put(app, "/items/{id}", update,
//		graft.Responds[Conflict](http.StatusConflict, "the item changed since it was read"),
//		graft.Responds[graft.Problem](http.StatusNotFound, "no such item"))
//
// Given to a group, the outcome is declared for each typed endpoint of the
// group; an endpoint's own declaration of the same status replaces it.
// Declaring a status twice at one level, or a status the endpoint already
// answers with another body (Out's default, the binder's 400/413/415/422
// problems) panics at registration.
func Responds[T any](status int, description string) Option {
	return RespondsAs[T](status, "", description)
}

// RespondsAs is Responds with a declared media type: any type for []byte,
// string and io.Reader bodies (e.g. "text/html; charset=utf-8"), a JSON
// type (application/json or application/…+json) for encoded bodies, which
// are then always JSON.
func RespondsAs[T any](status int, mediaType, description string) Option {
	d := outcomeDecl{status: status, typ: reflect.TypeFor[T](), media: mediaType, desc: description}
	return func(s *settings) { s.outcomes = append(s.outcomes, d) }
}

// outcomeDecl is one Responds option, compiled at registration.
type outcomeDecl struct {
	status int
	typ    reflect.Type
	media  string
	desc   string
}

// Response is an outcome a typed handler answers instead of its Out: it
// is returned as the handler's error (Respond builds one), and written
// with its status, body and headers when the endpoint declares the status
// with the body type T (Responds). An outcome the endpoint does not
// declare is answered 500 and logged: the endpoint's documentation would
// otherwise not say what clients receive.
type Response[T any] struct {
	// Status is the HTTP status.
	Status int
	// Body is encoded as for Out's Body.
	Body T
	// Header holds extra response headers; a Content-Type here replaces
	// the declared media type.
	Header http.Header
}

// Respond returns the outcome status with body, for a typed handler to
// return as its error:
//
//	return nil, graft.Respond(http.StatusConflict, Conflict{Current: v})
func Respond[T any](status int, body T) *Response[T] {
	return &Response[T]{Status: status, Body: body}
}

// Error implements error, so a handler can return the outcome.
func (r *Response[T]) Error() string {
	return fmt.Sprintf("graft: outcome %d with a %s body", r.Status, reflect.TypeFor[T]())
}

func (r *Response[T]) outcome() (int, reflect.Type, unsafe.Pointer, http.Header) {
	return r.Status, reflect.TypeFor[T](), unsafe.Pointer(&r.Body), r.Header
}

// outcomeErr is what every Response[T] is to the endpoint.
type outcomeErr interface {
	error
	outcome() (status int, typ reflect.Type, body unsafe.Pointer, h http.Header)
}

// declared is an outcome an endpoint may answer: a Return with a body type,
// from Out, Responds or a plugin's AddReturn.
type declared struct {
	status int
	body   *outBody
}

// addOutcomes adds the Responds declarations of the route's scopes (outer
// first) and the route itself to the signature; setup mistakes panic
// naming the endpoint.
func addOutcomes(sig *Signature, ri *Route) {
	name := methodLabel(sig.Method) + " " + sig.Route
	levels := [][]outcomeDecl{}
	for _, s := range ri.rt.sc.lineage() {
		levels = append(levels, s.outcomes)
	}
	levels = append(levels, ri.rt.outcomes)
	fixed := len(sig.Returns) // Out's default and the binder's problems
	owner := map[int]int{}    // status -> level that declared it
	for lv, ds := range levels {
		for _, d := range ds {
			what := fmt.Sprintf("Responds[%s](%d)", d.typ, d.status)
			if d.status < 100 || d.status > 999 {
				setupPanic("endpoint %s: %s: %d is not an HTTP status (100-999)", name, what, d.status)
			}
			b, err := newOutBody(d.typ, d.media)
			if err != nil {
				setupPanic("endpoint %s: %s: %v", name, what, err)
			}
			if bodyless(d.status) && b.kind != bodyNone {
				setupPanic("endpoint %s: %s: a %d answer has no body; declare graft.Responds[graft.NoContent](%d, …)", name, what, d.status, d.status)
			}
			desc := d.desc
			if desc == "" {
				desc = http.StatusText(d.status)
			}
			ret := Return{Status: d.status, Type: d.typ, MediaType: b.media, Encoder: b.encoder, Description: desc}
			i := sig.returnIndex(d.status)
			switch {
			case i < 0:
				sig.Returns = append(sig.Returns, ret)
				owner[d.status] = lv
			case i == 0:
				setupPanic("endpoint %s: %s: %d is the default status of %s; declare another status, or change Out", name, what, d.status, sig.Out)
			case i < fixed && sig.Returns[i].Type != d.typ:
				setupPanic("endpoint %s: %s: the endpoint answers %d with a %s itself; declare it as graft.Problem, or use another status", name, what, d.status, sig.Returns[i].Type)
			case i >= fixed && owner[d.status] == lv:
				setupPanic("endpoint %s: %s: status %d is declared twice; one body type per status", name, what, d.status)
			default:
				sig.Returns[i] = ret
				owner[d.status] = lv
			}
		}
	}
}

// bodyless reports whether HTTP forbids a body with status.
func bodyless(status int) bool {
	return status < 200 || status == http.StatusNoContent || status == http.StatusNotModified
}

// returnIndex returns the index of the return with status, or -1.
func (s *Signature) returnIndex(status int) int {
	for i := range s.Returns {
		if s.Returns[i].Status == status {
			return i
		}
	}
	return -1
}

// compileOutcomes fixes, at start-up after plugins added theirs, the
// outcomes the endpoint may answer with Respond: every return with a body
// type.
func (ep *endpoint) compileOutcomes() error {
	ep.outcomes = ep.outcomes[:0]
	for i, r := range ep.sig.Returns {
		if r.Type == nil || r.Encoder == "sse" {
			continue
		}
		var b *outBody
		if i == 0 && ep.out.body != nil && ep.out.body.typ == r.Type {
			b = ep.out.body
		} else {
			media := r.MediaType
			if r.Encoder == "json" && media == mediaJSON {
				media = "" // negotiated: JSON or a body codec
			}
			var err error
			if b, err = newOutBody(r.Type, media); err != nil {
				return fmt.Errorf("return %d (%s): %w", r.Status, r.Type, err)
			}
		}
		ep.outcomes = append(ep.outcomes, declared{status: r.Status, body: b})
	}
	return nil
}

// wrappedOutcome returns the outcome err wraps, or nil: errors.As with a
// target of its own, so that answer's common cases do not move one to the
// heap.
func wrappedOutcome(err error) outcomeErr {
	switch x := err.(type) {
	case *HTTPError:
		if x.Err == nil {
			return nil // the 422 of a failed binding, and most others
		}
	case interface{ Unwrap() error }, interface{ Unwrap() []error }, interface{ As(any) bool }:
	default:
		return nil // wraps nothing, and answer checked err itself
	}
	var o outcomeErr
	if errors.As(err, &o) {
		return o
	}
	return nil
}

// answer turns a handler's error into the response: a declared outcome
// (Respond) is written; an undeclared one becomes a 500 that names it;
// any other error goes on to the error handler.
func (ep *endpoint) answer(c *Ctx, err error) error {
	o, ok := err.(outcomeErr)
	if !ok {
		if o = wrappedOutcome(err); o == nil {
			return err
		}
	}
	status, t, p, hdr := o.outcome()
	for i := range ep.outcomes {
		d := &ep.outcomes[i]
		if d.status != status || d.body.typ != t {
			continue
		}
		if len(hdr) > 0 {
			h := c.rw.Header()
			for k, v := range hdr {
				h[k] = v
			}
		}
		return d.body.write(c, status, p)
	}
	return &HTTPError{Status: http.StatusInternalServerError, Err: fmt.Errorf(
		"graft: endpoint %s %s answered %d with a %s body, which it does not declare; add graft.Responds[%s](%d, …) to its registration",
		methodLabel(ep.sig.Method), ep.sig.Route, status, t, t, status)}
}

// checkPlainOptions panics when a plain route gets options that only
// typed endpoints read, which would otherwise be ignored.
func checkPlainOptions(method, route string, opts []Option) {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	if len(s.outcomes) > 0 {
		setupPanic("route %s %s: graft.Responds declares outcomes of typed endpoints (graft.Get, Post…); a plain handler writes its answers itself", methodLabel(method), route)
	}
	if s.hasKeepAlive {
		setupPanic("route %s %s: graft.WithStreamKeepAlive applies to graft.SSE endpoints; a plain handler streams with Ctx.Stream", methodLabel(method), route)
	}
}
