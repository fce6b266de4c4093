package cache

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graftgo/graft"
)

// recorder states.
const (
	idle      = iota // not armed: the answer passes through
	armed            // waiting for the status to decide
	capturing        // the answer passes through and is copied
	passing          // decided not to store: passes through
)

// recorder sits below the Ctx's writer (Ctx.SwapWriter) while an endpoint
// answers. It never holds the answer back: every write goes to the writer
// below at once, and, while the answer may be stored, into buf as well.
// Recycled through the cache's pool (putRecorder clears it).
type recorder struct {
	inner http.ResponseWriter
	cc    *Cache
	pol   *policy
	fl    fill
	state int
	pre   http.Header // the headers present before the endpoint ran

	status  int
	header  http.Header // the headers to store, taken at WriteHeader
	created time.Time
	expires time.Time
	shared  bool
	vary    []string
	buf     []byte
	failed  bool // a write below failed: the body may be short
}

func (cc *Cache) getRecorder() *recorder {
	rec, _ := cc.recs.Get().(*recorder)
	if rec == nil {
		rec = &recorder{cc: cc}
	}
	return rec
}

func (cc *Cache) putRecorder(rec *recorder) {
	buf := rec.buf[:0]
	if cap(buf) > 64<<10 {
		buf = nil // a big answer's buffer is not kept in the pool
	}
	*rec = recorder{cc: cc, buf: buf}
	cc.recs.Put(rec)
}

// arm makes the recorder copy the answer for fl when it may be stored.
func (rec *recorder) arm(c *graft.Ctx, pol *policy, fl fill) {
	rec.pol, rec.fl, rec.state = pol, fl, armed
	if h := c.Response().Header(); len(h) > 0 {
		rec.pre = maps.Clone(h)
	}
	rec.cc.setStatus(c, missValue)
}

// Header returns the header map of the writer below.
func (rec *recorder) Header() http.Header { return rec.inner.Header() }

// WriteHeader decides, for an armed recorder, whether the answer may be
// stored, then passes the status on.
func (rec *recorder) WriteHeader(code int) {
	if rec.state == armed && code >= 200 {
		rec.decide(code)
	}
	rec.inner.WriteHeader(code)
}

// decide reads the answer's status and headers (RFC 9111 §3): what a
// shared cache may store, for how long.
func (rec *recorder) decide(code int) {
	rec.state = passing
	pol := rec.pol
	h := rec.inner.Header()
	if !pol.stores(code) || strings.HasPrefix(headerValue(h, "Content-Type"), "text/event-stream") {
		return
	}
	if _, ranged := h["Content-Range"]; ranged {
		return
	}
	d := parseCacheControl(h["Cache-Control"])
	if d.noStore || d.private || d.noCache || d.invalid {
		return
	}
	if len(h["Set-Cookie"]) > 0 && !pol.SetCookie {
		return
	}
	names, star := parseVary(h["Vary"])
	if star {
		return
	}
	shared := d.public || d.sMaxAge >= 0 || d.mustRevalidate
	if rec.fl.restricted && !shared {
		return
	}
	if cl := headerValue(h, "Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err != nil || n > int64(pol.MaxEntryBytes) {
			return
		}
	}
	now := rec.cc.now()
	life, _ := freshness(h, d, now, pol.TTL)
	if pol.MaxTTL > 0 && life > pol.MaxTTL {
		life = pol.MaxTTL
	}
	created := now.Add(-ageOf(h))
	expires := created.Add(life)
	if !now.Before(expires) {
		return
	}
	// The headers the endpoint set: those already there when the cache's
	// middleware ran are set again on every request, and Age and the
	// status header are the cache's own.
	stored := make(http.Header, len(h))
	for k, v := range h {
		if pv, ok := rec.pre[k]; (ok && slices.Equal(pv, v)) || k == "Age" || k == rec.cc.hdr {
			continue
		}
		stored[k] = slices.Clip(slices.Clone(v))
	}
	rec.state = capturing
	rec.status, rec.header, rec.created, rec.expires, rec.shared, rec.vary = code, stored, created, expires, shared, names
}

// headerValue is h.Get for a canonical key, without canonicalizing.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Write passes p on, copying it while the answer may be stored; past
// MaxEntryBytes the copy is dropped.
func (rec *recorder) Write(p []byte) (int, error) {
	if rec.state == armed {
		rec.decide(http.StatusOK) // the Ctx wrote no status: net/http will send 200
	}
	n, err := rec.inner.Write(p)
	if rec.state == capturing {
		switch {
		case err != nil || n < len(p):
			rec.failed = true
			rec.state = passing
		case len(rec.buf)+len(p) > rec.pol.MaxEntryBytes:
			rec.state = passing
		default:
			rec.buf = append(rec.buf, p...)
		}
	}
	return n, err
}

// Flush marks a stream (server-sent events, a long poll): it is passed
// through and not stored.
func (rec *recorder) Flush() {
	if rec.state == armed || rec.state == capturing {
		rec.state = passing
	}
	_ = http.NewResponseController(rec.inner).Flush()
}

// Unwrap lets http.ResponseController reach the connection (Hijack, deadlines).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.inner }

// entry returns the answer to store, with its Vary names, or nil when it
// may not be stored (not decided, a stream, a failed or short body).
func (rec *recorder) entry(now time.Time) (*Entry, []string) {
	if rec.state != capturing || rec.failed {
		return nil, nil
	}
	h := rec.header
	bodyless := rec.status == http.StatusNoContent
	if bodyless && len(rec.buf) > 0 {
		return nil, nil
	}
	if cl := headerValue(h, "Content-Length"); cl != "" {
		if n, err := strconv.Atoi(cl); err != nil || n != len(rec.buf) {
			return nil, nil // the endpoint wrote less (or more) than it announced
		}
	} else if !bodyless {
		h["Content-Length"] = []string{strconv.Itoa(len(rec.buf))}
	}
	if _, ok := h["Date"]; !ok {
		h["Date"] = rec.cc.date(now)
	}
	var body []byte
	if len(rec.buf) > 0 {
		body = slices.Clone(rec.buf)
	}
	return &Entry{Status: rec.status, Header: h, Body: body, Created: rec.created, Expires: rec.expires, Shared: rec.shared}, rec.vary
}

// dateValue is a Date header value and the second it is for.
type dateValue struct {
	sec int64
	v   []string
}

// date returns the Date value for now, formatted once per second.
func (cc *Cache) date(now time.Time) []string {
	sec := now.Unix()
	if d := cc.dateVal.Load(); d != nil && d.sec == sec {
		return d.v
	}
	d := &dateValue{sec: sec, v: []string{now.UTC().Format(http.TimeFormat)}}
	cc.dateVal.Store(d)
	return d.v
}

var _ http.Flusher = (*recorder)(nil)
