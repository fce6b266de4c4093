package cache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// Config configures a Cache.
type Config struct {
	// Policy is what endpoints the cache is applied to get, unless a
	// Cache.With plugin on their group or themselves gives another.
	Policy Policy
	// Store keeps the entries: a MemoryStore bounded by MaxEntries and
	// MaxBytes when nil.
	Store Store
	// MaxEntries and MaxBytes bound the memory store made when Store is
	// nil (DefaultMaxEntries, DefaultMaxBytes when 0).
	MaxEntries int
	MaxBytes   int64
	// Now is the clock (time.Now when nil): freshness, Age, and the memory
	// store's expiry. Tests give one they move.
	Now func() time.Time
	// StatusHeader names the header that tells HIT, MISS or BYPASS on
	// every answer of a cached endpoint ("X-Cache" when empty; "-" sends
	// none).
	StatusHeader string
	// Skip leaves the endpoints it returns true for alone (the plugin
	// returns them unchanged).
	Skip func(sig *graft.Signature) bool
	// Observe, when set, is called once per request of a cached endpoint
	// with how the cache served it (metrics).
	Observe func(c *graft.Ctx, r Result)
}

// Policy is how one endpoint is cached.
type Policy struct {
	// TTL is how long an answer without freshness of its own (no s-maxage,
	// max-age or Expires) stays fresh (DefaultTTL when 0).
	TTL time.Duration
	// MaxTTL caps every freshness lifetime, the answer's own included
	// (none when 0): a max-age meant for browsers need not hold the
	// server's memory for a year.
	MaxTTL time.Duration
	// Statuses are the statuses stored (DefaultStatuses when nil). 206,
	// 304 and 1xx cannot be listed.
	Statuses []int
	// MaxEntryBytes is the largest body stored (DefaultMaxEntryBytes when
	// 0); a bigger answer is sent as it comes and not stored.
	MaxEntryBytes int
	// Key, when set, turns the request's URL key (see URLKey) into the key
	// its answer is stored under, before the request is bound: add a
	// header's value (a tenant), drop a tracking parameter. ok false sends
	// the request past the cache (BYPASS). A key with a NUL byte is
	// bypassed. Keep the URL key as its prefix for Purge and PurgePrefix.
	Key func(c *graft.Ctx, urlKey string) (key string, ok bool)
	// User keys answers by the identity an auth plugin binds into the
	// endpoint's input (see User): each caller gets answers of their own,
	// and requests carrying Authorization are cached. Endpoints without
	// such a field are cached by their URL alone.
	User UserKey
	// SetCookie stores answers that set cookies, and replays the cookies
	// to everyone. Off by default: such answers are passed through.
	SetCookie bool
	// Authorized stores and serves answers to requests that carry an
	// Authorization header. By default (RFC 9111 §3.5) such a request is
	// only served an answer that had public, s-maxage or must-revalidate,
	// and only such an answer to it is stored. Set it when Key separates
	// the callers; a User key does it for its endpoints.
	Authorized bool
	// IgnoreRequestDirectives ignores the request's Cache-Control and
	// Pragma. By default no-store bypasses the cache, no-cache (and
	// Pragma: no-cache) runs the endpoint and stores its fresh answer,
	// max-age and min-fresh refuse entries too old, and only-if-cached
	// answers 504 without an entry: a client can make every request miss.
	IgnoreRequestDirectives bool
	// WaitTimeout bounds how long a request waits for the answer of an
	// identical request already running (stampede protection); after it,
	// the request runs the endpoint itself. 0: as long as its context
	// allows.
	WaitTimeout time.Duration
}

// Defaults of Policy.
const (
	DefaultTTL           = time.Minute
	DefaultMaxEntryBytes = 1 << 20
)

// DefaultStatuses are the statuses RFC 9110 §15.1 calls heuristically
// cacheable, less 206 (ranges are not stored).
var DefaultStatuses = []int{200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501}

// Result is how the cache served a request, for Config.Observe.
type Result uint8

// The results.
const (
	// Hit: a stored answer.
	Hit Result = iota + 1
	// Joined: the answer of an identical request that was running (the
	// handler ran once for both).
	Joined
	// Miss: the endpoint ran; its answer was stored if it could be.
	Miss
	// Bypass: the request went past the cache (request no-store, Key's
	// ok false, Authorization without an entry it may use stays a Miss).
	Bypass
)

