package compress

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/internal/coding"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// ID is the extension's ID.
const ID = "graft.ext.compress"

// DefaultMinSize is Options.MinSize when it is 0.
const DefaultMinSize = 1024

// Options configures compression.
type Options struct {
	// MinSize is the smallest body that is compressed: the first MinSize
	// bytes are held back until the answer is known to be at least that
	// long (a Content-Length set by the handler decides at once; a Flush
	// decides for compression, the answer being a stream). 0 means
	// DefaultMinSize; a negative value compresses every body.
	MinSize int
	// GzipLevel is the gzip level (1 fastest to 9 best); 0 means 5.
	GzipLevel int
	// ZstdLevel is the zstd level; 0 means zstd.SpeedDefault.
	ZstdLevel zstd.EncoderLevel
	// Encodings are the codings offered, in the server's order of
	// preference for equal q-values: "zstd", "gzip". Nil means both, zstd
	// first.
	Encodings []string
	// SkipTypes adds media types (or prefixes ending in "/", e.g. "font/")
	// to those never compressed: images other than SVG, audio, video, and
	// the archive and compressed formats (zip, gzip, zstd, bzip2, xz, 7z,
	// rar, woff, woff2).
	SkipTypes []string
}

// Compress is the extension. Make it with Extension.
type Compress struct {
	opts    Options
	minSize int
	offered []string
	skip    map[string]bool
	skipPre []string

	writers sync.Pool // *writer
	gzips   sync.Pool // *gzip.Writer
	zstds   sync.Pool // *zstd.Encoder
}

// Extension returns the compression extension configured by opts.
func Extension(opts Options) *Compress {
	z := &Compress{opts: opts, minSize: opts.MinSize, offered: opts.Encodings}
	if z.minSize == 0 {
		z.minSize = DefaultMinSize
	}
	if z.minSize < 0 {
		z.minSize = 0
	}
	if z.offered == nil {
		z.offered = []string{"zstd", "gzip"}
	}
	z.skip = map[string]bool{}
	for _, t := range append(defaultSkip, opts.SkipTypes...) {
		t = strings.ToLower(t)
		if strings.HasSuffix(t, "/") {
			z.skipPre = append(z.skipPre, t)
		} else {
			z.skip[t] = true
		}
	}
	return z
}

var defaultSkip = []string{
	"image/", "audio/", "video/",
	"application/zip", "application/gzip", "application/x-gzip", "application/zstd",
	"application/x-bzip2", "application/x-xz", "application/x-7z-compressed",
	"application/x-rar-compressed", "application/vnd.rar", "font/woff", "font/woff2",
}

// ID implements graft.Extension.
func (*Compress) ID() string { return ID }

// Extend checks the options and installs the compressing writer for the
// scope.
func (z *Compress) Extend(b *graft.Builder) error {
	if len(z.offered) == 0 {
		return errors.New("compress: Options.Encodings is empty; leave it nil for zstd and gzip")
	}
	for _, e := range z.offered {
		if e != "zstd" && e != "gzip" {
			return fmt.Errorf("compress: Options.Encodings: unknown coding %q; use \"zstd\" or \"gzip\"", e)
		}
	}
	if l := z.opts.GzipLevel; l != 0 && (l < gzip.BestSpeed || l > gzip.BestCompression) {
		return fmt.Errorf("compress: Options.GzipLevel %d is out of range; use 1 to 9 (0 for the default)", l)
	}
	if l := z.opts.ZstdLevel; l != 0 && (l < zstd.SpeedFastest || l > zstd.SpeedBestCompression) {
		return fmt.Errorf("compress: Options.ZstdLevel %d is out of range; use zstd.SpeedFastest to zstd.SpeedBestCompression", l)
	}
	b.WrapResponse(z.wrap)
	return nil
}

func (z *Compress) wrap(c *graft.Ctx, inner http.ResponseWriter) http.ResponseWriter {
	enc := ""
	if c.Request.Method != http.MethodHead {
		enc = coding.Choose(c.Request.Header.Values("Accept-Encoding"), z.offered...)
	}
	w, _ := z.writers.Get().(*writer)
	if w == nil {
		w = &writer{z: z, buf: make([]byte, 0, z.minSize)}
	}
	w.ResponseWriter, w.enc = inner, enc
	return w
}

func (z *Compress) skipped(ctype string) bool {
	mt, _, _ := strings.Cut(ctype, ";")
	mt = strings.TrimSpace(mt)
	if hasUpper(mt) {
		mt = strings.ToLower(mt)
	}
	if z.skip[mt] {
		return true
	}
	for _, p := range z.skipPre {
		if strings.HasPrefix(mt, p) {
			return mt != "image/svg+xml" || p != "image/"
		}
	}
	return false
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// Shared header values (never appended to in place: their capacity is
// their length, so an Add copies).
var (
	hdrVary = []string{"Accept-Encoding"}
	hdrEnc  = map[string][]string{"gzip": {"gzip"}, "zstd": {"zstd"}}
)

// state of one answer through the writer.
const (
	undecided = iota // status known, body held back in buf
	identity         // passed through as it is
	encoding         // compressed
)

// writer compresses one answer, and is reused from the pool for the next
// one (Close resets it).
type writer struct {
	http.ResponseWriter
	z      *Compress
	enc    string // the coding the client accepts best, "" for none
	status int    // 0 until WriteHeader
	state  int
	buf    []byte // the held-back start of the body, cap MinSize
	gz     *gzip.Writer
	zs     *zstd.Encoder
}

// WriteHeader decides what it can: an answer that must not or need not be
// compressed passes through at once; otherwise the status is held until
// the body shows it is long enough.
func (w *writer) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if code < 200 { // 1xx: informational, more headers follow
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.status = code
	h := w.Header()
	varyAcceptEncoding(h)
	switch {
	case w.enc == "",
		code == http.StatusNoContent, code == http.StatusNotModified, code == http.StatusPartialContent,
		h.Get("Content-Range") != "", h.Get("Content-Encoding") != "",
		strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-transform"),
		h.Get("Content-Type") != "" && w.z.skipped(h.Get("Content-Type")):
		w.pass()
		return
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n < int64(w.z.minSize) {
			w.pass()
			return
		}
		if h.Get("Content-Type") != "" { // else the type is sniffed from the first bytes
			_ = w.start(nil)
		}
	}
}

func varyAcceptEncoding(h http.Header) {
	for _, v := range h.Values("Vary") {
		for part := range strings.SplitSeq(v, ",") {
			if p := strings.TrimSpace(part); p == "*" || strings.EqualFold(p, "Accept-Encoding") {
				return
			}
		}
	}
	if len(h["Vary"]) == 0 {
		h["Vary"] = hdrVary
		return
	}
	h.Add("Vary", "Accept-Encoding")
}

// pass sends the status and what was held back without compression.
func (w *writer) pass() {
	w.state = identity
	w.ResponseWriter.WriteHeader(w.status)
	if len(w.buf) > 0 {
		_, _ = w.ResponseWriter.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

// start turns compression on: the headers change, the status goes out,
// a pooled compressor is attached and gets what was held back.
func (w *writer) start(next []byte) error {
	h := w.Header()
	if h.Get("Content-Type") == "" {
		// net/http would sniff the compressed bytes: sniff the plain ones
		// (held back and about to be written), in buf's spare capacity.
		sniff := append(w.buf, next[:min(len(next), max(0, 512-len(w.buf)))]...)
		h.Set("Content-Type", http.DetectContentType(sniff))
		if w.z.skipped(h.Get("Content-Type")) {
			w.pass()
			return nil
		}
	}
	w.state = encoding
	h["Content-Encoding"] = hdrEnc[w.enc]
	h.Del("Content-Length")
	if et := h.Get("Etag"); strings.HasPrefix(et, `"`) {
		h.Set("Etag", "W/"+et) // the bytes sent are not the representation a strong tag names
	}
	w.ResponseWriter.WriteHeader(w.status)
	var err error
	if w.enc == "gzip" {
		w.gz, _ = w.z.gzips.Get().(*gzip.Writer)
		if w.gz == nil {
			level := w.z.opts.GzipLevel
			if level == 0 {
				level = 5
			}
			w.gz, _ = gzip.NewWriterLevel(w.ResponseWriter, level) // level checked in Extend
		} else {
			w.gz.Reset(w.ResponseWriter)
		}
	} else {
		w.zs, _ = w.z.zstds.Get().(*zstd.Encoder)
		if w.zs == nil {
			level := w.z.opts.ZstdLevel
			if level == 0 {
				level = zstd.SpeedDefault
			}
			w.zs, err = zstd.NewWriter(w.ResponseWriter, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1),
				zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true), zstd.WithZeroFrames(true))
			if err != nil {
				return err
			}
		} else {
			w.zs.Reset(w.ResponseWriter)
		}
	}
	if len(w.buf) > 0 {
		_, err = w.compressor().Write(w.buf)
		w.buf = w.buf[:0]
	}
	return err
}

func (w *writer) compressor() io.Writer {
	if w.gz != nil {
		return w.gz
	}
	return w.zs
}

func (w *writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	switch w.state {
	case identity:
		return w.ResponseWriter.Write(p)
	case encoding:
		return w.compressor().Write(p)
	}
	if len(w.buf)+len(p) < w.z.minSize {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if err := w.start(p); err != nil {
		return 0, err
	}
	return w.writeOn(p)
}

// writeOn writes p in the state start chose.
func (w *writer) writeOn(p []byte) (int, error) {
	if w.state == encoding {
		return w.compressor().Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush sends what was compressed so far: a stream (server-sent events)
// is compressed from its first flush on, whatever its size.
func (w *writer) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.state == undecided {
		_ = w.start(nil)
	}
	switch {
	case w.gz != nil:
		_ = w.gz.Flush()
	case w.zs != nil:
		_ = w.zs.Flush()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Close ends the answer: a body shorter than MinSize goes out as it is, a
// compressed stream is ended (an empty body is an empty stream), and the
// compressor and the writer go back to their pools. graft calls it once
// the answer is complete, error answers included.
func (w *writer) Close() error {
	var err error
	switch {
	case w.status == 0: // hijacked, or nothing at all
	case w.state == undecided:
		w.pass()
	case w.gz != nil:
		err = w.gz.Close()
		w.gz.Reset(io.Discard)
		w.z.gzips.Put(w.gz)
	case w.zs != nil:
		err = w.zs.Close()
		w.zs.Reset(nil)
		w.z.zstds.Put(w.zs)
	}
	*w = writer{z: w.z, buf: w.buf[:0]}
	w.z.writers.Put(w)
	return err
}

// Unwrap lets http.ResponseController reach the connection (Hijack,
// deadlines).
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
