package graft

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"strings"
)

// BodyCodec is a body format beside JSON (which is built in), registered
// in a scope with Builder.BodyCodec: one value serves Ctx.Render and
// Ctx.Bind (Marshal, Unmarshal) and typed endpoints, which read request
// bodies of its media type into In's Body field by the rules of JSON
// bodies and answer in it to clients that prefer it. ext/msgpack is one.
//
// A typed endpoint body goes through three steps. At start-up, Compile
// prepares each Body type the scope's typed endpoints read. Per request,
// the BodyDecoder it returned checks the body and decodes it, reporting
// values of the wrong type (and unknown fields, when forbidden) as field
// errors, which graft answers 422 with every other failing field. Then
// graft's presence scan reads the body a second time through the
// WireScanner methods, to apply `required` (a field is sent when its key
// is there with a non-nil value) and the constraints of the fields sent,
// as it does for JSON.
type BodyCodec interface {
	// Marshal encodes v into a new slice: the scope's encoder of the
	// media type (Ctx.Render).
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer: the scope's decoder of
	// the media type (Ctx.Bind).
	Unmarshal(data []byte, v any) error
	// Encode writes v (a pointer to a typed endpoint's output body) to
	// buf, a buffer graft pools: the answer to a client that prefers the
	// media type.
	Encode(buf *bytes.Buffer, v any) error
	// Compile prepares decoding request bodies of type t (the type of a
	// typed endpoint's Body field), once, at start-up. An error fails
	// start-up naming the endpoint; say which field and why.
	Compile(t reflect.Type) (BodyDecoder, error)
	WireScanner
}

// BodyDecoder reads the request bodies of one type for a typed endpoint
// (see BodyCodec.Compile).
type BodyDecoder interface {
	// Decode checks the body b and decodes it into v, a pointer to a
	// value of the compiled type. A body that is not exactly one
	// well-formed value is an error, answered 400 (an *HTTPError is
	// answered as it is). A value of the wrong type, and an unknown
	// field when forbid is set, is reported to r at its location from
	// "body" ("body.items[2].qty"), every one while !r.Full(); after a
	// report, v is left alone and decoded is false. Nothing decoded may
	// alias b, which graft reuses for the next request.
	Decode(b []byte, v any, forbid bool, r FieldReporter) (decoded bool, err error)
}

// FieldReporter collects the field problems of a request: the list graft
// answers 422 with.
type FieldReporter interface {
	// Report records that the value at loc ("body.qty") is wrong: msg
	// says what it must be ("must be an integer"), got is what was sent
	// (or nil).
	Report(loc, msg string, got any)
	// Full reports that the list is cut: further reports are dropped,
	// so a checker may stop looking.
	Full() bool
}

// WireKind is the family of a value in a body codec's format, as the
// presence scan needs it (see WireScanner.Head).
type WireKind uint8

// The kinds a WireScanner tells apart.
const (
	WireNil    WireKind = iota // nil (JSON's null)
	WireMap                    // a map: Head's n is its key/value pairs
	WireArray                  // an array: n is its items
	WireString                 // a string (or a byte string): n is its bytes, which follow the header
	WireOther                  // anything else: a boolean, a number, an extension
)

// WireScanner reads the structure of a body in a codec's format, without
// decoding it: what graft's presence scan needs (see BodyCodec). Its
// methods are called only on a body the codec's BodyDecoder accepted, and
// must not allocate.
type WireScanner interface {
	// Head reads the header of the value at b[i:] and returns its kind,
	// its length (see WireKind) and the offset of what follows the
	// header: a string's bytes, an array's first item, a map's first
	// key. ok is false for a header that is malformed or does not fit
	// in b.
	Head(b []byte, i int) (k WireKind, n, next int, ok bool)
	// Skip returns the offset after the value at b[i:] (len(b) for one
	// that is malformed or truncated).
	Skip(b []byte, i int) int
	// FieldNames lists the map keys that decode into the fields of
	// struct type t, each with its field's index path from t (as
	// reflect.Type.FieldByIndex takes it); called at start-up.
	FieldNames(t reflect.Type) map[string][]int
}

