package graft

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Media types typed endpoints read and write (body codecs add theirs,
// see bodycodec.go).
const (
	mediaJSON    = "application/json"
	mediaProblem = "application/problem+json"
)

var (
	hdrJSON  = []string{mediaJSON}
	hdrOctet = []string{"application/octet-stream"}
	hdrText  = []string{"text/plain; charset=utf-8"}
)

// acceptQ reads q= from media range params; 1 when absent or malformed
// (as mime.ParseMediaType-based readers took it).
func acceptQ(params string) float64 {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if k = strings.TrimSpace(k); k == "q" || k == "Q" {
			q, err := strconv.ParseFloat(strings.Trim(strings.TrimSpace(v), `"`), 64)
			if err != nil {
				return 1
			}
			return q
		}
	}
	return 1
}

// bufPool holds request-body and response buffers.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// jsonEnc is a pooled JSON encoder writing into its own buffer, so encoding
// a response allocates nothing of its own.
type jsonEnc struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonEncPool = sync.Pool{New: func() any {
	e := &jsonEnc{}
	e.enc = json.NewEncoder(&e.buf)
	return e
}}

// release empties e and returns it to the pool unless its buffer grew past
// maxPooledBuf. The encoder keeps no state between values (Encode writes
// only after a value encoded in full), so an emptied buffer makes it clean.
func (e *jsonEnc) release() {
	e.buf.Reset()
	if e.buf.Cap() <= maxPooledBuf {
		jsonEncPool.Put(e)
	}
}

// maxPooledBuf bounds the buffers kept for reuse.
const maxPooledBuf = 64 << 10

// maxPreGrow bounds how much a request's Content-Length makes the body
// buffer grow before any data arrived.
const maxPreGrow = 1 << 20

// readBody reads the request body into buf, bounded by limit: over it is a
// 413, a failed read a 400.
func readBody(r *http.Request, buf *bytes.Buffer, limit int64) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if err := codingError(r); err != nil {
		return err
	}
	if r.ContentLength > limit {
		return &HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit)}
	}
	if r.ContentLength > 0 {
		// +1: the read that sees EOF needs no growth. A client's claim is
		// trusted up to maxPreGrow only; past it the buffer grows as data
		// arrives.
		buf.Grow(int(min(r.ContentLength, maxPreGrow)) + 1)
	}
	for {
		if buf.Available() == 0 {
			buf.Grow(512)
		}
		b := buf.AvailableBuffer()
		b = b[:cap(b)]
		// Read at most one byte past the limit, enough to tell it was passed.
		if rem := limit - int64(buf.Len()); int64(len(b)) > rem {
			b = b[:rem+1]
		}
		n, err := r.Body.Read(b)
		buf.Write(b[:n])
		if int64(buf.Len()) > limit {
			return &HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body exceeds the limit of %d bytes", limit)}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return &HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body exceeds the limit of %d bytes", mbe.Limit), Err: err}
			}
			return &HTTPError{Status: http.StatusBadRequest, Detail: "reading the request body failed: " + err.Error(), Err: err}
		}
	}
}

// jsonDec is a pooled JSON decoder over a resettable reader: reusing the
// decoder reuses its decoding state, which json.Unmarshal allocates anew
// on every call. A decoder goes back to the pool only after a clean decode
// that consumed all its input, so no state carries over.
type jsonDec struct {
	r   bytes.Reader
	dec *json.Decoder
}

var jsonDecPools [2]sync.Pool // [0]: unknown fields allowed, [1]: forbidden

func getJSONDec(forbid bool) *jsonDec {
	i := 0
	if forbid {
		i = 1
	}
	if d, ok := jsonDecPools[i].Get().(*jsonDec); ok {
		return d
	}
	d := &jsonDec{}
	d.dec = json.NewDecoder(&d.r)
	if forbid {
		d.dec.DisallowUnknownFields()
	}
	return d
}

// decodeJSON decodes the one JSON value b holds into v (a pointer) with a
// pooled decoder. It returns the decoder's error (a syntax error with its
// offset counted from the start of b) or the 400 for data after the value.
//
// The decoder comes from a pool, so it must go back holding nothing of this
// request: trailing whitespace is cut before decoding, and the decoder is
// returned only when the decode was clean and consumed every byte, which
// leaves its read buffer empty. A decoder that failed keeps its error (and
// maybe unread bytes) and is dropped.
func decodeJSON(b []byte, v any, forbid bool) error {
	b = trimJSONSpace(b)
	d := getJSONDec(forbid)
	d.r.Reset(b)
	start := d.dec.InputOffset()
	err := d.dec.Decode(v)
	if valueRead(err) {
		if n := d.dec.InputOffset() - start; n != int64(len(b)) {
			return trailingData(n)
		}
	}
	if err == nil {
		i := 0
		if forbid {
			i = 1
		}
		jsonDecPools[i].Put(d)
		return nil
	}
	// A reused decoder counts offsets from its first input: ask
	// json.Unmarshal (cold path) for the error with this input's offset.
	var se *json.SyntaxError
	if errors.As(err, &se) {
		var raw json.RawMessage
		if uerr := json.Unmarshal(b, &raw); uerr != nil {
			err = uerr
		}
	}
	return err
}

