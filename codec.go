package graft

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// EncodeFunc encodes a response value into bytes of one media type.
type EncodeFunc func(v any) ([]byte, error)

// RequestEncodeFunc encodes a response value into bytes of one media type,
// seeing the request being answered (its query, headers, route), e.g. to
// pretty-print on ?pretty. Set one with Builder.RequestEncoder, wrap one
// with Builder.WrapRequestEncoder. It must not keep c past the call.
type RequestEncodeFunc func(c *Ctx, v any) ([]byte, error)

// DecodeFunc decodes request body bytes of one media type into v.
type DecodeFunc func(data []byte, v any) error

// encoder is one entry of a codec table: req encodes (with the request);
// plain is set when the encoder and all it wraps ignore the request, so a
// WrapEncoder over it is built once. custom reports an encoder an
// extension set or wrapped (not graft's built-in JSON mother). body is
// set when the encoder is a body codec's own Marshal (Builder.BodyCodec),
// so typed endpoints may encode with the codec's Encode instead.
type encoder struct {
	plain  EncodeFunc
	req    RequestEncodeFunc
	custom bool
	body   *int
}

// plainEncoder makes the table entry of a request-unaware encoder.
func plainEncoder(enc EncodeFunc) encoder {
	return encoder{plain: enc, req: func(_ *Ctx, v any) ([]byte, error) { return enc(v) }, custom: true}
}

// codecs is the body extension point of one scope: encoders by media type,
// in the order they were set (the first is the default), decoders, and the
// body codecs typed endpoints read and answer besides JSON (bodycodec.go).
type codecs struct {
	types    []string
	encoders map[string]encoder
	decoders map[string]DecodeFunc
	bodies   []bodyEntry
	// customJSON reports that an extension set or wrapped the
	// application/json encoder, which is then jsonEnc: c.JSON, typed
	// endpoint outputs, declared outcomes and problem answers encode
	// through it. Without it they keep their own fast paths (pooled
	// encoder, compiled plans). A route reads its table's flag, decided
	// when the route is assembled.
	customJSON bool
	jsonEnc    RequestEncodeFunc
}

func newCodecs() *codecs {
	return &codecs{encoders: map[string]encoder{}, decoders: map[string]DecodeFunc{}}
}

// defaultCodecs holds JSON, the mother encoder of every app. JSON bodies
// with no decoder registered are read by Ctx.BindJSON.
func defaultCodecs() *codecs {
	c := newCodecs()
	e := plainEncoder(json.Marshal)
	e.custom = false
	c.setEncoder(mediaJSON, e)
	return c
}

func (c *codecs) setEncoder(mt string, enc encoder) {
	if _, ok := c.encoders[mt]; !ok {
		c.types = append(c.types, mt)
	}
	c.encoders[mt] = enc
	if mt == mediaJSON {
		c.customJSON, c.jsonEnc = enc.custom, enc.req
	}
}

func (c *codecs) setDecoder(mt string, dec DecodeFunc) {
	c.decoders[mt] = dec
}

// encoder returns the entry for mt; ok is false when there is none.
func (c *codecs) encoder(mt string) (encoder, bool) {
	e, ok := c.encoders[mt]
	return e, ok
}

// merge returns a table with child's entries over parent's.
func (c *codecs) merge(child *codecs) *codecs {
	if child == nil {
		return c
	}
	m := newCodecs()
	for _, t := range c.types {
		m.setEncoder(t, c.encoders[t])
	}
	for _, t := range child.types {
		m.setEncoder(t, child.encoders[t])
	}
	for k, v := range c.decoders {
		m.setDecoder(k, v)
	}
	for k, v := range child.decoders {
		m.setDecoder(k, v)
	}
	for _, b := range c.bodies {
		m.setBody(b)
	}
	for _, b := range child.bodies {
		m.setBody(b)
	}
	return m
}

// negotiate picks the encoder for an Accept header (see acceptRank): the
// registered media type of highest quality, a tie going to the one whose
// deciding range comes first in the header, then to the first registered;
// with no Accept header the first registered one.
func (c *codecs) negotiate(accept string) (string, RequestEncodeFunc) {
	if len(c.types) == 0 {
		return "", nil
	}
	if accept == "" {
		return c.types[0], c.encoders[c.types[0]].req
	}
	best, bestQ, bestPos := "", 0.0, 0
	for _, t := range c.types {
		if q, pos := acceptRank(accept, t); q > bestQ || (q == bestQ && q > 0 && pos < bestPos) {
			best, bestQ, bestPos = t, q, pos
		}
	}
	if best == "" {
		return "", nil
	}
	return best, c.encoders[best].req
}

