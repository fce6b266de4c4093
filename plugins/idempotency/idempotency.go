package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// HeaderName is the request header that carries the key.
const HeaderName = "Idempotency-Key"

// ReplayedHeader marks a replayed answer: "Idempotent-Replayed: true".
const ReplayedHeader = "Idempotent-Replayed"

// DocsURL is the default problem type of the plugin's 400, 409 and 422
// answers: the documentation of the plugin.
const DocsURL = "https://github.com/graftgo/graft/blob/main/docs/batteries.md#pluginsidempotency"

// Config configures the plugin. The zero value is usable: POST and PATCH
// endpoints, key optional, answers kept 24 hours in a memory store.
type Config struct {
	// Methods are the methods whose endpoints take keys (POST and PATCH
	// when empty). Endpoints of other methods are returned unchanged.
	Methods []string
	// Required makes the key mandatory: a request without one is a 400.
	// Otherwise a request without a key is served as if the plugin were
	// not there.
	Required bool
	// Store keeps the entries (a memory store with MemoryConfig's
	// defaults when nil; the Redis store for several nodes).
	Store Store
	// TTL is how long a stored answer is replayed (24 hours when zero).
	TTL time.Duration
	// LockTTL is how long an in-flight entry holds its key if its request
	// never finishes (a crashed node): after it, the key is free again
	// (one minute when zero). Keep it above the endpoint's longest run
	// (plugins/timeout bounds that): a request still running when its
	// lock expired is not stored, and a retry may run meanwhile.
	LockTTL time.Duration
	// MaxKeyLength caps the key's length in bytes (255 when zero); a
	// longer key is a 400.
	MaxKeyLength int
	// MaxBody caps the request body read for the fingerprint (the app's
	// or the route's body limit when zero, and never above it); a longer
	// body is answered 413, as the app answers a body over its limit.
	MaxBody int64
	// MaxAnswer caps the body of an answer that is stored (1 MiB when
	// zero). A larger answer is sent, not stored, and its key released.
	MaxAnswer int
	// FingerprintHeaders are request headers whose values are part of the
	// fingerprint besides the method, the path and query and the body
	// (Content-Type, say).
	FingerprintHeaders []string
	// Identity returns the identity of the request's user (a tenant, an
	// account; "" for none): part of the key's scope, so that two users
	// sending the same key never read each other's answers. It runs
	// before the request is bound (after the pre-bind hooks), so it reads
	// the request, not plugin fields.
	Identity func(c *graft.Ctx) string
	// Keep says which answers are stored, by status. Default: 2xx, 3xx
	// and 4xx except 401, 403, 408, 409, 425 and 429 (answers a client
	// may get otherwise after fixing its credentials or waiting). 5xx are
	// never stored, whatever Keep says.
	Keep func(status int) bool
	// DocsURL is the type of the plugin's problem answers (DocsURL when
	// empty).
	DocsURL string
	// Skip leaves the endpoints it returns true for alone.
	Skip func(sig *graft.Signature) bool
}

// Plugin is the idempotency plugin; make it with New.
type Plugin struct {
	cfg     Config
	err     error
	methods []string
	fpHdrs  []string
}

// New returns the plugin for cfg. A mistake in cfg stops start-up where
// the plugin is used, naming the endpoint.
func New(cfg Config) *Plugin {
	p := &Plugin{cfg: cfg}
	p.err = p.init()
	return p
}