// decodeJSONBody decodes b into v (a pointer) for a typed endpoint. Syntax
// errors and data after the value are a 400; values of the wrong JSON type
// and (when forbidden) unknown fields are recorded in e as field errors, all
// of them (see jsonProblems), so they are answered 422 together with every
// other failing field.
func decodeJSONBody(b []byte, v any, forbid bool, e *errs) error {
	err := decodeJSON(b, v, forbid)
	if err == nil {
		return nil
	}
	if he, ok := err.(*HTTPError); ok {
		return he
	}
	var te *json.UnmarshalTypeError
	isType := errors.As(err, &te)
	if (isType || strings.HasPrefix(err.Error(), "json: unknown field ")) && jsonProblems(trimJSONSpace(b), reflect.TypeOf(v).Elem(), forbid, e) {
		return nil // every unknown field and wrong type, not only the first
	}
	if isType {
		loc := "body"
		if te.Field != "" {
			loc += "." + te.Field
		}
		e.add(loc, "must be "+jsonKind(te.Type.Kind().String()), te.Value)
		return nil
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		name := unknownFieldName(msg)
		e.add("body."+name, "is not a known field", nil)
		return nil
	}
	return jsonError(err)
}

// valueRead reports whether a Decode that returned err read a whole JSON
// value: it did unless the input was malformed or ended early.
func valueRead(err error) bool {
	if err == nil {
		return true // before se, which escapes: a clean decode allocates nothing here
	}
	var se *json.SyntaxError
	return !(errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))
}

// trailingData is the 400 for bytes after the JSON value, n being the
// offset of the first of them.
func trailingData(n int64) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Detail: fmt.Sprintf("malformed JSON: data after the JSON value at byte %d; send exactly one JSON value", n)}
}

// trimJSONSpace cuts the JSON whitespace at the end of b.
func trimJSONSpace(b []byte) []byte {
	n := len(b)
	for n > 0 {
		switch b[n-1] {
		case ' ', '\t', '\r', '\n':
			n--
			continue
		}
		break
	}
	return b[:n]
}

// jsonKind names a Go kind in JSON terms for messages.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "bool":
		return "a boolean"
	case k == "string":
		return "a string"
	case k == "slice", k == "array":
		return "an array"
	}
	return "an object"
}

// notAcceptable is the 406 for a request none of whose accepted media
// types the scope's encoders produce.
func notAcceptable(cd *codecs) *HTTPError {
	return &HTTPError{Status: http.StatusNotAcceptable, Detail: fmt.Sprintf("none of the accepted media types can be produced; available: %s", strings.Join(cd.types, ", "))}
}

// headerValue is h.Get(key) for a key already in canonical form: a map
// read, without Get's canonicalisation of the key on every call.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// writeFastJSON writes the plain struct at p as JSON with status through
// its plan, the bytes encoding/json's Encoder would write (newline
// included). It reports false, having written nothing, when the plan gave
// up, or when the scope's JSON encoder is an extension's (which must see
// every value); the caller then encodes with writeJSONAs.
func writeFastJSON(c *Ctx, status int, plan *fastEnc, p unsafe.Pointer, ctype []string) (bool, error) {
	if c.codecTable().customJSON {
		return false, nil
	}
	e := jsonEncPool.Get().(*jsonEnc)
	defer e.release()
	b, ok := plan.appendJSON(e.buf.AvailableBuffer(), p)
	if !ok {
		return false, nil
	}
	e.buf.Write(append(b, '\n')) // in place when it fit; else the buffer keeps the larger slice
	h := c.rw.Header()
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = ctype
	}
	c.rw.WriteHeader(status)
	_, err := c.rw.Write(e.buf.Bytes())
	return true, err
}

// writeJSONAs writes v as JSON with status; ctype is the Content-Type
// sent unless a header field set one.
func writeJSONAs(c *Ctx, status int, v any, ctype []string) error {
	if cd := c.codecTable(); cd.customJSON {
		return writeJSONWith(c, cd.jsonEnc, status, v, ctype, false)
	}
	e := jsonEncPool.Get().(*jsonEnc)
	defer e.release()
	if err := e.enc.Encode(v); err != nil {
		return fmt.Errorf("graft: encoding JSON response: %w", err)
	}
	h := c.rw.Header()
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = ctype
	}
	c.rw.WriteHeader(status)
	_, err := c.rw.Write(e.buf.Bytes())
	return err
}

// codingError is the 415 answer to a request body with a content coding
// (Content-Encoding: gzip, say) that nothing decoded: graft's body readers
// read bodies as they are sent, so decoding one is an extension's choice
// that removes the header once it wraps the body, and a compressed body
// never reaches a decoder as if it were plain (nor inflates past the body
// limit). RFC 9110 15.5.16 and RFC 7694: the answer says, in
// Accept-Encoding, that only identity is read.
func codingError(r *http.Request) error {
	ce := r.Header["Content-Encoding"]
	if len(ce) == 0 {
		return nil
	}
	for _, v := range ce {
		for part := range strings.SplitSeq(v, ",") {
			if p := strings.TrimSpace(part); p != "" && !strings.EqualFold(p, "identity") {
				return &HTTPError{
					Status: http.StatusUnsupportedMediaType,
					Detail: fmt.Sprintf("Content-Encoding %q is not accepted; send the body uncompressed", p),
					Header: http.Header{"Accept-Encoding": {"identity"}},
				}
			}
		}
	}
	return nil
}
