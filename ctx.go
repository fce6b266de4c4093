package graft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Ctx is the per-request context handed to handlers and middleware. It is
// pooled: the app acquires one per request, resets it, and returns it to the
// pool when the handler returns, so a handler must not keep it (or anything
// it returns that aliases it) after returning.
//
// Apps that want extension methods declare their own context type that
// embeds Ctx and the extensions' mixins (see New and docs/extensions.md).
type Ctx struct {
	// Request is the incoming request, or the copy of it that carries a
	// context set with SetContext.
	Request *http.Request

	orig      *http.Request // the request as the server handed it, for DetachedContext
	rw        responseWriter
	params    params
	route     *route
	pnames    []string // route.paramNames, copied at dispatch for Param
	app       *core
	self      unsafe.Pointer // the app's context value that embeds this Ctx
	path      string         // the path the router matched (escaped form when it holds %2F)
	query     url.Values
	props     Props      // extension properties
	resetters []Resetter // stateful mixins of the app's context type
	carrier   ctxCarrier
	// reqs are the request copies SetContext made, kept for the next
	// requests; nreq of them are in use by this one.
	reqs []*http.Request
	nreq int
	// start is StartTime's reading, zero until the first call.
	start  time.Time
	panicH PanicHandler // the running endpoint's (Signature.OnPanic), or nil
}

// base returns the Ctx itself; through embedding it lets the app find the
// Ctx inside its own context type.
func (c *Ctx) base() *Ctx { return c }

// properties returns the property slots of this request.
// Properties returns the context's property slots (see Property and
// Holder).
func (c *Ctx) Properties() *Props { return &c.props }

// Context returns the request's context.Context.
func (c *Ctx) Context() context.Context { return c.Request.Context() }

// maxRequestCopies caps the request copies a pooled Ctx keeps for
// SetContext; calls beyond it in one request allocate, as WithContext does.
const maxRequestCopies = 4

// SetContext makes ctx the request's context for what runs after it: the
// middleware and handlers further in, and the code after the call, see it
// in c.Context(), c.Request.Context() and a typed endpoint's ctx. It does
// what c.Request = c.Request.WithContext(ctx) does, without the
// allocation: the new c.Request is a copy of the request held by the
// pooled Ctx (up to four per request; more calls allocate). Each call
// makes a distinct copy, so middleware that saved c.Request and puts it
// back afterwards gets its own request back, with its own context. It
// panics for a nil ctx, as WithContext does.
//
// Middleware that derives a context per request (a tracing span, a
// request id, a deadline) uses it. The copy belongs to the request, as the
// Ctx does: it is cleared when the request ends, so do not keep c.Request
// after the handler returns; a context is safe to keep (it is not pooled).
func (c *Ctx) SetContext(ctx context.Context) {
	if c.nreq == len(c.reqs) {
		if len(c.reqs) == maxRequestCopies {
			c.Request = c.Request.WithContext(ctx)
			return
		}
		c.reqs = append(c.reqs, new(http.Request))
	}
	r := c.reqs[c.nreq]
	c.nreq++
	// WithContext is inlined: its new Request stays on the stack.
	*r = *c.Request.WithContext(ctx)
	c.Request = r
}

// Response returns the http.ResponseWriter of this request. It records the
// status and size, and supports Flush, Hijack and http.ResponseController.
func (c *Ctx) Response() http.ResponseWriter { return &c.rw }

// SwapWriter makes w the writer below the Ctx's own for the rest of the
// request (or until swapped back) and returns the one it replaces: the
// server's, or a WrapResponse extension's. The Ctx's writer keeps
// counting the status and bytes and running the response-header hooks
// before it hands them to w; Header returns w's header map. Middleware
// that guards or captures an answer (plugins/timeout, plugins/cache)
// wraps the returned writer in w, lets the handler answer, and swaps the
// old one back.
func (c *Ctx) SwapWriter(w http.ResponseWriter) http.ResponseWriter {
	old := c.rw.w
	c.rw.w = w
	return old
}

// StatusCode returns the status written so far, or 0 if none was. In
// extension middleware, after next returns, it is the final status (see
// Builder.Use).
func (c *Ctx) StatusCode() int { return c.rw.status }

// Written reports whether the response status has been sent (an
// informational 1xx status does not count: the final one is still to come).
func (c *Ctx) Written() bool { return c.rw.wrote }

// BytesWritten returns the number of body bytes handlers wrote so far,
// before any WrapResponse writer (a compressor) transformed them.
func (c *Ctx) BytesWritten() int64 { return c.rw.size }

// StartTime returns when the timing of the request began: the clock
// reading of the first StartTime call in the request, made by that call
// (graft reads no clock for a request nothing times). Extensions that time
// requests call it as their middleware starts, so that the outermost one
// reads the clock and the others share its reading: the access log and
// the duration metric then measure from the same instant, for one clock
// read. It has a monotonic reading: time.Since(c.StartTime()) is the time
// taken so far.
func (c *Ctx) StartTime() time.Time {
	if c.start.IsZero() {
		c.start = time.Now()
	}
	return c.start
}

// RoutePattern returns the pattern of the matched route, e.g. "/users/{id}",
// or "" when no route matched.
func (c *Ctx) RoutePattern() string {
	if c.route == nil {
		return ""
	}
	return c.route.pattern
}

// Logger returns the app's logger.
func (c *Ctx) Logger() *slog.Logger { return c.app.logger }

// Param returns the value of the path wildcard name, percent-decoded, or ""
// if the route has no such wildcard.
func (c *Ctx) Param(name string) string {
	// Small enough to inline: the names of the matched route are copied
	// into the Ctx at dispatch, where the values of a raw path are decoded.
	for i, n := range c.pnames {
		if n == name {
			return c.params.vals[i]
		}
	}
	return ""
}

// Query returns the first value of the query parameter name, or "". It scans
// the raw query without building a map.
func (c *Ctx) Query(name string) string {
	if c.query != nil {
		return c.query.Get(name)
	}
	v, _ := lookupQuery(c.Request.URL.RawQuery, name)
	return v
}

// QueryValues returns all query parameters, parsed once per request.
// Malformed pairs are skipped, as url.ParseQuery does.
func (c *Ctx) QueryValues() url.Values {
	if c.query == nil {
		c.query, _ = url.ParseQuery(c.Request.URL.RawQuery)
	}
	return c.query
}

// lookupQuery finds the first value of key in a raw query string.
func lookupQuery(raw, key string) (string, bool) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k != key {
			if !strings.ContainsAny(k, "%+") {
				continue
			}
			if uk, ok := unescapeQuery(k); !ok || uk != key {
				continue
			}
		}
		// A pair that does not decode is skipped, as url.ParseQuery does,
		// so Query and QueryValues agree.
		if uv, ok := unescapeQuery(v); ok {
			return uv, true
		}
	}
	return "", false
}

