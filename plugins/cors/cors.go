package cors

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/graftgo/graft"
)

// Config configures the CORS extension.
type Config struct {
	// AllowOrigins lists the allowed origins: exact ("https://a.com"),
	// patterns with one "*" for one or more DNS labels
	// ("https://*.a.com"), or "*" alone for any origin. At least one, or
	// AllowOriginFunc.
	AllowOrigins []string
	// AllowOriginFunc, when set, allows an origin that AllowOrigins does
	// not list. It gets the Origin header as sent.
	AllowOriginFunc func(origin string) bool
	// AllowMethods are the methods a preflight may ask for (GET, HEAD,
	// POST, PUT, PATCH, DELETE when empty).
	AllowMethods []string
	// AllowHeaders are the request headers a preflight may ask for
	// (Accept, Authorization, Content-Type, X-Requested-With when empty).
	// "*" allows any: answered as "*" without credentials, and by
	// listing the requested headers with them.
	AllowHeaders []string
	// ExposeHeaders are the response headers scripts may read beyond the
	// safelisted ones (e.g. X-Request-Id).
	ExposeHeaders []string
	// AllowCredentials lets browsers send cookies and HTTP auth and read
	// the answer (Access-Control-Allow-Credentials: true).
	AllowCredentials bool
	// MaxAge is how long browsers may cache a preflight answer
	// (Access-Control-Max-Age; 10 minutes when zero, none when negative).
	MaxAge time.Duration
}

// Ext is the CORS extension; make it with New and register it on the app.
type Ext struct {
	cfg     Config
	err     error
	any     bool // "*" among the origins
	exact   map[string]bool
	pattern []pattern
	methods map[string]bool
	headers map[string]bool // lower case
	anyHdr  bool

	// precomputed header values (len == cap, so an Add by others copies)
	allowMethods, allowHeaders, exposeHeaders, maxAge, star, vary, varyPreflight, credTrue []string
}

type pattern struct{ prefix, suffix string }

// New returns the CORS extension for cfg. A bad cfg makes Start fail
// naming the extension and the mistake.
func New(cfg Config) *Ext {
	e := &Ext{cfg: cfg}
	e.err = e.setup()
	return e
}

// ID is "cors".
func (e *Ext) ID() string { return "cors" }

func one(s string) []string { return []string{s}[:1:1] }

func (e *Ext) setup() error {
	cfg := e.cfg
	if len(cfg.AllowOrigins) == 0 && cfg.AllowOriginFunc == nil {
		return errors.New("Config.AllowOrigins is empty and AllowOriginFunc is nil; list the origins allowed (e.g. \"https://app.example.com\"), or \"*\" for any without credentials")
	}
	e.exact = map[string]bool{}
	for _, o := range cfg.AllowOrigins {
		lo := strings.ToLower(strings.TrimSpace(o))
		switch n := strings.Count(lo, "*"); {
		case lo == "*":
			e.any = true
		case n == 0:
			if !strings.Contains(lo, "://") || strings.HasSuffix(lo, "/") {
				return fmt.Errorf("Config.AllowOrigins has %q; an origin is scheme://host[:port], without a path or a trailing slash", o)
			}
			e.exact[lo] = true
		case n == 1:
			pre, suf, _ := strings.Cut(lo, "*")
			if !strings.HasSuffix(pre, "://") || !strings.HasPrefix(suf, ".") || strings.Contains(suf, "/") {
				return fmt.Errorf("Config.AllowOrigins has %q; a pattern puts its * right after the scheme, for whole labels: \"https://*.example.com\"", o)
			}
			e.pattern = append(e.pattern, pattern{pre, suf})
		default:
			return fmt.Errorf("Config.AllowOrigins has %q; a pattern has one *", o)
		}
	}
	if e.any && cfg.AllowCredentials {
		return errors.New("Config.AllowOrigins has \"*\" with AllowCredentials; browsers refuse credentials for any origin: list the origins (patterns like https://*.example.com allowed)")
	}
	if e.any && (len(e.exact) > 0 || len(e.pattern) > 0) {
		return errors.New("Config.AllowOrigins has \"*\" next to other origins; \"*\" alone allows every origin")
	}
	methods := cfg.AllowMethods
	if len(methods) == 0 {
		methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
	}
	e.methods = map[string]bool{}
	for _, m := range methods {
		if m == "" || m != strings.ToUpper(m) || strings.ContainsAny(m, " ,") {
			return fmt.Errorf("Config.AllowMethods has %q; use upper-case method names like \"PUT\"", m)
		}
		e.methods[m] = true
	}
	headers := cfg.AllowHeaders
	if len(headers) == 0 {
		headers = []string{"Accept", "Authorization", "Content-Type", "X-Requested-With"}
	}
	e.headers = map[string]bool{}
	for _, h := range headers {
		if h == "*" {
			e.anyHdr = true
			continue
		}
		if h == "" || strings.ContainsAny(h, " ,:") {
			return fmt.Errorf("Config.AllowHeaders has %q; list header names like \"X-Api-Key\"", h)
		}
		e.headers[strings.ToLower(h)] = true
	}
	e.allowMethods = one(strings.Join(methods, ", "))
	if !e.anyHdr {
		e.allowHeaders = one(strings.Join(headers, ", "))
	}
	if len(cfg.ExposeHeaders) > 0 {
		e.exposeHeaders = one(strings.Join(cfg.ExposeHeaders, ", "))
	}
	switch {
	case cfg.MaxAge == 0:
		e.maxAge = one("600")
	case cfg.MaxAge > 0:
		e.maxAge = one(strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10))
	}
	e.star = one("*")
	e.vary = one("Origin")
	e.varyPreflight = one("Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	e.credTrue = one("true")
	return nil
}

// Extend adds the middleware; it fails on a bad Config or on a group.
func (e *Ext) Extend(b *graft.Builder) error {
	if e.err != nil {
		return e.err
	}
	if b.Scope() != "" {
		return fmt.Errorf("registered on the group %s; register cors on the app, where preflights to paths without an OPTIONS route arrive", b.Scope())
	}
	b.Use(e.middleware)
	return nil
}

// Allowed reports whether origin (an Origin header's value) is allowed.
func (e *Ext) Allowed(origin string) bool {
	if origin == "" || e.err != nil {
		return false
	}
	if e.any {
		return true
	}
	lo := lower(origin)
	if e.exact[lo] {
		return true
	}
	for _, p := range e.pattern {
		if len(lo) > len(p.prefix)+len(p.suffix) && strings.HasPrefix(lo, p.prefix) && strings.HasSuffix(lo, p.suffix) &&
			labels(lo[len(p.prefix):len(lo)-len(p.suffix)]) {
			return true
		}
	}
	return e.cfg.AllowOriginFunc != nil && e.cfg.AllowOriginFunc(origin)
}

// lower lower-cases s, without allocating when it is lower case already.
func lower(s string) string {
	for i := range len(s) {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// labels reports whether s is one or more DNS labels: letters, digits and
// hyphens, dot-separated, none empty.
func labels(s string) bool {
	prev := byte('.')
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case c == '.' && prev != '.':
		default:
			return false
		}
		prev = c
	}
	return prev != '.'
}

func (e *Ext) middleware(next graft.HandlerFunc) graft.HandlerFunc {
	return func(c *graft.Ctx) error {
		r := c.Request
		h := c.Response().Header()
		origin := r.Header.Get("Origin")
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			return e.preflight(c, h, origin)
		}
		if !e.any {
			addVary(h, e.vary)
		}
		if origin != "" && e.Allowed(origin) {
			e.allowOrigin(h, origin)
			if e.exposeHeaders != nil {
				h["Access-Control-Expose-Headers"] = e.exposeHeaders
			}
		}
		return next(c)
	}
}

func (e *Ext) allowOrigin(h http.Header, origin string) {
	if e.any {
		h["Access-Control-Allow-Origin"] = e.star
		return
	}
	h["Access-Control-Allow-Origin"] = []string{origin}
	if e.cfg.AllowCredentials {
		h["Access-Control-Allow-Credentials"] = e.credTrue
	}
}

// addVary adds v to the Vary header, sharing the precomputed slice when
// the header is not set yet.
func addVary(h http.Header, v []string) {
	if old, ok := h["Vary"]; ok {
		h["Vary"] = append(old, v[0])
		return
	}
	h["Vary"] = v
}

func (e *Ext) preflight(c *graft.Ctx, h http.Header, origin string) error {
	addVary(h, e.varyPreflight)
	if !e.Allowed(origin) {
		return forbidden("the origin " + strconv.Quote(origin) + " is not allowed to call this API")
	}
	method := c.Request.Header.Get("Access-Control-Request-Method")
	if !e.methods[method] {
		return forbidden("the method " + strconv.Quote(method) + " is not allowed; allowed: " + e.allowMethods[0])
	}
	reqHeaders := c.Request.Header.Values("Access-Control-Request-Headers")
	if !e.anyHdr {
		for _, line := range reqHeaders {
			for name := range strings.SplitSeq(line, ",") {
				name = strings.TrimSpace(name)
				if name != "" && !e.headers[lower(name)] {
					return forbidden("the request header " + strconv.Quote(name) + " is not allowed; allowed: " + e.allowHeaders[0])
				}
			}
		}
	}
	e.allowOrigin(h, origin)
	h["Access-Control-Allow-Methods"] = e.allowMethods
	switch {
	case !e.anyHdr:
		h["Access-Control-Allow-Headers"] = e.allowHeaders
	case !e.cfg.AllowCredentials:
		h["Access-Control-Allow-Headers"] = e.star
	case len(reqHeaders) > 0:
		h["Access-Control-Allow-Headers"] = []string{strings.Join(reqHeaders, ", ")}
	}
	if e.maxAge != nil {
		h["Access-Control-Max-Age"] = e.maxAge
	}
	return c.NoContent()
}

func forbidden(detail string) error {
	return &graft.HTTPError{Status: http.StatusForbidden, Title: "CORS request not allowed", Detail: detail}
}

var _ graft.Extension = (*Ext)(nil)
