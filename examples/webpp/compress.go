package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/graftgo/graft"
)

// Compress is a child extension of the response body (webpp's
// response_body child extensions): it wraps the response writer of its
// scope in a gzip writer for clients whose Accept-Encoding allows gzip, and
// leaves the others alone. Error answers are compressed too: the writer
// ends its stream when graft finishes the answer (WrapResponse closes an
// io.Closer), after the error handler wrote through it. It does nothing
// unless Enabled (the --compress flag).
type Compress struct {
	// Enabled turns compression on. Config key compress.enabled, flag
	// --compress, env GRAFT_COMPRESS_ENABLED.
	Enabled bool `flag:"compress,compress.enabled" help:"gzip answers for clients that accept it"`

	pool sync.Pool // *gzip.Writer
}

// ID implements graft.Extension.
func (z *Compress) ID() string { return "example.compress" }

// ConfigSection implements graft.ConfigSectioner: [compress] in the app's
// config.
func (z *Compress) ConfigSection() (string, any) { return "compress", z }

// Extend installs the wrapping writer when compression is on. The config
// is loaded before extensions are extended, so --compress is known here.
func (z *Compress) Extend(b *graft.Builder) error {
	if z.Enabled {
		b.WrapResponse(z.wrap)
	}
	return nil
}

func (z *Compress) wrap(c *graft.Ctx, inner http.ResponseWriter) http.ResponseWriter {
	// The answer depends on Accept-Encoding whichever way it goes, and
	// caches must know.
	inner.Header().Add("Vary", "Accept-Encoding")
	if !acceptsGzip(c.Request.Header.Values("Accept-Encoding")) {
		return inner
	}
	return &gzipWriter{ResponseWriter: inner, z: z, head: c.Request.Method == http.MethodHead}
}

// acceptsGzip reads Accept-Encoding (RFC 9110 §12.5.3): gzip is allowed when
// listed, or covered by "*", with a q-value above 0.
func acceptsGzip(lines []string) bool {
	gz, star := -1.0, -1.0
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.TrimSpace(coding)
			q := 1.0
			if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					f = 0
				}
				q = f
			}
			switch {
			case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
				gz = max(gz, q)
			case coding == "*":
				star = max(star, q)
			}
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}

// gzipWriter compresses one answer. Whether it does is decided in
// WriteHeader, when the status and the final headers are known.
type gzipWriter struct {
	http.ResponseWriter
	z     *Compress
	zw    *gzip.Writer // made on the first body byte
	head  bool         // a HEAD request: headers as for GET, no body
	wrote bool
	on    bool // this answer is compressed
}

// WriteHeader compresses answers that may have a body and are not encoded
// already; a strong ETag becomes weak, since the bytes sent are not the
// identity representation it names.
func (w *gzipWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	h := w.Header()
	if code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified && h.Get("Content-Encoding") == "" && h.Get("Content-Range") == "" {
		w.on = true
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		if et := h.Get("Etag"); strings.HasPrefix(et, `"`) {
			h.Set("Etag", "W/"+et)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *gzipWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	switch {
	case !w.on:
		return w.ResponseWriter.Write(b)
	case w.head:
		return len(b), nil
	}
	return w.writer().Write(b)
}

func (w *gzipWriter) writer() *gzip.Writer {
	if w.zw == nil {
		if zw, ok := w.z.pool.Get().(*gzip.Writer); ok {
			zw.Reset(w.ResponseWriter)
			w.zw = zw
		} else {
			w.zw = gzip.NewWriter(w.ResponseWriter)
		}
	}
	return w.zw
}

// Flush sends what was compressed so far (server-sent events).
func (w *gzipWriter) Flush() {
	if w.zw != nil {
		_ = w.zw.Flush()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Close ends the gzip stream (an empty body is an empty stream, which
// decompresses to nothing) and returns the compressor to the pool. graft
// calls it once the answer is complete.
func (w *gzipWriter) Close() error {
	if !w.on || w.head {
		return nil
	}
	zw := w.writer()
	err := zw.Close()
	zw.Reset(io.Discard)
	w.z.pool.Put(zw)
	w.zw = nil
	return err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