func unescapeQuery(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

// Header returns the first value of the request header name.
func (c *Ctx) Header(name string) string { return c.Request.Header.Get(name) }

// Cookie returns the value of the request cookie name and whether it was sent.
func (c *Ctx) Cookie(name string) (string, bool) {
	ck, err := c.Request.Cookie(name)
	if err != nil {
		return "", false
	}
	return ck.Value, true
}

// SetCookie adds a Set-Cookie header to the response.
func (c *Ctx) SetCookie(ck *http.Cookie) { http.SetCookie(&c.rw, ck) }

// SetHeader sets a response header.
func (c *Ctx) SetHeader(name, value string) { c.rw.Header().Set(name, value) }

// Status sends the status line with no body; use it after setting headers
// when the handler writes the body through Response. An informational
// status (103 Early Hints, say) goes out at once with the headers set so
// far, and the handler then writes the final status as usual.
func (c *Ctx) Status(code int) { c.rw.WriteHeader(code) }

// NoContent answers 204 No Content.
func (c *Ctx) NoContent() error {
	c.rw.WriteHeader(http.StatusNoContent)
	return nil
}

// Text answers with a text/plain body.
func (c *Ctx) Text(status int, s string) error {
	h := c.rw.Header()
	h["Content-Type"] = textPlain
	setLength(h, len(s))
	c.rw.WriteHeader(status)
	_, err := c.rw.WriteString(s)
	return err
}

// setLength sets Content-Length for bodies net/http would otherwise send
// chunked; for small bodies written at once net/http computes it itself, so
// graft skips the header allocation there.
func setLength(h http.Header, n int) {
	if n > smallBody {
		h["Content-Length"] = []string{strconv.Itoa(n)}
	}
}

// smallBody is net/http's response buffer size, below which a body written
// in one go gets its Content-Length from the server.
const smallBody = 2048

var (
	textPlain = []string{"text/plain; charset=utf-8"}
	appJSON   = []string{"application/json"}
)

// Bytes answers with body b and the given content type.
func (c *Ctx) Bytes(status int, contentType string, b []byte) error {
	h := c.rw.Header()
	h.Set("Content-Type", contentType)
	setLength(h, len(b))
	c.rw.WriteHeader(status)
	_, err := c.rw.Write(b)
	return err
}

// JSON answers with v encoded as JSON. An encoding error is returned before
// anything is written, so the error handler can still answer 500.
func (c *Ctx) JSON(status int, v any) error {
	if cd := c.codecTable(); cd.customJSON {
		return writeJSONWith(c, cd.jsonEnc, status, v, appJSON, true)
	}
	e := jsonEncPool.Get().(*jsonEnc)
	defer e.release()
	var b []byte
	if plan, p := fastEncFor(v); plan != nil {
		if out, ok := plan.appendJSON(e.buf.AvailableBuffer(), p); ok {
			e.buf.Write(out) // in place when it fit
			b = e.buf.Bytes()
		}
	}
	if b == nil {
		if err := e.enc.Encode(v); err != nil {
			return fmt.Errorf("graft: encoding JSON response: %w", err)
		}
		b = e.buf.Bytes()
		b = b[:len(b)-1] // the newline Encode adds, which json.Marshal does not
	}
	h := c.rw.Header()
	h["Content-Type"] = appJSON
	setLength(h, len(b))
	c.rw.WriteHeader(status)
	_, err := c.rw.Write(b)
	return err
}

// Stream answers with the bytes read from r, flushing after every read so
// that the client sees data as it is produced (server-sent events, logs).
func (c *Ctx) Stream(status int, contentType string, r io.Reader) error {
	c.rw.Header().Set("Content-Type", contentType)
	c.rw.WriteHeader(status)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := c.rw.Write(buf[:n]); werr != nil {
				return werr
			}
			c.rw.Flush()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Redirect answers with a redirect to url; status must be a 3xx code.
func (c *Ctx) Redirect(status int, url string) error {
	if status < 300 || status > 399 {
		return fmt.Errorf("graft: redirect status %d is not 3xx", status)
	}
	http.Redirect(&c.rw, c.Request, url, status)
	return nil
}

// BodyLimit returns the maximum request body size for this request.
func (c *Ctx) BodyLimit() int64 {
	if c.route != nil && c.route.bodyLimit != 0 {
		return c.route.bodyLimit
	}
	return c.app.cfg.bodyLimit()
}

// Body reads the whole request body, bounded by the body limit. A body over
// the limit is a 413 error, a body with a Content-Encoding other than
// identity (that no extension decoded) a 415 error, and a truncated or
// failed read a 400 error.
func (c *Ctx) Body() ([]byte, error) {
	if err := codingError(c.Request); err != nil && c.Request.Body != nil && c.Request.Body != http.NoBody {
		return nil, err
	}
	limit := c.BodyLimit()
	if c.Request.ContentLength > limit {
		return nil, &HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", c.Request.ContentLength, limit)}
	}
	r := http.MaxBytesReader(c.rw.w, c.Request.Body, limit)
	b, err := io.ReadAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body exceeds the limit of %d bytes", limit), Err: err}
		}
		return nil, &HTTPError{Status: http.StatusBadRequest, Detail: "reading the request body failed: " + err.Error(), Err: err}
	}
	return b, nil
}

// BindJSON decodes the JSON request body into v. It answers (through the
// returned *HTTPError) 415 when the Content-Type is set and not JSON, 413 when
// the body is over the limit, and 400 when it is empty, truncated or
// malformed, has data after the JSON value, or has fields v lacks while
// Config.DisallowUnknownFields is set.
//
// The body is read into a pooled buffer and decoded by a pooled decoder;
// both go back to their pools holding nothing of the request (see
// decodeJSON), and encoding/json copies every value it stores into v, so v
// keeps no reference to the buffer.
func (c *Ctx) BindJSON(v any) error {
	if ct := headerValue(c.Request.Header, "Content-Type"); ct != "" && !isJSONMediaType(ct) {
		return &HTTPError{Status: http.StatusUnsupportedMediaType, Detail: fmt.Sprintf("Content-Type %q is not JSON; send application/json", ct)}
	}
	buf := bufPool.Get().(*bytes.Buffer)
	err := readBody(c.Request, buf, c.BodyLimit())
	if err == nil {
		err = DecodeJSON(buf.Bytes(), v, c.app.cfg.DisallowUnknownFields)
	}
	if buf.Cap() <= maxPooledBuf {
		buf.Reset()
		bufPool.Put(buf)
	}
	return err
}

