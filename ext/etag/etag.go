package etag

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/graftgo/graft"
)

// ID is the extension's ID.
const ID = "graft.ext.etag"

// DefaultMaxSize is Options.MaxSize when it is 0.
const DefaultMaxSize = 1 << 20

// Options configures the extension.
type Options struct {
	// Weak makes the computed tags weak (W/"…"): use it when answers that
	// mean the same may differ in bytes (e.g. map order in hand-written
	// encoders). Strong tags are the default.
	Weak bool
	// MaxSize is the largest body that is held back to compute a tag; a
	// longer one is sent as it comes, without a tag. 0 means
	// DefaultMaxSize (1 MiB).
	MaxSize int
}

// ETag is the extension. Make it with Extension.
type ETag struct {
	opts    Options
	maxSize int
	writers sync.Pool // *writer
}

// Extension returns the ETag extension configured by opts.
func Extension(opts Options) *ETag {
	e := &ETag{opts: opts, maxSize: opts.MaxSize}
	if e.maxSize == 0 {
		e.maxSize = DefaultMaxSize
	}
	return e
}

// ID implements graft.Extension.
func (*ETag) ID() string { return ID }

// Extend checks the options and installs the tagging writer for the
// scope's GET and HEAD answers.
func (e *ETag) Extend(b *graft.Builder) error {
	if e.opts.MaxSize < 0 {
		return fmt.Errorf("etag: Options.MaxSize is negative (%d); leave it 0 for %d bytes", e.opts.MaxSize, DefaultMaxSize)
	}
	b.WrapResponse(e.wrap)
	return nil
}

func (e *ETag) wrap(c *graft.Ctx, inner http.ResponseWriter) http.ResponseWriter {
	if m := c.Request.Method; m != http.MethodGet && m != http.MethodHead {
		return inner
	}
	w, _ := e.writers.Get().(*writer)
	if w == nil {
		w = &writer{e: e}
	}
	w.ResponseWriter, w.req = inner, c.Request
	return w
}

// Of returns the entity tag the extension computes for body, as it goes on
// the wire: a quoted base64url SHA-256 prefix of 128 bits, W/-prefixed when
// weak. Handlers of unsafe methods use it to compute the current tag of a
// resource for Check.
func Of(body []byte, weak bool) string {
	sum := sha256.Sum256(body)
	var buf [2 + 3 + 22]byte
	n := 0
	if weak {
		n = copy(buf[:], `W/`)
	}
	buf[n] = '"'
	base64.RawURLEncoding.Encode(buf[n+1:], sum[:16])
	buf[n+23] = '"'
	return string(buf[:n+24])
}

// Check evaluates the preconditions of a request that changes a resource
// (RFC 9110 §13.2.2) against the resource's current entity tag, current
// being "" when the resource does not exist. It returns a 412 error (an
// *graft.HTTPError, answered as problem+json) when If-Match is present and
// no listed tag matches current by the strong comparison (a weak tag never
// matches; "*" matches any existing resource), or when If-None-Match
// matches current by the weak comparison ("*": the resource exists).
// Otherwise it returns nil and the handler goes on.
//
//	cur := etag.Of(noteJSON, false)
//	if err := etag.Check(&c.Ctx, cur); err != nil {
//		return err // 412: someone else changed the note
//	}
func Check(c *graft.Ctx, current string) error {
	h := c.Request.Header
	if im := h.Values("If-Match"); len(im) > 0 {
		if !matches(im, current, true) {
			return graft.NewError(http.StatusPreconditionFailed, "If-Match: the resource's current entity tag is not among those given")
		}
	} else if inm := h.Values("If-None-Match"); len(inm) > 0 && matches(inm, current, false) {
		return graft.NewError(http.StatusPreconditionFailed, "If-None-Match: the resource's current entity tag matches")
	}
	return nil
}

// matches reports whether the field lines of If-Match or If-None-Match
// list current: strong compares opaque parts of two strong tags only,
// weak ignores W/. An empty current (no resource) matches nothing, not
// even "*". A malformed element matches nothing.
func matches(lines []string, current string, strong bool) bool {
	if current == "" {
		return false
	}
	curWeak, curOpaque, ok := split(current)
	if !ok {
		return false
	}
	for _, line := range lines {
		s := line
		for {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			if s[0] == '*' {
				return true
			}
			weak := false
			if rest, ok := strings.CutPrefix(s, "W/"); ok {
				weak, s = true, rest
			}
			if len(s) < 2 || s[0] != '"' {
				break
			}
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				break
			}
			opaque := s[1 : 1+end]
			s = s[2+end:]
			if opaque == curOpaque && (!strong || (!weak && !curWeak)) {
				return true
			}
		}
	}
	return false
}