// String returns the result's name: HIT, HIT (joined), MISS or BYPASS.
func (r Result) String() string {
	switch r {
	case Hit:
		return "HIT"
	case Joined:
		return "HIT (joined)"
	case Miss:
		return "MISS"
	case Bypass:
		return "BYPASS"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// Cache is the response cache: an endpoint plugin (its Policy), plugins
// with other policies sharing its store (With, Off), middleware for plain
// routes (Middleware), and the invalidation API (Purge, PurgePrefix,
// PurgeAll). Make it with New; it is safe for concurrent use.
type Cache struct {
	cfg     Config
	err     error
	def     *policy
	store   Store
	now     func() time.Time
	hdr     string // canonical StatusHeader, "" for none
	gen     atomic.Uint64
	waits   atomic.Int64 // requests waiting for a flight
	dateVal atomic.Pointer[dateValue]

	mu      sync.Mutex
	flights map[string]*flight
	applied map[*graft.Signature]bool

	recs sync.Pool // *recorder
}

// New returns the cache for cfg. A mistake in cfg stops start-up where
// the cache is used, naming the endpoint; Err reports it too.
func New(cfg Config) *Cache {
	cc := &Cache{cfg: cfg, flights: map[string]*flight{}, applied: map[*graft.Signature]bool{}}
	cc.err = cc.setup()
	return cc
}

func (cc *Cache) setup() error {
	cfg := &cc.cfg
	cc.now = cfg.Now
	if cc.now == nil {
		cc.now = time.Now
	}
	switch cfg.StatusHeader {
	case "":
		cc.hdr = "X-Cache"
	case "-":
	default:
		if !validToken(cfg.StatusHeader) {
			return fmt.Errorf("Config.StatusHeader %q is not a header name; give one (X-Cache), or \"-\" for none", cfg.StatusHeader)
		}
		cc.hdr = textproto.CanonicalMIMEHeaderKey(cfg.StatusHeader)
	}
	cc.store = cfg.Store
	if cc.store == nil {
		s, err := NewMemoryStore(MemoryConfig{MaxEntries: cfg.MaxEntries, MaxBytes: cfg.MaxBytes, Now: cc.now})
		if err != nil {
			return err
		}
		cc.store = s
	} else if cfg.MaxEntries != 0 || cfg.MaxBytes != 0 {
		return errors.New("Config.MaxEntries and MaxBytes bound the memory store made when Config.Store is nil; bound the store you give instead")
	}
	var err error
	cc.def, err = compile(cfg.Policy)
	return err
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// Err returns the configuration mistake New found, or nil.
func (cc *Cache) Err() error { return cc.err }

// Waiting returns how many requests are waiting for the answer of an
// identical request the endpoint is computing (a gauge for metrics).
func (cc *Cache) Waiting() int { return int(cc.waits.Load()) }

// Store returns the cache's store.
func (cc *Cache) Store() Store { return cc.store }

// policy is a Policy checked, defaults filled in.
type policy struct {
	Policy
	statuses [16]uint64 // bit s: status s is stored (s < 1024)
}

func (p *policy) stores(status int) bool {
	return status >= 0 && status < 1024 && p.statuses[status>>6]&(1<<(status&63)) != 0
}

func compile(p Policy) (*policy, error) {
	switch {
	case p.TTL < 0:
		return nil, fmt.Errorf("Policy.TTL is %v; give how long answers stay fresh, or 0 for %v", p.TTL, DefaultTTL)
	case p.MaxTTL < 0:
		return nil, fmt.Errorf("Policy.MaxTTL is %v; give the longest freshness kept, or 0 for no cap", p.MaxTTL)
	case p.MaxEntryBytes < 0:
		return nil, fmt.Errorf("Policy.MaxEntryBytes is %d; give the largest body stored, or 0 for %d", p.MaxEntryBytes, DefaultMaxEntryBytes)
	case p.WaitTimeout < 0:
		return nil, fmt.Errorf("Policy.WaitTimeout is %v; give how long a request waits for an identical one, or 0 for its context's deadline", p.WaitTimeout)
	}
	if p.TTL == 0 {
		p.TTL = DefaultTTL
	}
	if p.MaxTTL > 0 && p.TTL > p.MaxTTL {
		p.TTL = p.MaxTTL
	}
	if p.MaxEntryBytes == 0 {
		p.MaxEntryBytes = DefaultMaxEntryBytes
	}
	statuses := p.Statuses
	if statuses == nil {
		statuses = DefaultStatuses
	}
	pol := &policy{Policy: p}
	for _, s := range statuses {
		if s < 200 || s > 599 || s == http.StatusPartialContent || s == http.StatusNotModified {
			return nil, fmt.Errorf("Policy.Statuses has %d; a cache stores final answers from 200 to 599 other than 206 and 304", s)
		}
		pol.statuses[s>>6] |= 1 << (s & 63)
	}
	return pol, nil
}

// With returns a plugin that caches with policy p instead of the cache's
// Policy, in the same store: put it on a group or an endpoint
// (graft.Plugins). On an endpoint several of the cache's plugins reach,
// the innermost (the endpoint's own, then its group's) decides.
func (cc *Cache) With(p Policy) graft.Plugin {
	pol, err := compile(p)
	return &variant{cc: cc, pol: pol, err: err}
}

// Off returns a plugin that keeps the cache off the endpoints it is put
// on (graft.Plugins), under an app or group the cache is applied to.
func (cc *Cache) Off() graft.Plugin { return &variant{cc: cc, off: true} }

type variant struct {
	cc  *Cache
	pol *policy
	err error
	off bool
}

// Apply applies the variant's policy (see Cache.With, Cache.Off).
func (v *variant) Apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	if v.cc.err != nil {
		return nil, v.cc.err
	}
	if v.err != nil {
		return nil, v.err
	}
	if v.off {
		v.cc.claim(sig)
		return next, nil
	}
	return v.cc.apply(next, sig, v.pol)
}

// Apply is the plugin with the cache's Policy: GET endpoints (which also
// serve HEAD) get the cache; other endpoints, skipped ones and those a
// With or Off plugin of the cache already took are returned unchanged,
// at no cost.
func (cc *Cache) Apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	if cc.err != nil {
		return nil, cc.err
	}
	return cc.apply(next, sig, cc.def)
}

// claim records that one of the cache's plugins decided for sig, and
// reports whether none had before (plugins are applied innermost first).
func (cc *Cache) claim(sig *graft.Signature) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.applied[sig] {
		return false
	}
	cc.applied[sig] = true
	return true
}