func (p *Plugin) init() error {
	c := &p.cfg
	p.methods = c.Methods
	if len(p.methods) == 0 {
		p.methods = []string{http.MethodPost, http.MethodPatch}
	}
	for _, m := range p.methods {
		if m == "" || m != strings.ToUpper(m) {
			return fmt.Errorf("Config.Methods has %q; use upper-case method names like \"POST\"", m)
		}
	}
	switch {
	case c.TTL < 0:
		return fmt.Errorf("Config.TTL is %v; give how long answers are replayed, or 0 for 24h", c.TTL)
	case c.LockTTL < 0:
		return fmt.Errorf("Config.LockTTL is %v; give how long an unfinished request holds its key, or 0 for 1m", c.LockTTL)
	case c.MaxKeyLength < 0:
		return fmt.Errorf("Config.MaxKeyLength is %d; give the longest key in bytes, or 0 for 255", c.MaxKeyLength)
	case c.MaxBody < 0:
		return fmt.Errorf("Config.MaxBody is %d; give the longest body fingerprinted, or 0 for the body limit", c.MaxBody)
	case c.MaxAnswer < 0:
		return fmt.Errorf("Config.MaxAnswer is %d; give the longest answer body stored, or 0 for 1 MiB", c.MaxAnswer)
	}
	if c.TTL == 0 {
		c.TTL = 24 * time.Hour
	}
	if c.LockTTL == 0 {
		c.LockTTL = time.Minute
	}
	if c.LockTTL < time.Millisecond || c.TTL < time.Millisecond {
		return fmt.Errorf("Config.TTL (%v) and Config.LockTTL (%v) must be at least 1ms", c.TTL, c.LockTTL)
	}
	if c.MaxKeyLength == 0 {
		c.MaxKeyLength = 255
	}
	if c.MaxAnswer == 0 {
		c.MaxAnswer = 1 << 20
	}
	if c.Keep == nil {
		c.Keep = DefaultKeep
	}
	if c.DocsURL == "" {
		c.DocsURL = DocsURL
	}
	for i, h := range c.FingerprintHeaders {
		if h == "" || strings.ContainsAny(h, " :\r\n") {
			return fmt.Errorf("Config.FingerprintHeaders[%d] is %q, not a header name", i, h)
		}
		p.fpHdrs = append(p.fpHdrs, textproto.CanonicalMIMEHeaderKey(h))
	}
	if c.Store == nil {
		s, err := NewMemoryStore(MemoryConfig{})
		if err != nil {
			return err
		}
		c.Store = s
	}
	return nil
}

// DefaultKeep is Config.Keep's default: 2xx, 3xx and 4xx answers are
// stored, except 401, 403, 408, 409, 425 and 429.
func DefaultKeep(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout,
		http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return status >= 200 && status < 500
}

var problemType = reflect.TypeFor[graft.Problem]()

// Apply is the plugin: endpoints of Methods get the Idempotency-Key
// header param, the 400, 409, 422 and 503 answers in their signature, and
// endpoint middleware that stores and replays their answers. Others are
// returned unchanged.
func (p *Plugin) Apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	if p.err != nil {
		return nil, p.err
	}
	if !slices.Contains(p.methods, sig.Method) || p.cfg.Skip != nil && p.cfg.Skip(sig) {
		return next, nil
	}
	if !slices.ContainsFunc(sig.HeaderParams, func(q graft.Param) bool { return strings.EqualFold(q.Name, HeaderName) }) {
		n := p.cfg.MaxKeyLength
		sig.AddParam(graft.Param{
			Name: HeaderName, In: graft.InHeader, Type: reflect.TypeFor[string](), Required: p.cfg.Required,
			Doc: "a unique key (a UUID) that makes retries of this request safe: the first answer is stored and replayed " +
				"(with " + ReplayedHeader + ": true) to a retry with the same key and payload; a Structured Field string, e.g. \"8e03978e-40d5-43e8-bc93-6894a57f9324\"",
			Constraints: graft.Constraints{MaxLength: &n},
		})
	}
	addReturn(sig, http.StatusBadRequest, "the Idempotency-Key is missing or malformed")
	addReturn(sig, http.StatusConflict, "a request with this Idempotency-Key is still in flight")
	addReturn(sig, http.StatusUnprocessableEntity, "the Idempotency-Key was used for another payload")
	addReturn(sig, http.StatusServiceUnavailable, "the idempotency store failed")
	scope := sig.Method + " " + sig.Route
	sig.Use(func(h graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error { return p.serve(c, h, scope) }
	})
	return next, nil
}

// addReturn adds a problem answer, joining the description of one the
// signature has for the status already (the binder's 422).
func addReturn(sig *graft.Signature, status int, desc string) {
	for _, r := range sig.Returns {
		if r.Status == status {
			if r.Description != "" && !strings.Contains(r.Description, desc) {
				desc = r.Description + "; or " + desc
			}
			break
		}
	}
	sig.AddReturn(graft.Return{Status: status, Type: problemType, MediaType: "application/problem+json", Encoder: "problem", Description: desc})
}

func (p *Plugin) problem(status int, title, detail string) error {
	return &graft.HTTPError{Status: status, Type: p.cfg.DocsURL, Title: title, Detail: detail}
}

// The draft's error shapes.
func (p *Plugin) missing() error {
	return p.problem(http.StatusBadRequest, "Idempotency-Key is missing",
		"This operation is idempotent and it requires correct usage of Idempotency Key: send the header "+HeaderName+": \"KEY\" with a unique key (a UUID) per operation, and the same key on its retries.")
}

