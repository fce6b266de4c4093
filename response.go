package graft

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
)

// responseWriter wraps the server's http.ResponseWriter to record the status
// and the bytes written. It lives inside the pooled Ctx, so wrapping costs
// no allocation. It passes Flush, Hijack and ReadFrom through and supports
// http.ResponseController through Unwrap.
type responseWriter struct {
	w        http.ResponseWriter
	status   int
	size     int64
	wrote    bool
	hijacked bool
	// hooks are the response-header hooks of the matched route, run with
	// the owning Ctx right before the status line is sent.
	hooks []func(*Ctx, int)
	c     *Ctx
}

var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*responseWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
)

func (rw *responseWriter) reset(w http.ResponseWriter) {
	*rw = responseWriter{w: w, c: rw.c}
}

// Header returns the response header map.
func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

// WriteHeader sends the status line once; later calls are ignored, as
// net/http does, but without its log noise. A code outside 100–999 panics
// as net/http does, before the writer counts as written, so the recovered
// panic can still answer 500. An informational status (1xx but 101, e.g.
// 103 Early Hints) is sent at once with the headers set so far and does
// not count: the final status still follows, and the response-header hooks
// run for it, not for the 1xx.
func (rw *responseWriter) WriteHeader(code int) {
	if rw.wrote || rw.hijacked {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %d", code))
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		rw.w.WriteHeader(code)
		return
	}
	rw.wrote = true
	rw.status = code
	if len(rw.hooks) > 0 {
		rw.runHooks(code)
	}
	rw.w.WriteHeader(code)
}

// runHooks runs the response-header hooks once. A hook that panics leaves
// the writer unwritten, so the recovered panic is answered 500, and without
// hooks, so that answer does not run the failing hook again.
func (rw *responseWriter) runHooks(code int) {
	hooks := rw.hooks
	done := false
	defer func() {
		if !done {
			rw.wrote, rw.status, rw.hooks = false, 0, nil
		}
	}()
	for _, h := range hooks {
		h(rw.c, code)
	}
	done = true
}

// Write writes body bytes, sending a 200 status first if none was sent.
func (rw *responseWriter) Write(b []byte) (int, error) {
	if !rw.wrote {
		rw.WriteHeader(http.StatusOK)
	}
	n, err := rw.w.Write(b)
	rw.size += int64(n)
	return n, err
}

// WriteString writes s without converting it to a new byte slice when the
// underlying writer supports io.StringWriter.
func (rw *responseWriter) WriteString(s string) (int, error) {
	if !rw.wrote {
		rw.WriteHeader(http.StatusOK)
	}
	n, err := io.WriteString(rw.w, s)
	rw.size += int64(n)
	return n, err
}

// ReadFrom lets io.Copy use the connection's sendfile path.
func (rw *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !rw.wrote {
		rw.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{rw.w}, r)
	}
	rw.size += n
	return n, err
}

// Flush sends buffered data to the client.
func (rw *responseWriter) Flush() {
	if !rw.wrote {
		rw.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(rw.w).Flush()
}

// Hijack hands the connection over to the caller (WebSocket upgrades).
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(rw.w).Hijack()
	if err == nil {
		rw.hijacked = true
		rw.wrote = true
		if rw.status == 0 {
			rw.status = http.StatusSwitchingProtocols
		}
	}
	return conn, brw, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }
