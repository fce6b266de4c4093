package graft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// DefaultStreamKeepAlive is how long an event stream may stay silent
// before graft sends a keep-alive comment, unless WithStreamKeepAlive says
// otherwise.
const DefaultStreamKeepAlive = 15 * time.Second

const mediaSSE = "text/event-stream"

var (
	hdrSSE     = []string{mediaSSE}
	hdrNoCache = []string{"no-cache"}
	hdrNo      = []string{"no"}
)

// StreamHandler is the shape of a server-sent events endpoint: it gets the
// bound, validated input like a typed handler and sends events on s until
// it returns. ctx ends when the client goes away or the app shuts down.
type StreamHandler[In, E any] func(ctx context.Context, in *In, s *Stream[E]) error

// SSE registers a GET (and HEAD) endpoint that answers a stream of
// server-sent events (text/event-stream) whose data are values of type E:
// a string or []byte is sent as it is (one data line per line), anything
// else as JSON. In is bound and validated as for Get, with the same
// dependencies and plugins; bind `header:"Last-Event-ID"` to resume after
// a reconnect, or read Stream.LastEventID.
//
// The stream opens (status 200 and headers) with the first event, the
// first keep-alive or Stream.Open: until then the handler may still
// return an error or a declared outcome (Respond), answered as for any
// typed endpoint. After it opened, a returned error ends the stream and
// goes to the error handler, which can only log it. Each event is flushed
// at once; once per keep-alive interval (WithStreamKeepAlive, default
// 15 s) a comment is sent if nothing else was. The handler's ctx is
// cancelled when the client disconnects or the app shuts down, and Send
// then fails, so the handler returns. The signature's default return has
// the media type text/event-stream, the encoder "sse" and the type E.
func SSE[In, E any](r Router, pattern string, h StreamHandler[In, E], opts ...Option) *Route {
	full := r.routerScope().prefix + pattern
	if h == nil {
		setupPanic("endpoint GET %s: handler is nil", full)
	}
	et := reflect.TypeFor[E]()
	kind := eventJSON
	switch {
	case et == typeBytes:
		kind = eventBytes
	case et.Kind() == reflect.String:
		kind = eventString
	case et.Kind() == reflect.Interface:
		setupPanic("endpoint GET %s: event type %s is an interface, which the signature cannot describe; use a concrete type", full, et)
	case et.Kind() == reflect.Func || et.Kind() == reflect.Chan || et.Kind() == reflect.UnsafePointer:
		setupPanic("endpoint GET %s: event type %s cannot be encoded; use a string, []byte or a type encoding/json can marshal", full, et)
	}
	var plan *fastEnc // JSON data of a plain struct, written without encoding/json
	if kind == eventJSON && !customJSONEncoding(et) {
		plan = compileFastEnc(et)
	}
	var ep *endpoint
	every := DefaultStreamKeepAlive
	body := &outBody{typ: et, kind: bodySSE, media: mediaSSE, encoder: "sse", ctype: hdrSSE}
	body.stream = func(c *Ctx, _ int, bp unsafe.Pointer) error {
		o := (*sseOut[In, E])(bp)
		ctx, cancel := context.WithCancel(o.ctx)
		defer cancel()
		defer context.AfterFunc(c.app.streams.context(), cancel)()
		s := &o.s
		s.start(ctx, c, kind, every)
		s.plan = plan
		if c.Request.Method == http.MethodHead {
			return s.finish(ep, nil)
		}
		return s.finish(ep, h(ctx, o.in, s))
	}
	op := &outPlan{typ: reflect.TypeFor[sseOut[In, E]](), defStatus: http.StatusOK, body: body}
	adapt := func(ctx context.Context, in *In) (*sseOut[In, E], error) {
		return &sseOut[In, E]{ctx: ctx, in: in}, nil
	}
	ri, e := registerPlan(r, http.MethodGet, pattern, adapt, handlerName(h), op, opts)
	ep = e
	ep.sig.Out = reflect.TypeFor[Stream[E]]()
	ep.sig.Returns[0].Description = "a stream of server-sent events"
	if d, ok := streamKeepAlive(ri); ok {
		every = d
	}
	return ri
}

// WithStreamKeepAlive sets the keep-alive interval of the event streams
// (SSE) of a group or one endpoint: once per interval a comment is sent if
// nothing else was, which keeps proxies from closing an idle stream; 0 or
// less sends none.
func WithStreamKeepAlive(d time.Duration) Option {
	return func(s *settings) { s.keepAlive, s.hasKeepAlive = d, true }
}

// streamKeepAlive finds the innermost WithStreamKeepAlive of the route.
func streamKeepAlive(ri *Route) (time.Duration, bool) {
	if ri.rt.hasKeepAlive {
		return ri.rt.keepAlive, true
	}
	for s := ri.rt.sc; s != nil; s = s.parent {
		if s.hasKeepAlive {
			return s.keepAlive, true
		}
	}
	return 0, false
}

