package idempotency

import (
	"io"
	"net/http"
	"slices"
)

// recorder is the writer a first request's answer goes through (below
// the Ctx's own, see graft.Ctx.SwapWriter): it passes everything on and
// keeps the status, the headers as they were when the status was sent,
// and up to max bytes of the body. A Flush marks the answer as a stream,
// which is not stored.
type recorder struct {
	w       http.ResponseWriter
	status  int
	header  http.Header
	body    []byte
	max     int
	over    bool // the body passed max: not stored
	flushed bool
	preset  []string // header names the outer layers set before the endpoint ran
}

// Header returns the header map of the writer below.
func (r *recorder) Header() http.Header { return r.w.Header() }

// WriteHeader records a final status and the headers sent with it; an
// informational status (1xx) is passed on only.
func (r *recorder) WriteHeader(code int) {
	if code >= 200 && r.status == 0 {
		r.status = code
		r.header = r.snapshot()
	}
	r.w.WriteHeader(code)
}

// Write records b (up to max) and passes it on.
func (r *recorder) Write(b []byte) (int, error) {
	r.begin()
	if !r.over {
		if len(r.body)+len(b) > r.max {
			r.over, r.body = true, r.body[:0]
		} else {
			r.body = append(r.body, b...)
		}
	}
	return r.w.Write(b)
}

// WriteString is Write without a conversion.
func (r *recorder) WriteString(s string) (int, error) {
	r.begin()
	if !r.over {
		if len(r.body)+len(s) > r.max {
			r.over, r.body = true, r.body[:0]
		} else {
			r.body = append(r.body, s...)
		}
	}
	return io.WriteString(r.w, s)
}

// begin records the implicit 200 of a write without a status.
func (r *recorder) begin() {
	if r.status == 0 {
		r.status = http.StatusOK
		r.header = r.snapshot()
	}
}

// Flush marks the answer as streamed (not stored) and flushes below.
func (r *recorder) Flush() {
	r.flushed = true
	r.begin()
	_ = http.NewResponseController(r.w).Flush()
}

// Unwrap returns the writer below, for http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.w }

// notStored are the response headers never stored: hop-by-hop headers
// (RFC 9110 7.6.1), Date and Content-Length (written afresh on a replay),
// Set-Cookie (a replay never hands out a session) and the replay marker.
var notStored = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Transfer-Encoding": true,
	"Te": true, "Trailer": true, "Upgrade": true, "Proxy-Authenticate": true,
	"Date": true, "Content-Length": true, "Set-Cookie": true, ReplayedHeader: true,
}

// snapshot copies the headers to store: those the endpoint set, minus
// notStored and the ones the outer layers had set before it ran (theirs
// are set afresh on a replay).
func (r *recorder) snapshot() http.Header {
	src := r.w.Header()
	h := make(http.Header, len(src))
	for k, vs := range src {
		if notStored[k] || slices.Contains(r.preset, k) {
			continue
		}
		h[k] = slices.Clip(slices.Clone(vs))
	}
	return h
}

var (
	_ http.Flusher        = (*recorder)(nil)
	_ io.StringWriter     = (*recorder)(nil)
	_ http.ResponseWriter = (*recorder)(nil)
)