// acceptRank returns the quality the Accept header accept gives media type
// mt and the position in the header of the range that decides it: the
// most specific range covering mt (type/subtype over type/*, over */*;
// RFC 9110, 12.5.1), the first of equal ones. q is 0 when no range covers
// mt or the deciding one has q=0 (in any spelling). Media types and
// parameter names compare case-insensitively; a malformed q counts as 1.
// It allocates nothing.
func acceptRank(accept, mt string) (q float64, pos int) {
	best := -1
	for i := 0; accept != ""; i++ {
		var part string
		part, accept, _ = strings.Cut(accept, ",")
		r, params, _ := strings.Cut(part, ";")
		r = strings.TrimSpace(r)
		sp := -1
		switch {
		case r == "*/*":
			sp = 0
		case strings.EqualFold(r, mt):
			sp = 2
		case len(r) > 2 && strings.HasSuffix(r, "/*") && len(mt) > len(r)-1 && strings.EqualFold(mt[:len(r)-1], r[:len(r)-1]):
			sp = 1
		}
		if sp > best {
			best, q, pos = sp, acceptQ(params), i
		}
	}
	return q, pos
}

// Render answers with v encoded by the encoder the request's Accept header
// selects among those the scope's extensions registered (JSON always
// included). No acceptable encoder is a 406 error.
func (c *Ctx) Render(status int, v any) error {
	cd := c.codecTable()
	mt, enc := cd.negotiate(c.Request.Header.Get("Accept"))
	if enc == nil {
		return notAcceptable(cd)
	}
	b, err := enc(c, v)
	if err != nil {
		return fmt.Errorf("graft: encoding %s response: %w", mt, err)
	}
	return c.Bytes(status, mt, b)
}

// Accepts reports whether the request's Accept header accepts media type
// mt. The most specific range that covers mt decides (type/subtype over
// type/*, over */*), and a quality of zero (q=0, q=0.0, q=0.000) means
// "not acceptable". No Accept header accepts everything. Render and typed
// endpoints choose among their media types by the same rule.
func (c *Ctx) Accepts(mt string) bool {
	accept := c.Request.Header.Get("Accept")
	if accept == "" {
		return true
	}
	q, _ := acceptRank(accept, mt)
	return q > 0
}

// Bind decodes the request body into v with the decoder registered for its
// Content-Type (JSON when none is given; without a registered JSON decoder,
// as BindJSON does). An unknown media type is a 415
// error, a body over the limit 413, undecodable input 400.
func (c *Ctx) Bind(v any) error {
	ct := c.Request.Header.Get("Content-Type")
	mt := "application/json"
	if ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return &HTTPError{Status: http.StatusUnsupportedMediaType, Detail: fmt.Sprintf("malformed Content-Type %q", ct)}
		}
	}
	dec := c.codecTable().decoders[mt]
	if dec == nil && (mt == "application/json" || isJSONMediaType(mt)) {
		return c.BindJSON(v)
	}
	if dec == nil {
		return &HTTPError{Status: http.StatusUnsupportedMediaType, Detail: fmt.Sprintf("Content-Type %s is not supported here", mt)}
	}
	b, err := c.Body()
	if err != nil {
		return err
	}
	if err := dec(b, v); err != nil {
		return &HTTPError{Status: http.StatusBadRequest, Detail: fmt.Sprintf("invalid %s body: %v", mt, err), Err: err}
	}
	return nil
}

// prefixCodecs are the codecs in force under a group's path prefix.
type prefixCodecs struct {
	prefix string
	cd     *codecs
}

// codecTable returns the codecs of the matched route, or, with no route
// matched (404, 405), those of the innermost group with codecs of its own
// whose prefix the path is under, else those of the app's top scope.
func (c *Ctx) codecTable() *codecs {
	if c.route != nil && c.route.codecs != nil {
		return c.route.codecs
	}
	for _, g := range c.app.groupCodecs {
		if rest, ok := strings.CutPrefix(c.path, g.prefix); ok && (rest == "" || rest[0] == '/') {
			return g.cd
		}
	}
	if c.app.topCodecs != nil {
		return c.app.topCodecs
	}
	return c.app.codecs
}

// writeJSONWith answers with v encoded by the scope's JSON encoder enc (one
// an extension set or wrapped); ctype is the Content-Type, sent unless a
// header field set one (or always, when force).
func writeJSONWith(c *Ctx, enc RequestEncodeFunc, status int, v any, ctype []string, force bool) error {
	b, err := enc(c, v)
	if err != nil {
		return fmt.Errorf("graft: encoding JSON response: %w", err)
	}
	h := c.rw.Header()
	if _, ok := h["Content-Type"]; force || !ok {
		h["Content-Type"] = ctype
	}
	setLength(h, len(b))
	c.rw.WriteHeader(status)
	_, err = c.rw.Write(b)
	return err
}