// sseOut is the Out of an SSE endpoint: what the stream needs once the
// input is bound, with the stream itself, in one allocation.
type sseOut[In, E any] struct {
	ctx context.Context
	in  *In
	s   Stream[E]
}

// Event is one server-sent event with its optional fields.
type Event[E any] struct {
	// ID is sent as the event's id; the client sends the last one it saw
	// as the Last-Event-ID header when it reconnects. It must not hold a
	// line break or NUL.
	ID string
	// Name is the event type (the event field); empty means "message". It
	// must not hold a line break.
	Name string
	// Retry, when positive, tells the client how long to wait before it
	// reconnects (whole milliseconds).
	Retry time.Duration
	// Data is the event's payload.
	Data E
}

// eventKind says how event data are written.
type eventKind uint8

const (
	eventJSON eventKind = iota
	eventString
	eventBytes
)

// Stream sends the events of one SSE response. Its methods are safe for
// concurrent use; after the handler returned they fail.
type Stream[E any] struct {
	mu      sync.Mutex
	ctx     context.Context
	c       *Ctx
	rc      *http.ResponseController
	flush   func() error // the writer's flush, found once (see flusher)
	kind    eventKind
	buf     bytes.Buffer
	plan    *fastEnc      // writes JSON data as encoding/json does, nil if it cannot
	enc     *json.Encoder // for the data plan does not write, made on first use
	scratch E             // the value being encoded, so encoding it does not allocate
	lastID  string
	open    bool
	done    bool
	err     error // the first write error; later sends return it
	every   time.Duration
	wrote   bool // since the last keep-alive tick (cheaper than a clock read per event)
	timer   *time.Timer
}

var errStreamEnded = errors.New("graft: the event stream ended: its handler returned")

// start prepares the stream for the request c.
func (s *Stream[E]) start(ctx context.Context, c *Ctx, kind eventKind, every time.Duration) {
	s.ctx, s.c, s.kind, s.every = ctx, c, kind, every
	s.rc = http.NewResponseController(c.rw.w)
	s.flush = flusher(c.rw.w, s.rc)
	if v := c.Request.Header["Last-Event-Id"]; len(v) > 0 { // canonical key: Get would allocate
		s.lastID = v[0]
	}
	if every > 0 {
		// Under the lock: keepAlive takes it first, so a timer that fires
		// before AfterFunc returned (a short interval on a busy machine)
		// still finds s.timer set.
		s.mu.Lock()
		s.timer = time.AfterFunc(every, s.keepAlive)
		s.mu.Unlock()
	}
}

// LastEventID returns the Last-Event-ID header of the request: the id of
// the last event the client saw before it reconnected, or "".
func (s *Stream[E]) LastEventID() string { return s.lastID }

// Send sends one event whose data is data.
func (s *Stream[E]) Send(data E) error { return s.SendEvent(Event[E]{Data: data}) }

// SendEvent sends one event with its id, name and retry fields. It fails
// once the client went away (the context's error), after a write failed,
// and after the handler returned; an id or name with a line break is an
// error and sends nothing.
func (s *Stream[E]) SendEvent(ev Event[E]) error {
	if hasLineBreak(ev.ID, true) || hasLineBreak(ev.Name, false) {
		return fmt.Errorf("graft: event id %q or name %q holds a line break or NUL", ev.ID, ev.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	b := &s.buf
	b.Reset()
	field(b, "id: ", ev.ID)
	field(b, "event: ", ev.Name)
	if ev.Retry > 0 {
		b.WriteString("retry: ")
		b.Write(strconv.AppendInt(b.AvailableBuffer(), ev.Retry.Milliseconds(), 10))
		b.WriteByte('\n')
	}
	switch s.kind {
	case eventString:
		dataLines(b, *(*string)(unsafe.Pointer(&ev.Data)))
	case eventBytes:
		d := *(*[]byte)(unsafe.Pointer(&ev.Data))
		dataLines(b, unsafe.String(unsafe.SliceData(d), len(d)))
	default:
		b.WriteString("data: ")
		s.scratch = ev.Data
		err := s.encode()
		var zero E
		s.scratch = zero
		if err != nil {
			return fmt.Errorf("graft: encoding event data: %w", err)
		}
	}
	b.WriteByte('\n')
	return s.write()
}

// encode appends s.scratch to the buffer as one line of JSON (JSON
// escapes line breaks) ending in a newline: through the plan when it
// writes the value, else through encoding/json.
func (s *Stream[E]) encode() error {
	b := &s.buf
	if s.plan != nil {
		if out, ok := s.plan.appendJSON(b.AvailableBuffer(), unsafe.Pointer(&s.scratch)); ok {
			b.Write(out) // in place when it fit
			return b.WriteByte('\n')
		}
	}
	if s.enc == nil {
		s.enc = json.NewEncoder(b)
	}
	return s.enc.Encode(&s.scratch)
}

// hasLineBreak reports whether s holds a CR or LF (or, with nul, a NUL):
// a loop, as event ids and names are short.
func hasLineBreak(s string, nul bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\n' || c == '\r' || nul && c == 0 {
			return true
		}
	}
	return false
}