// split parses an entity tag as the extension or a handler sets it.
func split(tag string) (weak bool, opaque string, ok bool) {
	if rest, cut := strings.CutPrefix(tag, "W/"); cut {
		weak, tag = true, rest
	}
	if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return false, "", false
	}
	return weak, tag[1 : len(tag)-1], true
}

// state of one answer through the writer.
const (
	holding = iota // body held back in buf
	passing        // sent as it comes, untagged
	done           // answered (304, 412) or ended
)

// writer holds back a GET or HEAD answer to tag it, and is reused from the
// pool for the next one (Finish resets it).
type writer struct {
	http.ResponseWriter
	e      *ETag
	req    *http.Request
	status int // 0 until WriteHeader
	sent   int // the status answered instead (304, 412), 0 for the handler's
	state  int
	buf    []byte
}

// WriteHeader passes through what is not a tagged 200: other statuses,
// streams (text/event-stream), Range answers; a 200 that already carries
// an ETag (set by the handler) is decided at once. Otherwise the status
// waits for the body.
func (w *writer) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if code < 200 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.status = code
	h := w.Header()
	switch {
	case code != http.StatusOK, h.Get("Content-Range") != "",
		strings.HasPrefix(h.Get("Content-Type"), "text/event-stream"):
		w.pass()
	case h.Get("Etag") != "":
		if !w.conditional(h.Get("Etag")) {
			w.pass()
		}
	}
}

// conditional answers 304 or 412 for tag when the request's conditions
// say so (RFC 9110 §13.2.2, for GET and HEAD), and reports whether it did.
func (w *writer) conditional(tag string) bool {
	rh := w.req.Header
	if im := rh.Values("If-Match"); len(im) > 0 && !matches(im, tag, true) {
		w.state = done
		h := w.Header()
		for _, k := range []string{"Content-Length", "Content-Encoding", "Etag", "Last-Modified"} {
			delete(h, k)
		}
		h.Set("Content-Type", "application/problem+json")
		w.sent = http.StatusPreconditionFailed
		w.ResponseWriter.WriteHeader(http.StatusPreconditionFailed)
		_, _ = w.ResponseWriter.Write(problem412)
		return true
	}
	if inm := rh.Values("If-None-Match"); len(inm) > 0 && matches(inm, tag, false) {
		w.state = done
		h := w.Header()
		// as http.ServeContent's 304: no representation headers
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Last-Modified"} {
			delete(h, k)
		}
		w.sent = http.StatusNotModified
		w.ResponseWriter.WriteHeader(http.StatusNotModified)
		return true
	}
	return false
}

var problem412 = []byte(`{"type":"about:blank","title":"Precondition Failed","status":412,"detail":"If-Match: the answer's entity tag is not among those given"}`)

func (w *writer) pass() {
	w.state = passing
	w.ResponseWriter.WriteHeader(w.status)
	if len(w.buf) > 0 {
		_, _ = w.ResponseWriter.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

// Write holds the body back while it fits MaxSize; past it the answer is
// sent untagged.
func (w *writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	switch w.state {
	case passing:
		return w.ResponseWriter.Write(p)
	case done:
		return len(p), nil // a 304 or 412 has no body of the handler's
	}
	if len(w.buf)+len(p) > w.e.maxSize {
		w.pass()
		return w.ResponseWriter.Write(p)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Flush marks a stream: what was held back goes out untagged and so does
// the rest.
func (w *writer) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.state == holding {
		w.pass()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Finish tags a held-back answer, answers its conditions, or sends it,
// and returns the status sent (graft.ResponseFinisher: c.StatusCode()
// then reports a 304 or 412 rather than the handler's 200).
func (w *writer) Finish() int {
	if w.state == holding && w.status != 0 {
		tag := Of(w.buf, w.e.opts.Weak)
		w.Header().Set("Etag", tag)
		if !w.conditional(tag) {
			w.pass()
		}
	}
	sent := w.sent
	w.ResponseWriter, w.req, w.status, w.state, w.sent = nil, nil, 0, holding, 0
	if cap(w.buf) > 64<<10 {
		w.buf = nil // do not keep a big answer's buffer in the pool
	} else {
		w.buf = w.buf[:0]
	}
	w.e.writers.Put(w)
	return sent
}

var _ graft.ResponseFinisher = (*writer)(nil)

// Unwrap lets http.ResponseController reach the connection.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