func (cc *Cache) apply(next graft.Endpoint, sig *graft.Signature, pol *policy) (graft.Endpoint, error) {
	if sig.Method != http.MethodGet || (cc.cfg.Skip != nil && cc.cfg.Skip(sig)) || !cc.claim(sig) {
		return next, nil
	}
	var user func(in any) string
	if pol.User != nil {
		var err error
		if user, err = pol.User.userFor(sig); err != nil {
			return nil, err
		}
	}
	if user == nil {
		sig.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
			return func(c *graft.Ctx) error { return cc.serve(c, next, pol) }
		})
		return next, nil
	}
	// The identity is bound with the input: the middleware only puts a
	// recorder in place; the lookup happens in the wrapper, after the
	// auth plugin's decoder checked the credential.
	sig.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error { return cc.serveBound(c, next) }
	})
	return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
		rec := pending.Get(c)
		if rec == nil { // not through the middleware: cannot happen, but never cache blind
			return next(ctx, c, in)
		}
		id := user(in)
		if strings.IndexByte(id, 0) >= 0 {
			cc.bypass(c)
			return next(ctx, c, in)
		}
		fl, done, err := cc.begin(c, pol, sepUser+id, true)
		if done || err != nil {
			return nil, err // answered (a hit), or the error to answer
		}
		if fl.store {
			rec.arm(c, pol, fl)
		}
		return next(ctx, c, in)
	}, nil
}

// Middleware returns the cache with its Policy as middleware for plain
// routes (graft.WithMiddleware, Group.Use): GET and HEAD requests are
// cached; the answer the handler writes itself is stored (an error the
// handler returns is answered after the middleware, and not stored). A
// User key needs typed endpoints.
func (cc *Cache) Middleware() (graft.Middleware, error) {
	if cc.err != nil {
		return nil, cc.err
	}
	if cc.def.User != nil {
		return nil, errors.New("Policy.User keys answers by a typed endpoint's bound identity; plain routes have none: use Policy.Key")
	}
	return func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error { return cc.serve(c, next, cc.def) }
	}, nil
}