// DecodeJSON decodes b into v, turning decoding failures into 400 errors
// that say where the input went wrong. b must hold exactly one JSON value
// (surrounding whitespace allowed).
func DecodeJSON(b []byte, v any, disallowUnknown bool) error {
	if len(b) == 0 {
		return &HTTPError{Status: http.StatusBadRequest, Detail: "the request body is empty; send a JSON document"}
	}
	// A plain struct target takes the compiled plan when the whole body is
	// on its road (checked before anything is stored, so a target that
	// had values keeps them when encoding/json decodes instead).
	if d, p := fastDecFor(v); d != nil && d.valid(b) {
		d.decode(b, p)
		return nil
	}
	err := decodeJSON(b, v, disallowUnknown)
	if err == nil {
		return nil
	}
	if he, ok := err.(*HTTPError); ok {
		return he
	}
	return jsonError(err)
}

func jsonError(err error) *HTTPError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &HTTPError{Status: http.StatusBadRequest, Detail: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se), Err: err}
	case errors.As(err, &te):
		loc := "body"
		if te.Field != "" {
			loc += "." + te.Field
		}
		return &HTTPError{Status: http.StatusBadRequest, Detail: fmt.Sprintf("%s: expected %s, got JSON %s", loc, te.Type, te.Value), Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &HTTPError{Status: http.StatusBadRequest, Detail: "the JSON body is truncated", Err: err}
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return &HTTPError{Status: http.StatusBadRequest, Detail: strings.TrimPrefix(err.Error(), "json: ") + " is not allowed", Err: err}
	}
	return &HTTPError{Status: http.StatusBadRequest, Detail: "invalid JSON body: " + err.Error(), Err: err}
}

// isJSONMediaType reports whether the Content-Type ct is JSON. The common
// spellings are matched without parsing (mime.ParseMediaType allocates).
func isJSONMediaType(ct string) bool {
	switch ct {
	case "application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8":
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// ctxCarrier is a context.Context that carries the Ctx, so that a standard
// func(http.Handler) http.Handler middleware hands it back to graft.
type ctxCarrier struct {
	context.Context
	c *Ctx
}

type ctxKey struct{}

func (cc *ctxCarrier) Value(k any) any {
	if k == (ctxKey{}) {
		return cc.c
	}
	return cc.Context.Value(k)
}

// FromContext returns the Ctx of the request whose context is ctx, when the
// request went through a standard net/http middleware mounted with
// HTTPMiddleware: it is how such a middleware reaches graft. Otherwise it
// returns nil, in typed handlers too: their ctx is the request's own
// context, because a context that carried the pooled Ctx would outlive the
// request in whatever goroutine keeps it (context.WithoutCancel) and see
// the next request's. A typed handler takes the Ctx with an inject field
// instead (a field "C *graft.Ctx" tagged inject, or a pointer to the app's own
// context type), which costs nothing per request; see docs/endpoints.md.
func FromContext(ctx context.Context) *Ctx {
	c, _ := ctx.Value(ctxKey{}).(*Ctx)
	return c
}

// reset prepares the Ctx for a new request.
// The rest of its state was cleared by release (or is zero in a new Ctx).
func (c *Ctx) reset(w http.ResponseWriter, r *http.Request) {
	c.Request, c.orig = r, r
	c.rw.reset(w)
}

// release clears references so that a pooled Ctx keeps nothing alive.
func (c *Ctx) release() {
	c.Request, c.orig = nil, nil
	c.rw.w = nil
	c.route = nil
	c.pnames = nil
	c.query = nil
	c.path = ""
	// A loop, not clear: routes have few wildcards, and clear's call
	// costs more than the stores.
	for i := range min(c.params.n, maxParams) {
		c.params.vals[i] = ""
	}
	c.params.n = 0
	c.params.dot = false
	c.carrier.Context = nil
	for _, r := range c.reqs[:c.nreq] {
		*r = http.Request{}
	}
	c.nreq = 0
	c.start = time.Time{}
	c.panicH = nil
	c.props.Reset()
	for _, r := range c.resetters {
		r.ResetState()
	}
}