func (p *Plugin) malformed(why string) error {
	return p.problem(http.StatusBadRequest, "Idempotency-Key is malformed", why+".")
}

func (p *Plugin) reused() error {
	return p.problem(http.StatusUnprocessableEntity, "Idempotency-Key is already used",
		"This operation is idempotent and it requires correct usage of Idempotency Key. Idempotency Key MUST not be reused across different payloads of this operation.")
}

func (p *Plugin) inFlight() error {
	return p.problem(http.StatusConflict, "A request is outstanding for this Idempotency-Key",
		"A request with the same Idempotency-Key is still being processed; retry after it finished to get its answer.")
}

func (p *Plugin) storeFailed(err error) error {
	return &graft.HTTPError{Status: http.StatusServiceUnavailable, Detail: "the idempotency store is not available; retry later", Err: err}
}

// request is the per-request state of a first request: the body read for
// the fingerprint (served to the handler from here) and the recorder of
// the answer. Pooled.
type request struct {
	body    []byte
	off     int
	rec     recorder
	preset  []string
	scratch []byte
}

var requests = sync.Pool{New: func() any { return new(request) }}

// Read serves the body to the handler.
func (r *request) Read(b []byte) (int, error) {
	if r.off >= len(r.body) {
		return 0, io.EOF
	}
	n := copy(b, r.body[r.off:])
	r.off += n
	return n, nil
}

// Close implements io.Closer; the server closes the original body.
func (r *request) Close() error { return nil }

const maxPooled = 64 << 10

func (r *request) release() {
	if cap(r.body) > maxPooled {
		r.body = nil
	}
	if cap(r.rec.body) > maxPooled {
		r.rec.body = nil
	}
	r.body, r.off = r.body[:0], 0
	r.rec = recorder{body: r.rec.body[:0]}
	r.preset = r.preset[:0]
	r.scratch = r.scratch[:0]
	requests.Put(r)
}

var digests = sync.Pool{New: func() any { return sha256.New() }}

// serve is the endpoint middleware.
func (p *Plugin) serve(c *graft.Ctx, next graft.HandlerFunc, scope string) error {
	vs := c.Request.Header[HeaderName]
	if len(vs) == 0 {
		if p.cfg.Required {
			return p.missing()
		}
		return next(c)
	}
	if len(vs) > 1 {
		return p.malformed("the request has " + strconv.Itoa(len(vs)) + " Idempotency-Key headers; send one")
	}
	key, why := ParseKey(vs[0], p.cfg.MaxKeyLength)
	if why != "" {
		return p.malformed(why)
	}
	rq := requests.Get().(*request)
	defer rq.release()
	if err := p.readBody(c, rq); err != nil {
		return err
	}
	fp := p.fingerprint(c, rq)
	rq.scratch = append(append(append(append(rq.scratch[:0], scope...), '\n'), key...), '\n')
	if p.cfg.Identity != nil {
		rq.scratch = append(rq.scratch, p.cfg.Identity(c)...)
	}
	skey := string(rq.scratch)
	token := rand.Text()
	e, err := p.cfg.Store.Begin(c.Context(), skey, fp, token, p.cfg.LockTTL)
	if err != nil {
		return p.storeFailed(err)
	}
	switch e.State {
	case Done:
		if e.Fingerprint != fp {
			return p.reused()
		}
		return replay(c, e.Answer)
	case InFlight:
		if e.Fingerprint != fp {
			return p.reused()
		}
		return p.inFlight()
	case Claimed:
	default:
		return p.storeFailed(fmt.Errorf("idempotency: the store's Begin answered state %v", e.State))
	}
	return p.run(c, next, rq, skey, token)
}