// pending is the recorder of a request of an endpoint with a User key,
// from its middleware to its wrapper.
var pending = graft.NewProperty[*recorder]("graft.plugins.cache.pending", nil)

var (
	hitValue    = []string{"HIT"}
	missValue   = []string{"MISS"}
	bypassValue = []string{"BYPASS"}
)

// serve is the middleware of an endpoint keyed before binding.
func (cc *Cache) serve(c *graft.Ctx, next graft.HandlerFunc, pol *policy) error {
	if m := c.Request.Method; m != http.MethodGet && m != http.MethodHead {
		return next(c)
	}
	fl, done, err := cc.begin(c, pol, "", false)
	if done || err != nil {
		return err
	}
	if !fl.store {
		return next(c)
	}
	rec := cc.getRecorder()
	rec.inner = c.SwapWriter(rec)
	rec.arm(c, pol, fl)
	defer func() {
		c.SwapWriter(rec.inner)
		cc.finish(c, rec)
	}()
	return next(c)
}

// serveBound is the middleware of an endpoint with a User key: the
// recorder stands by (passing the answer through) until the wrapper,
// after binding, arms it.
func (cc *Cache) serveBound(c *graft.Ctx, next graft.HandlerFunc) error {
	if m := c.Request.Method; m != http.MethodGet && m != http.MethodHead {
		return next(c)
	}
	rec := cc.getRecorder()
	rec.inner = c.SwapWriter(rec)
	pending.Set(c, rec)
	defer func() {
		pending.Set(c, nil)
		c.SwapWriter(rec.inner)
		cc.finish(c, rec)
	}()
	return next(c)
}

// fill is what begin decided for a request the endpoint answers.
type fill struct {
	store      bool    // the answer may be stored (under key)
	key        string  // the primary key
	flight     *flight // the flight the request leads, or nil
	restricted bool    // the request carries Authorization: only a shared answer is stored
	gen        uint64  // purges so far: a purge during the request drops its answer
}

// begin decides a request: a stored (or joined) answer is replayed and
// done is true, or the error to answer is returned; otherwise the
// endpoint runs and fl says whether and how its answer is stored. suffix
// extends the key (the user part); bound tells that the key separates
// callers.
func (cc *Cache) begin(c *graft.Ctx, pol *policy, suffix string, bound bool) (fl fill, done bool, err error) {
	r := c.Request
	rd := noDirectives
	if !pol.IgnoreRequestDirectives {
		rd = requestDirectives(r.Header)
	}
	if rd.noStore {
		cc.bypass(c)
		return fill{}, false, nil
	}
	key := requestURLKey(r)
	if pol.Key != nil {
		k, ok := pol.Key(c, key)
		if !ok || strings.IndexByte(k, 0) >= 0 {
			cc.bypass(c)
			return fill{}, false, nil
		}
		key = k
	}
	if suffix != "" {
		key += suffix
	}
	// A request with credentials may only be served an answer meant for
	// everyone, unless the key separates callers.
	restricted := !pol.Authorized && !bound && len(r.Header["Authorization"]) > 0
	now := cc.start(c)
	if !rd.noCache {
		if e := cc.find(c, key); e != nil && usable(e, rd, restricted, now) {
			cc.replay(c, e, now, Hit)
			return fill{}, true, nil
		}
		if rd.onlyIfCached {
			cc.observe(c, Miss)
			return fill{}, true, &graft.HTTPError{Status: http.StatusGatewayTimeout, Detail: "only-if-cached: the cache holds no fresh answer for this request"}
		}
	}
	head := r.Method == http.MethodHead
	f, leader := cc.join(key, !head)
	if f != nil && !leader {
		e, err := cc.wait(c, f, pol)
		if err != nil {
			cc.observe(c, Miss)
			return fill{}, true, err
		}
		now = cc.now()
		if e != nil && usable(e, rd, restricted, now) && (f.vary == nil || variantKey(key, f.vary, r.Header) == f.variant) {
			cc.replay(c, e, now, Joined)
			return fill{}, true, nil
		}
		f = nil // no answer for this request: run the endpoint without leading
	}
	cc.observe(c, Miss)
	if head {
		cc.setStatus(c, missValue)
		return fill{}, false, nil // a HEAD answer has no body to store: passed through
	}
	// rec.arm sets MISS, after it noted the headers already there.
	return fill{store: true, key: key, flight: f, restricted: restricted, gen: cc.gen.Load()}, false, nil
}

// start returns the time a lookup is judged by: the request's start
// (Ctx.StartTime, a clock reading shared with the access log and metrics)
// unless Config.Now gives a clock of its own.
func (cc *Cache) start(c *graft.Ctx) time.Time {
	if cc.cfg.Now != nil {
		return cc.cfg.Now()
	}
	return c.StartTime()
}

func (cc *Cache) bypass(c *graft.Ctx) {
	cc.setStatus(c, bypassValue)
	cc.observe(c, Bypass)
}

func (cc *Cache) setStatus(c *graft.Ctx, v []string) {
	if cc.hdr != "" {
		c.Response().Header()[cc.hdr] = v
	}
}

func (cc *Cache) observe(c *graft.Ctx, r Result) {
	if cc.cfg.Observe != nil {
		cc.cfg.Observe(c, r)
	}
}

// find returns the answer stored for key and the request's headers
// (following a Vary record), or nil. A store error is logged and is a
// miss.
func (cc *Cache) find(c *graft.Ctx, key string) *Entry {
	ctx := c.Request.Context()
	e, err := cc.store.Get(ctx, key)
	if err == nil && e != nil && e.Vary != nil {
		e, err = cc.store.Get(ctx, variantKey(key, e.Vary, c.Request.Header))
	}
	if err != nil {
		c.Logger().Warn("cache: store lookup failed; the endpoint answers", "route", c.RoutePattern(), "err", err)
		return nil
	}
	if e != nil && e.Vary != nil {
		return nil // a record where an answer should be: ignore
	}
	return e
}

// usable reports whether e may answer a request with directives rd now.
func usable(e *Entry, rd directives, restricted bool, now time.Time) bool {
	if !now.Before(e.Expires) || (restricted && !e.Shared) {
		return false
	}
	if rd.maxAge >= 0 && now.Sub(e.Created) > time.Duration(rd.maxAge)*time.Second {
		return false
	}
	if rd.minFresh >= 0 && e.Expires.Sub(now) < time.Duration(rd.minFresh)*time.Second {
		return false
	}
	return !rd.invalid
}

