package graftest

import "net/http"

// Discard is an http.ResponseWriter that keeps the status and drops the
// body, for benchmarks and allocation tests that call app.ServeHTTP in a
// loop (call Reset between requests; it allocates nothing itself).
type Discard struct {
	h      http.Header
	status int
	n      int64
}

// NewDiscard returns an empty Discard.
func NewDiscard() *Discard { return &Discard{h: http.Header{}} }

// Header returns the response headers.
func (d *Discard) Header() http.Header { return d.h }

// WriteHeader records the first status.
func (d *Discard) WriteHeader(s int) {
	if d.status == 0 {
		d.status = s
	}
}

// Write counts p, recording 200 if no status was written.
func (d *Discard) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = 200
	}
	d.n += int64(len(p))
	return len(p), nil
}

// Status returns the status written, or 0.
func (d *Discard) Status() int { return d.status }

// Size returns the body bytes written.
func (d *Discard) Size() int64 { return d.n }

// Reset clears the status, size and headers for the next request.
func (d *Discard) Reset() {
	clear(d.h)
	d.status, d.n = 0, 0
}