// run serves a first request, capturing its answer, and stores or
// releases its key.
func (p *Plugin) run(c *graft.Ctx, next graft.HandlerFunc, rq *request, skey, token string) (err error) {
	inner := c.SwapWriter(nil)
	for k := range inner.Header() { // set by the layers outside: theirs on every answer, never stored
		rq.preset = append(rq.preset, k)
	}
	rq.rec.w, rq.rec.max, rq.rec.preset = inner, p.cfg.MaxAnswer, rq.preset
	c.SwapWriter(&rq.rec)
	origBody := c.Request.Body
	c.Request.Body = rq
	done := false
	defer func() {
		c.SwapWriter(inner)
		c.Request.Body = origBody
		if !done { // next panicked through (http.ErrAbortHandler)
			p.release(c, skey, token)
		}
	}()
	err = next(c)
	done = true
	r := &rq.rec
	if r.status == 0 || r.status >= 500 || r.flushed || r.over || !p.cfg.Keep(r.status) {
		p.release(c, skey, token)
		return err
	}
	a := &Answer{Status: r.status, Header: r.header, Body: slices.Clone(r.body)}
	if a.Body == nil {
		a.Body = []byte{}
	}
	if bodyAllowed(a.Status) {
		a.Header["Content-Length"] = []string{strconv.Itoa(len(a.Body))} // stored: a replay writes it without a conversion
	}
	if serr := p.cfg.Store.Complete(context.WithoutCancel(c.Context()), skey, token, a, p.cfg.TTL); serr != nil {
		c.Logger().Error("idempotency: storing the answer failed; a retry will run the handler again", slog.String("route", c.RoutePattern()), slog.Any("error", serr))
		if !errors.Is(serr, ErrLockLost) {
			p.release(c, skey, token)
		}
	}
	return err
}

func (p *Plugin) release(c *graft.Ctx, skey, token string) {
	if err := p.cfg.Store.Release(context.WithoutCancel(c.Context()), skey, token); err != nil {
		c.Logger().Error("idempotency: releasing the key failed; it stays locked until Config.LockTTL", slog.String("route", c.RoutePattern()), slog.Any("error", err))
	}
}

// readBody reads the whole body into rq, bounded by the body limit (and
// MaxBody): over it, the app's 413.
func (p *Plugin) readBody(c *graft.Ctx, rq *request) error {
	limit := c.BodyLimit()
	if p.cfg.MaxBody > 0 && p.cfg.MaxBody < limit {
		limit = p.cfg.MaxBody
	}
	r := c.Request
	if r.ContentLength > limit {
		return &graft.HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit)}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if r.ContentLength > 0 && int64(cap(rq.body)) <= r.ContentLength {
		rq.body = make([]byte, 0, r.ContentLength+1) // +1: the read that finds the end needs room
	}
	b := rq.body[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			rq.body = b[:0]
			return &graft.HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body exceeds the limit of %d bytes", limit)}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rq.body = b[:0]
			return &graft.HTTPError{Status: http.StatusBadRequest, Detail: "reading the request body failed: " + err.Error(), Err: err}
		}
	}
	rq.body = b
	return nil
}

// fingerprint digests the method, the path and query, the headers of
// FingerprintHeaders and the body, each ended by a separator or length so
// that no two requests share an encoding.
func (p *Plugin) fingerprint(c *graft.Ctx, rq *request) Fingerprint {
	h := digests.Get().(hash.Hash)
	h.Reset()
	r := c.Request
	s := rq.scratch[:0]
	s = append(s, r.Method...)
	s = append(s, 0)
	s = append(s, r.URL.Path...)
	s = append(s, 0)
	s = append(s, r.URL.RawQuery...)
	s = append(s, 0)
	for _, name := range p.fpHdrs {
		for _, v := range r.Header[name] {
			s = strconv.AppendInt(s, int64(len(v)), 10)
			s = append(s, ':')
			s = append(s, v...)
		}
		s = append(s, 0)
	}
	s = strconv.AppendInt(s, int64(len(rq.body)), 10)
	s = append(s, 0)
	h.Write(s)
	h.Write(rq.body)
	var fp Fingerprint
	s = h.Sum(s[:0]) // into the scratch: a Sum into fp would move fp to the heap
	copy(fp[:], s)
	digests.Put(h)
	rq.scratch = s[:0]
	return fp
}

// replay writes a stored answer through the Ctx (its header hooks and
// response wrappers run as for any answer), marked as a replay.
func replay(c *graft.Ctx, a *Answer) error {
	w := c.Response()
	h := w.Header()
	for k, v := range a.Header {
		h[k] = v
	}
	h[ReplayedHeader] = replayedTrue
	if _, ok := a.Header["Content-Length"]; !ok && bodyAllowed(a.Status) {
		h["Content-Length"] = []string{strconv.Itoa(len(a.Body))}
	}
	w.WriteHeader(a.Status)
	if len(a.Body) > 0 {
		_, _ = w.Write(a.Body)
	}
	return nil
}

var replayedTrue = []string{"true"}

// bodyAllowed reports whether an answer of status may have a body (and a
// Content-Length): not 204 or 304 (RFC 9110 8.6).
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

var (
	_ graft.Plugin  = (*Plugin)(nil)
	_ io.ReadCloser = (*request)(nil)
)