// replay answers with e through the Ctx (the response-header hooks run;
// extensions below, a compressor or an entity tagger, see it as any
// answer).
func (cc *Cache) replay(c *graft.Ctx, e *Entry, now time.Time, r Result) {
	w := c.Response()
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v // immutable, clipped: shared with the entry
	}
	h["Age"] = ageValue(now.Sub(e.Created))
	if cc.hdr != "" {
		h[cc.hdr] = hitValue
	}
	cc.observe(c, r)
	if e.Status == http.StatusOK && notModified(c.Request.Header, e.Header) {
		// The client has this answer (RFC 9111 §4.3.2): 304 with the
		// entry's headers but those of the body.
		delete(h, "Content-Length")
		delete(h, "Content-Type")
		delete(h, "Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(e.Status)
	if c.Request.Method != http.MethodHead && len(e.Body) > 0 {
		_, _ = w.Write(e.Body)
	}
}

// notModified evaluates a request's If-None-Match (weak comparison) or,
// without one, If-Modified-Since against a stored answer's ETag and
// Last-Modified (RFC 9110 §13.1.2, §13.1.3).
func notModified(req, stored http.Header) bool {
	if inm := req["If-None-Match"]; len(inm) > 0 {
		tag := headerValue(stored, "Etag")
		if tag == "" {
			return false
		}
		tag = strings.TrimPrefix(tag, "W/")
		for _, line := range inm {
			for line != "" {
				var item string
				item, line = nextItem(line)
				if item == "*" || (item != "" && strings.TrimPrefix(item, "W/") == tag) {
					return true
				}
			}
		}
		return false
	}
	ims, lm := headerValue(req, "If-Modified-Since"), headerValue(stored, "Last-Modified")
	if ims == "" || lm == "" {
		return false
	}
	since, err1 := http.ParseTime(ims)
	mod, err2 := http.ParseTime(lm)
	return err1 == nil && err2 == nil && !mod.After(since)
}

// ages holds the Age values of the first minutes, so that a hit does not
// allocate one.
var ages = func() [][]string {
	a := make([][]string, 600)
	for i := range a {
		a[i] = []string{strconv.Itoa(i)}
	}
	return a
}()

func ageValue(d time.Duration) []string {
	s := max(0, int64(d/time.Second))
	if s < int64(len(ages)) {
		return ages[s]
	}
	return []string{strconv.FormatInt(s, 10)}
}

// flight is one endpoint run that identical requests wait for.
type flight struct {
	done    chan struct{}
	entry   *Entry   // set before done is closed; nil: nothing to share
	vary    []string // the answer's Vary names, nil when it has none
	variant string   // the key of the answer when it varies
}

// join returns the flight of key and whether the caller leads it (runs
// the endpoint, then lands it); lead false only joins a running one (a
// HEAD request, which stores nothing). nil: no flight.
func (cc *Cache) join(key string, lead bool) (f *flight, leader bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if f = cc.flights[key]; f != nil {
		return f, false
	}
	if !lead {
		return nil, false
	}
	f = &flight{done: make(chan struct{})}
	cc.flights[key] = f
	return f, true
}

// land ends the flight of key with what it stored (nil for nothing).
func (cc *Cache) land(key string, f *flight, e *Entry, vary []string, variant string) {
	cc.mu.Lock()
	if cc.flights[key] == f {
		delete(cc.flights, key)
	}
	cc.mu.Unlock()
	f.entry, f.vary, f.variant = e, vary, variant
	close(f.done)
}

// wait waits for f within the request's context and the policy's
// WaitTimeout; it returns the flight's entry, nil when there is none or
// the wait timed out, or an error when the request's context ended.
func (cc *Cache) wait(c *graft.Ctx, f *flight, pol *policy) (*Entry, error) {
	ctx := c.Request.Context()
	cc.waits.Add(1)
	defer cc.waits.Add(-1)
	var timeout <-chan time.Time
	if pol.WaitTimeout > 0 {
		t := time.NewTimer(pol.WaitTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-f.done:
		return f.entry, nil
	case <-timeout:
		return nil, nil
	case <-ctx.Done():
		return nil, &graft.HTTPError{Status: http.StatusServiceUnavailable, Detail: "the request ended while waiting for the answer of an identical request", Err: ctx.Err()}
	}
}

// finish stores what rec captured, if it may be stored and no purge ran
// meanwhile, lands its flight and recycles it.
func (cc *Cache) finish(c *graft.Ctx, rec *recorder) {
	var stored *Entry
	var vary []string
	var variant string
	f, key := rec.fl.flight, rec.fl.key
	if e, names := rec.entry(cc.now()); e != nil && cc.gen.Load() == rec.fl.gen {
		ctx := context.WithoutCancel(c.Request.Context())
		target := key
		var err error
		if names != nil {
			variant = variantKey(key, names, c.Request.Header)
			target = variant
			err = cc.store.Set(ctx, key, &Entry{Vary: names, Created: e.Created, Expires: e.Expires})
		}
		if err == nil {
			err = cc.store.Set(ctx, target, e)
		}
		if err != nil {
			c.Logger().Warn("cache: storing the answer failed", "route", c.RoutePattern(), "err", err)
		} else {
			stored, vary = e, names
		}
	}
	if f != nil {
		cc.land(key, f, stored, vary, variant)
	}
	cc.putRecorder(rec)
}

// Purge removes the answers stored under key (see URLKey; a Policy.Key
// key as Key returned it): every variant and every user's.
func (cc *Cache) Purge(ctx context.Context, key string) error {
	cc.gen.Add(1)
	if err := cc.store.Delete(ctx, key); err != nil {
		return err
	}
	_, err := cc.store.DeletePrefix(ctx, key+sep)
	return err
}

// PurgePrefix removes every answer whose key starts with prefix
// (PurgePrefix(ctx, "/items/") for every item) and returns how many
// entries went.
func (cc *Cache) PurgePrefix(ctx context.Context, prefix string) (int, error) {
	cc.gen.Add(1)
	return cc.store.DeletePrefix(ctx, prefix)
}

// PurgeAll removes every answer.
func (cc *Cache) PurgeAll(ctx context.Context) error {
	cc.gen.Add(1)
	return cc.store.Clear(ctx)
}

var (
	_ graft.Plugin = (*Cache)(nil)
	_ graft.Plugin = (*variant)(nil)
)