// BodyCodec registers a body format in the scope for mediaType: its
// Marshal as the scope's encoder (a child may wrap it with WrapEncoder;
// typed endpoint outputs then go through the wrapper), its Unmarshal as the
// decoder, and its typed-endpoint support (see BodyCodec). Typed endpoints
// also read and answer the aliases (e.g. application/x-msgpack), answering
// with mediaType.
func (b *Builder) BodyCodec(mediaType string, c BodyCodec, aliases ...string) {
	if c == nil {
		b.core.exts.errs = append(b.core.exts.errs, fmt.Errorf("graft: extension %s: BodyCodec %s: the codec is nil", b.ID(), mediaType))
		return
	}
	cd := b.codecs()
	id := new(int)
	cd.setEncoder(mediaType, encoder{plain: c.Marshal, req: func(_ *Ctx, v any) ([]byte, error) { return c.Marshal(v) }, custom: true, body: id})
	cd.setDecoder(mediaType, c.Unmarshal)
	cd.setBody(bodyEntry{mt: mediaType, names: append([]string{mediaType}, aliases...), c: c, id: id})
	b.note("body codec " + mediaType)
}

// bodyEntry is a body codec of a scope's table.
type bodyEntry struct {
	mt    string   // the media type answered
	names []string // mt, then its aliases, as read from Content-Type and Accept
	c     BodyCodec
	hdr   []string // {mt}, the Content-Type header value
	id    *int     // this registration; the encoder entry that is c's own Marshal has it
}

// setBody adds or replaces (by media type) a body codec of the table.
func (c *codecs) setBody(e bodyEntry) {
	e.hdr = []string{e.mt}
	for i := range c.bodies {
		if c.bodies[i].mt == e.mt {
			c.bodies[i] = e
			return
		}
	}
	c.bodies = append(c.bodies, e)
}

// typedBody is a body codec compiled for one typed endpoint's Body type.
type typedBody struct {
	*bodyEntry
	dec      BodyDecoder
	presence *pnode // the presence plan with the codec's keys; nil: nothing to check
}

// compileBodies compiles the body type t of an endpoint for each body
// codec of its table cd.
func compileBodies(cd *codecs, t reflect.Type) ([]typedBody, error) {
	var out []typedBody
	for i := range cd.bodies {
		e := &cd.bodies[i]
		dec, err := e.c.Compile(t)
		if err != nil {
			return nil, fmt.Errorf("body (%s): %w", e.mt, err)
		}
		if dec == nil {
			return nil, fmt.Errorf("body (%s): the codec's Compile returned no decoder for %s", e.mt, t)
		}
		pres, err := compileWirePresence(t, "body", e.c.FieldNames)
		if err != nil {
			return nil, fmt.Errorf("body (%s): %w", e.mt, err)
		}
		out = append(out, typedBody{bodyEntry: e, dec: dec, presence: pres})
	}
	return out, nil
}

// bodyMediaTypes returns the media types an endpoint reads: JSON, then
// the codecs'.
func bodyMediaTypes(tbs []typedBody) []string {
	mts := []string{mediaJSON}
	for _, tb := range tbs {
		mts = append(mts, tb.mt)
	}
	return mts
}

// requestCodec returns the body codec of a request Content-Type among
// tbs: json true for JSON (an empty Content-Type, application/json, a
// +json type), else the codec, nil when none reads it. It parses without
// allocating.
func requestCodec(ct string, tbs []typedBody) (tb *typedBody, json bool) {
	if ct == "" || ct == mediaJSON {
		return nil, true
	}
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	if isJSONType(mt) {
		return nil, true
	}
	for i := range tbs {
		for _, n := range tbs[i].names {
			if strings.EqualFold(mt, n) {
				return &tbs[i], false
			}
		}
	}
	return nil, false
}

// isJSONType reports application/json or application/*+json, any case.
func isJSONType(mt string) bool {
	return strings.EqualFold(mt, mediaJSON) ||
		len(mt) > 17 && strings.EqualFold(mt[:12], "application/") && strings.EqualFold(mt[len(mt)-5:], "+json")
}

// unsupportedBody is the 415 for a typed endpoint's body in a media type
// it does not read.
func unsupportedBody(ct string, tbs []typedBody) *HTTPError {
	want := mediaJSON
	for i, tb := range tbs {
		if i == len(tbs)-1 {
			want += " or " + tb.mt
		} else {
			want += ", " + tb.mt
		}
	}
	return &HTTPError{Status: http.StatusUnsupportedMediaType, Detail: fmt.Sprintf("Content-Type %q is not supported; send %s", ct, want)}
}

// decode decodes the body b into v (a pointer to a value of the type tb
// was compiled for) by the rules of JSON bodies: a body the codec refuses
// is a 400; every value of the wrong type and, when forbidden, every
// unknown field is recorded in e (a 422), and then nothing is decoded
// (decoded false).
func (tb *typedBody) decode(b []byte, v any, forbid bool, e *errs) (decoded bool, err error) {
	n, cut := len(e.list), e.truncated
	decoded, err = tb.dec.Decode(b, v, forbid, e)
	if err != nil {
		e.list, e.truncated = e.list[:n], cut // the 400 is the answer
		if he, ok := err.(*HTTPError); ok {
			return false, he
		}
		return false, &HTTPError{Status: http.StatusBadRequest, Detail: err.Error(), Err: err}
	}
	return decoded && len(e.list) == n, nil
}

// Report records a problem a body codec found (FieldReporter).
func (e *errs) Report(loc, msg string, got any) { e.add(loc, msg, got) }

// Full reports that the list is cut (FieldReporter): later problems would
// be dropped.
func (e *errs) Full() bool { return e.truncated }

// answerCodec chooses the body codec a typed endpoint answers in, by
// Ctx.Render's rules (codecs.negotiate) over JSON (the first) and the
// scope's body codecs, each weighed by its best media type name: nil
// means JSON; none acceptable is Render's 406. Nothing is allocated.
func answerCodec(c *Ctx) (*bodyEntry, error) {
	accept := headerValue(c.Request.Header, "Accept")
	if accept == "" {
		return nil, nil
	}
	cd := c.codecTable()
	var best *bodyEntry
	bestQ, bestPos := acceptRank(accept, mediaJSON)
	for i := range cd.bodies {
		for _, n := range cd.bodies[i].names {
			if q, pos := acceptRank(accept, n); q > bestQ || (q == bestQ && q > 0 && pos < bestPos) {
				best, bestQ, bestPos = &cd.bodies[i], q, pos
			}
		}
	}
	if bestQ <= 0 {
		return nil, notAcceptable(cd)
	}
	return best, nil
}

// writeCodec writes v (a pointer to a typed endpoint's output body) with
// status in the body codec be, through the scope's encoder of its media
// type: the codec's own Encode into a pooled buffer, or, when a child
// wrapped or replaced that encoder, the encoder in force. Encoding
// happens before anything is written, so an encoding error can still
// become a 500.
func writeCodec(c *Ctx, status int, be *bodyEntry, v any) error {
	h := c.rw.Header()
	enc, _ := c.codecTable().encoder(be.mt)
	var b []byte
	if enc.body == be.id {
		buf := bufPool.Get().(*bytes.Buffer)
		defer func() {
			if buf.Cap() <= maxPooledBuf {
				buf.Reset()
				bufPool.Put(buf)
			}
		}()
		if err := be.c.Encode(buf, v); err != nil {
			return fmt.Errorf("graft: encoding %s response: %w", be.mt, err)
		}
		b = buf.Bytes()
	} else {
		var err error
		if b, err = enc.req(c, v); err != nil {
			return fmt.Errorf("graft: encoding %s response: %w", be.mt, err)
		}
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = be.hdr
	}
	c.rw.WriteHeader(status)
	_, err := c.rw.Write(b)
	return err
}