// flusher returns the flush of w, found once for the stream as
// http.ResponseController finds it per call (FlushError, else Flush, else
// the writer Unwrap returns); rc's when the chain has none, which says
// http.ErrNotSupported.
func flusher(w http.ResponseWriter, rc *http.ResponseController) func() error {
	for range 100 { // bounded: an Unwrap chain that loops has no flush
		switch t := w.(type) {
		case interface{ FlushError() error }:
			return t.FlushError
		case http.Flusher:
			return func() error { t.Flush(); return nil }
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return rc.Flush
		}
	}
	return rc.Flush
}

// Open sends the status and headers now, before any event, so that the
// client sees the stream open. After it the handler can no longer choose
// the status.
func (s *Stream[E]) Open() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	s.buf.Reset()
	return s.write()
}

// usable reports why the stream cannot send, or nil.
func (s *Stream[E]) usable() error {
	switch {
	case s.done:
		return errStreamEnded
	case s.err != nil:
		return s.err
	}
	return s.ctx.Err()
}

// field writes one "name: value" line when value is set.
func field(b *bytes.Buffer, name, value string) {
	if value != "" {
		b.WriteString(name)
		b.WriteString(value)
		b.WriteByte('\n')
	}
}

// dataLines writes d as data lines, one per line of d (LF, CRLF or CR).
func dataLines(b *bytes.Buffer, d string) {
	for {
		i := strings.IndexAny(d, "\r\n")
		b.WriteString("data: ")
		if i < 0 {
			b.WriteString(d)
			b.WriteByte('\n')
			return
		}
		b.WriteString(d[:i])
		b.WriteByte('\n')
		if d[i] == '\r' && i+1 < len(d) && d[i+1] == '\n' {
			i++
		}
		d = d[i+1:]
	}
}

// write opens the stream if needed, writes the buffer and flushes it; the
// caller holds mu.
func (s *Stream[E]) write() error {
	c := s.c
	if !s.open {
		s.open = true
		h := c.rw.Header()
		h["Content-Type"] = hdrSSE
		h["Cache-Control"] = hdrNoCache
		h["X-Accel-Buffering"] = hdrNo // nginx: do not buffer the stream
		delete(h, "Content-Length")
		// A stream outlives any Config.WriteTimeout.
		_ = s.rc.SetWriteDeadline(time.Time{})
		c.rw.WriteHeader(http.StatusOK)
	}
	var err error
	if s.buf.Len() > 0 {
		_, err = c.rw.Write(s.buf.Bytes())
	}
	if err == nil {
		if err = s.flush(); errors.Is(err, http.ErrNotSupported) {
			err = nil
		}
	}
	if err != nil {
		s.err = fmt.Errorf("graft: writing the event stream: %w", err)
		return s.err
	}
	s.wrote = true
	return nil
}

// keepAlive runs on the timer, once per interval: a comment when nothing
// was written since the previous tick, so a silent stream carries one
// comment per interval and the longest silence stays under two.
func (s *Stream[E]) keepAlive() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.err != nil || s.ctx.Err() != nil {
		return
	}
	if !s.wrote {
		s.buf.Reset()
		s.buf.WriteString(": keep-alive\n\n")
		if s.write() != nil {
			return
		}
	}
	s.wrote = false
	s.timer.Reset(s.every)
}

// finish ends the stream after the handler returned err. A stream that
// never opened still answers as a typed endpoint does: err as an outcome
// or an error, or an empty stream. An error after the client went away is
// the normal end of a stream and is dropped.
func (s *Stream[E]) finish(ep *endpoint, err error) error {
	s.mu.Lock()
	s.done = true
	open := s.open
	if !open && err == nil {
		s.buf.Reset()
		err = s.write()
	}
	s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
	}
	switch {
	case err == nil:
		return nil
	case !open:
		return ep.answer(s.c, err)
	case s.ctx.Err() != nil:
		return nil
	}
	return err
}

// streamSet ends the app's event streams when it shuts down: their
// handlers' contexts are cancelled (net/http's Shutdown would otherwise
// wait for them until its deadline).
type streamSet struct {
	once sync.Once
	ctx  context.Context
	end  context.CancelFunc
}

// context returns the context that ends when the app shuts down.
func (ss *streamSet) context() context.Context {
	ss.once.Do(func() { ss.ctx, ss.end = context.WithCancel(context.Background()) })
	return ss.ctx
}

// endAll cancels every stream's context.
func (ss *streamSet) endAll() {
	ss.context()
	ss.end()
}
