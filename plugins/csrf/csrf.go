package csrf

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/ext/sessions"
)

// Mode is how the plugin checks a request's token.
type Mode int

const (
	// DoubleSubmit (the default) is the stateless signed double-submit
	// cookie: a random token, signed with Config.Keys (and bound to
	// Config.SessionKey's value when given), sits in a cookie; the client
	// echoes it in a header or a form field; both must be equal and the
	// signature valid.
	DoubleSubmit Mode = iota
	// Synchronizer keeps the token in the request's ext/sessions session
	// (Config.Sessions); the client sends it in a header or a form field.
	Synchronizer
	// OriginOnly checks only the request's Fetch Metadata and Origin
	// (net/http's CrossOriginProtection), with no token at all.
	OriginOnly
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case DoubleSubmit:
		return "DoubleSubmit"
	case Synchronizer:
		return "Synchronizer"
	case OriginOnly:
		return "OriginOnly"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Defaults of Config.
const (
	DefaultHeader     = "X-CSRF-Token"
	DefaultFormField  = "csrf_token"
	DefaultCookieName = "csrf_token"
	DefaultSessionKey = "csrf_token"
	// MinKeyLen is the shortest signing key accepted: 32 random bytes.
	MinKeyLen = 32
	// MaxTokenLen is the longest token read from a header, a form field
	// or a session; a longer one is a mismatch without being compared.
	MaxTokenLen = 256
	// maxParts bounds the multipart parts scanned for the form field.
	maxParts = 1000
)

// Config configures the plugin. The zero value with Keys set is the
// signed double-submit cookie with the header X-CSRF-Token, the form field
// csrf_token, a Secure, SameSite=Lax cookie csrf_token on Path /, and the
// Fetch Metadata / Origin check.
type Config struct {
	// Mode is DoubleSubmit (default), Synchronizer or OriginOnly.
	Mode Mode

	// Keys sign double-submit tokens (HMAC-SHA256, each key expanded with
	// HKDF): the first signs, every key verifies. To rotate, put the new
	// key first and keep the old one after it while tokens it signed may
	// be in use; a safe request carrying a token of an old key gets a new
	// one. Required for DoubleSubmit, each at least MinKeyLen bytes.
	Keys [][]byte
	// SessionKey, when set, binds a double-submit token to a value of the
	// request: the user's id, a session id that exists before the token is
	// issued (OWASP's signed double-submit). A token issued for one value
	// does not verify for another (a "bad signature" 403), and a safe
	// request gets a new token when the value changed (after a login).
	SessionKey func(c *graft.Ctx) string

	// Sessions is the ext/sessions extension holding Synchronizer tokens;
	// required for that mode, and the endpoints must be in its scope.
	Sessions *sessions.Sessions
	// SessionField is the session key of the token; default "csrf_token".
	SessionField string

	// Header is the request header carrying the token; default
	// "X-CSRF-Token".
	Header string
	// FormField is the urlencoded or multipart form field carrying the
	// token when the header is absent; default "csrf_token", "-" for none.
	// Reading it buffers the body up to the field (all of an urlencoded
	// body, bounded by the body limit) and hands the handler the body
	// unchanged.
	FormField string
	// ResponseHeader, when set, also sends the token in this response
	// header on safe requests (for scripts that cannot read an HttpOnly
	// cookie, or the Synchronizer token for a single-page app).
	ResponseHeader string

	// CookieName is the double-submit cookie; default "csrf_token".
	// "__Host-csrf" is stronger (Secure, Path=/, no Domain enforced by
	// browsers) where the app is served over HTTPS.
	CookieName string
	// CookiePath is the cookie's Path; default "/".
	CookiePath string
	// CookieDomain is the cookie's Domain; default none (host only).
	CookieDomain string
	// InsecureCookie drops the cookie's Secure attribute, for development
	// over plain HTTP. The cookie is Secure by default.
	InsecureCookie bool
	// HTTPOnly hides the cookie from scripts. The default (false) lets a
	// script read it and echo it in the header; with HTTPOnly, set
	// ResponseHeader or render the token (Token) into the page.
	HTTPOnly bool
	// SameSite is the cookie's SameSite; default Lax.
	SameSite http.SameSite
	// MaxAge is the cookie's lifetime; default 0, a browser-session
	// cookie. The token itself does not expire: rotate Keys.
	MaxAge time.Duration

	// TrustedOrigins are origins ("https://app.example.com") allowed to
	// send unsafe requests cross-origin (net/http's
	// CrossOriginProtection.AddTrustedOrigin).
	TrustedOrigins []string
	// SkipOriginCheck turns off the Fetch Metadata / Origin check (for
	// APIs called cross-origin by design, where tokens alone decide).
	SkipOriginCheck bool
}

// Plugin is the CSRF plugin; make it with New and apply it with
// app.UsePlugins (typed endpoints), or take its Middleware (plain
// handlers). A bad Config stops start-up at the first endpoint it is
// applied to (Middleware returns it).
type Plugin struct {
	cfg     Config
	err     error
	hdr     string // canonical Header
	resHdr  string // canonical ResponseHeader
	origin  *http.CrossOriginProtection
	keys    [][]byte
	macs    []sync.Pool
	problem reflect.Type
}

// New returns the plugin for cfg.
func New(cfg Config) *Plugin {
	p := &Plugin{cfg: cfg, problem: reflect.TypeFor[graft.Problem]()}
	p.err = p.setup()
	if p.err != nil {
		p.err = fmt.Errorf("csrf: %w", p.err)
	}
	return p
}

func (p *Plugin) setup() error {
	c := &p.cfg
	c.Header = cmp(c.Header, DefaultHeader)
	c.FormField = cmp(c.FormField, DefaultFormField)
	c.CookieName = cmp(c.CookieName, DefaultCookieName)
	c.CookiePath = cmp(c.CookiePath, "/")
	c.SessionField = cmp(c.SessionField, DefaultSessionKey)
	if c.SameSite == 0 {
		c.SameSite = http.SameSiteLaxMode
	}
	p.hdr = textproto.CanonicalMIMEHeaderKey(c.Header)
	if c.ResponseHeader != "" {
		p.resHdr = textproto.CanonicalMIMEHeaderKey(c.ResponseHeader)
	}
	if !c.SkipOriginCheck {
		p.origin = http.NewCrossOriginProtection()
		for _, o := range c.TrustedOrigins {
			if err := p.origin.AddTrustedOrigin(o); err != nil {
				return fmt.Errorf("Config.TrustedOrigins has %q: %w; an origin is scheme://host[:port]", o, err)
			}
		}
	}
	switch c.Mode {
	case DoubleSubmit:
		if len(c.Keys) == 0 {
			return errors.New("Config.Keys is empty; DoubleSubmit signs its tokens: give at least one key of 32 random bytes (openssl rand -base64 32)")
		}
		if !validCookieName(c.CookieName) {
			return fmt.Errorf("Config.CookieName %q is not a valid cookie name", c.CookieName)
		}
		if strings.HasPrefix(c.CookieName, "__Host-") && (c.InsecureCookie || c.CookiePath != "/" || c.CookieDomain != "") {
			return fmt.Errorf("Config.CookieName %q has the __Host- prefix, which browsers accept only Secure, on Path / and without Domain", c.CookieName)
		}
		p.macs = make([]sync.Pool, len(c.Keys))
		seen := map[string]int{}
		for i, k := range c.Keys {
			if len(k) < MinKeyLen {
				return fmt.Errorf("Config.Keys[%d] is %d bytes; keys are at least %d random bytes", i, len(k), MinKeyLen)
			}
			if j, dup := seen[string(k)]; dup {
				return fmt.Errorf("Config.Keys[%d] repeats Config.Keys[%d]", i, j)
			}
			seen[string(k)] = i
			dk, err := hkdf.Key(sha256.New, k, nil, "graft/plugins/csrf token", 32)
			if err != nil {
				return err
			}
			p.keys = append(p.keys, dk)
			p.macs[i].New = func() any { return &macState{h: hmac.New(sha256.New, dk)} }
		}
	case Synchronizer:
		if c.Sessions == nil {
			return errors.New("Config.Sessions is nil; Synchronizer keeps the token in the session: pass the sessions extension (sessions.Extension(…)) registered on the app")
		}
	case OriginOnly:
		if c.SkipOriginCheck {
			return errors.New("Config.SkipOriginCheck with OriginOnly checks nothing; drop one")
		}
	default:
		return fmt.Errorf("Config.Mode %v is not a mode; use DoubleSubmit, Synchronizer or OriginOnly", c.Mode)
	}
	if c.MaxAge < 0 {
		return fmt.Errorf("Config.MaxAge is %v; give the cookie's lifetime, or 0 for a browser-session cookie", c.MaxAge)
	}
	return nil
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func validCookieName(n string) bool {
	for i := range len(n) {
		ch := n[i]
		if ch <= ' ' || ch >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", ch) >= 0 {
			return false
		}
	}
	return n != ""
}

// TokenValue is the request's current token, for a typed endpoint's
// plugin field: `CSRF csrf.TokenValue `plugin:""“ (render it into a form's
// hidden csrf_token field). It is "" in OriginOnly mode.
type TokenValue string

// state is the request's token, in the pooled context (cleared per
// request).
type state struct {
	p   *Plugin
	tok string
}

var current = graft.NewProperty[state]("csrf", nil)

// Token returns the request's current CSRF token, to render into a form
// or a page: issued by a safe request, the one a valid unsafe request
// sent. In Synchronizer mode a safe request's token is made and stored
// in the session on the first call (so pages that render no form touch
// no session). It is "" outside the plugin's endpoints and in OriginOnly
// mode.
func Token(c *graft.Ctx) string {
	st := current.Ptr(c)
	if st.tok == "" && st.p != nil && st.p.cfg.Mode == Synchronizer && safe(c.Request.Method) {
		if err := st.p.issueSession(c, st); err != nil {
			c.Logger().ErrorContext(c.Context(), "csrf: storing a token in the session failed", "error", err)
		}
	}
	return st.tok
}

// safe reports the methods RFC 9110 defines as safe: they pass and get a
// token; every other method is checked.
func safe(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// Apply is the plugin: every typed endpoint it applies to checks unsafe
// requests before anything is read (a pre-bind hook) and issues tokens on
// safe ones; it fills a TokenValue plugin field; for endpoints of unsafe
// methods it adds the header param (and the form field of form
// endpoints) and the 403 to the signature.
func (p *Plugin) Apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	if p.err != nil {
		return nil, p.err
	}
	if !safe(sig.Method) || p.cfg.Mode != OriginOnly {
		sig.PreBind(p.Check)
	}
	if !safe(sig.Method) {
		if p.cfg.Mode != OriginOnly {
			sig.AddParam(graft.Param{Name: p.cfg.Header, In: graft.InHeader, Type: reflect.TypeFor[string](),
				Doc: "the CSRF token (" + p.source() + "); or the form field " + p.cfg.FormField})
			if sig.Form != nil && p.cfg.FormField != "-" {
				sig.AddParam(graft.Param{Name: p.cfg.FormField, In: graft.InForm, Type: reflect.TypeFor[string](),
					Doc: "the CSRF token, when the " + p.cfg.Header + " header is absent"})
			}
		}
		sig.AddReturn(graft.Return{Status: http.StatusForbidden, Type: p.problem,
			MediaType: "application/problem+json", Encoder: "problem",
			Description: "cross-site request rejected: no valid CSRF token, or a cross-origin browser request"})
	}
	field := graft.PluginField[TokenValue](sig)
	if field == nil {
		return next, nil
	}
	return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
		field.Set(in, TokenValue(Token(c)))
		return next(ctx, c, in)
	}, nil
}

func (p *Plugin) source() string {
	if p.cfg.Mode == Synchronizer {
		if p.resHdr != "" {
			return "as rendered into the page or sent in the " + p.cfg.ResponseHeader + " response header"
		}
		return "as rendered into the page"
	}
	return "the value of the " + p.cfg.CookieName + " cookie"
}

// Middleware returns the same check for plain handlers (app.Use(mw) or
// graft.WithMiddleware(mw)): an unsafe request without a valid token is
// answered 403, a safe one gets its token. It returns the Config's
// mistake, if any, so that it stops start-up where the app is built.
func (p *Plugin) Middleware() (graft.Middleware, error) {
	if p.err != nil {
		return nil, p.err
	}
	return func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			if err := p.Check(c); err != nil {
				return err
			}
			return next(c)
		}
	}, nil
}

// Reasons a request is rejected, the Err of its 403 (errors.Is).
var (
	ErrCrossOrigin   = errors.New("csrf: cross-origin request")
	ErrMissingCookie = errors.New("csrf: missing token cookie")
	ErrMissingStored = errors.New("csrf: no token in the session")
	ErrMissingToken  = errors.New("csrf: missing token in the request")
	ErrBadSignature  = errors.New("csrf: bad token signature")
	ErrMismatch      = errors.New("csrf: token mismatch")
)

func forbidden(reason error, detail string) error {
	return &graft.HTTPError{Status: http.StatusForbidden, Detail: detail, Err: reason}
}

// Check is the plugin's pre-bind hook, for other wiring: nil for a
// request that may go on (a safe one, which gets its token), else the 403
// to answer.
func (p *Plugin) Check(c *graft.Ctx) error {
	st := current.Ptr(c)
	st.p = p
	r := c.Request
	if safe(r.Method) {
		return p.issue(c, st)
	}
	if p.origin != nil {
		if err := p.origin.Check(r); err != nil {
			return forbidden(ErrCrossOrigin, p.crossOriginDetail(r))
		}
	}
	switch p.cfg.Mode {
	case DoubleSubmit:
		return p.checkDouble(c, st)
	case Synchronizer:
		return p.checkSession(c, st)
	}
	return nil
}

func (p *Plugin) crossOriginDetail(r *http.Request) string {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return fmt.Sprintf("cross-origin request rejected: the browser says Sec-Fetch-Site: %.32q, and the origin %.100q is not trusted", s, r.Header.Get("Origin"))
	}
	return fmt.Sprintf("cross-origin request rejected: the Origin %.100q is neither this host (%.100q) nor trusted", r.Header.Get("Origin"), r.Host)
}

func (p *Plugin) checkDouble(c *graft.Ctx, st *state) error {
	ck := cookie(c.Request, p.cfg.CookieName)
	if ck == "" {
		return forbidden(ErrMissingCookie, "missing the CSRF cookie "+p.cfg.CookieName+"; load a page of the site first (a safe request sets it)")
	}
	if _, ok := p.verify(c, ck); !ok {
		return forbidden(ErrBadSignature, "the CSRF cookie "+p.cfg.CookieName+" has a bad signature: tampered with, signed by a retired key or issued for another session; load a page again for a new one")
	}
	sent, err := p.submitted(c)
	if err != nil {
		return err
	}
	if sent == "" {
		return p.missing()
	}
	if len(sent) > MaxTokenLen || subtle.ConstantTimeCompare([]byte(sent), []byte(ck)) != 1 {
		return forbidden(ErrMismatch, "the CSRF token sent does not match the "+p.cfg.CookieName+" cookie")
	}
	st.tok = ck
	return nil
}

func (p *Plugin) checkSession(c *graft.Ctx, st *state) error {
	s := sessions.Get(c, p.cfg.Sessions)
	if err := s.Load(); err != nil {
		return &graft.HTTPError{Status: http.StatusServiceUnavailable, Detail: "the session store is not available; try again", Err: err}
	}
	want, ok := s.Get(p.cfg.SessionField)
	if !ok || want == "" {
		return forbidden(ErrMissingStored, "the session holds no CSRF token (a new or expired session); load the form again")
	}
	sent, err := p.submitted(c)
	if err != nil {
		return err
	}
	if sent == "" {
		return p.missing()
	}
	if len(sent) > MaxTokenLen || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
		return forbidden(ErrMismatch, "the CSRF token sent does not match the session's")
	}
	st.tok = want
	return nil
}

func (p *Plugin) missing() error {
	where := "the " + p.cfg.Header + " header"
	if p.cfg.FormField != "-" {
		where += " or the " + p.cfg.FormField + " form field"
	}
	return forbidden(ErrMissingToken, "missing the CSRF token: send it in "+where)
}

// issue gives a safe request its token: the double-submit cookie's when
// it verifies with the current key for the current session key, else a
// new one set in the cookie. Synchronizer tokens are made on demand
// (Token), unless ResponseHeader asks for one on every safe request.
func (p *Plugin) issue(c *graft.Ctx, st *state) error {
	switch p.cfg.Mode {
	case DoubleSubmit:
		if ck := cookie(c.Request, p.cfg.CookieName); ck != "" {
			if idx, ok := p.verify(c, ck); ok && idx == 0 {
				st.tok = ck
				break
			}
		}
		st.tok = p.sign(c)
		ck := &http.Cookie{Name: p.cfg.CookieName, Value: st.tok, Path: p.cfg.CookiePath, Domain: p.cfg.CookieDomain,
			Secure: !p.cfg.InsecureCookie, HttpOnly: p.cfg.HTTPOnly, SameSite: p.cfg.SameSite}
		if p.cfg.MaxAge > 0 {
			ck.MaxAge = int(p.cfg.MaxAge / time.Second)
		}
		c.SetCookie(ck)
	case Synchronizer:
		if p.resHdr == "" {
			return nil
		}
		if err := p.issueSession(c, st); err != nil {
			return &graft.HTTPError{Status: http.StatusServiceUnavailable, Detail: "the session store is not available; try again", Err: err}
		}
	default:
		return nil
	}
	if p.resHdr != "" {
		c.Response().Header()[p.resHdr] = []string{st.tok}
	}
	return nil
}

func (p *Plugin) issueSession(c *graft.Ctx, st *state) error {
	s := sessions.Get(c, p.cfg.Sessions)
	if err := s.Load(); err != nil {
		return err
	}
	if tok, ok := s.Get(p.cfg.SessionField); ok && tok != "" && len(tok) <= MaxTokenLen {
		st.tok = tok
		return nil
	}
	st.tok = random()
	s.Set(p.cfg.SessionField, st.tok)
	return nil
}

var b64 = base64.RawURLEncoding

// random returns 256 random bits, base64url.
func random() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return b64.EncodeToString(b[:])
}

// sign makes a double-submit token: RANDOM.MAC, MAC the HMAC-SHA256 of
// the random part and the session key under the first key.
func (p *Plugin) sign(c *graft.Ctx) string {
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand)
	const n = 43             // b64.EncodedLen(32)
	var buf [n + 1 + n]byte
	b64.Encode(buf[:n], raw[:])
	sum := mac(p, 0, p.sessionKey(c), buf[:n])
	buf[n] = '.'
	b64.Encode(buf[n+1:], sum[:])
	return string(buf[:])
}

// verify checks a double-submit token's MAC against every key and returns
// the index of the key that made it.
func (p *Plugin) verify(c *graft.Ctx, tok string) (int, bool) {
	if len(tok) > MaxTokenLen {
		return 0, false
	}
	r, m, ok := strings.Cut(tok, ".")
	if !ok || r == "" {
		return 0, false
	}
	if len(m) != b64.EncodedLen(sha256.Size) {
		return 0, false
	}
	var want [sha256.Size]byte
	var src [43]byte
	copy(src[:], m)
	if n, err := b64.Decode(want[:], src[:]); err != nil || n != sha256.Size {
		return 0, false
	}
	sk := p.sessionKey(c)
	for i := range p.keys {
		if got := mac(p, i, sk, r); hmac.Equal(got[:], want[:]) {
			return i, true
		}
	}
	return 0, false
}

func (p *Plugin) sessionKey(c *graft.Ctx) string {
	if p.cfg.SessionKey == nil {
		return ""
	}
	return p.cfg.SessionKey(c)
}

// macState is a pooled HMAC with its scratch space, so that a MAC costs
// no allocation.
type macState struct {
	h   hash.Hash
	msg []byte
	sum [sha256.Size]byte
}

// mac returns the MAC of (sessionKey, r) under key i: the length of the
// session key (4 bytes, big endian), the session key, the random part.
func mac[R string | []byte](p *Plugin, i int, sessionKey string, r R) [sha256.Size]byte {
	m := p.macs[i].Get().(*macState)
	m.h.Reset()
	m.msg = binary.BigEndian.AppendUint32(m.msg[:0], uint32(len(sessionKey)))
	m.msg = append(m.msg, sessionKey...)
	m.msg = append(m.msg, r...)
	m.h.Write(m.msg)
	m.h.Sum(m.sum[:0])
	out := m.sum
	if cap(m.msg) > 4<<10 {
		m.msg = nil // a huge session key: not kept in the pool
	}
	p.macs[i].Put(m)
	return out
}

// cookie returns the value of the request cookie name without parsing
// the others (Request.Cookie allocates every cookie it reads).
func cookie(r *http.Request, name string) string {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	return ""
}

// submitted returns the token the request sent: the header, else the
// form field of an urlencoded or multipart body. The body is put back
// as it was for the binder and the handler.
func (p *Plugin) submitted(c *graft.Ctx) (string, error) {
	if v := c.Request.Header[p.hdr]; len(v) > 0 && v[0] != "" {
		return v[0], nil
	}
	if p.cfg.FormField == "-" {
		return "", nil
	}
	r := c.Request
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || r.Body == nil || r.Body == http.NoBody {
		return "", nil
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		b, err := c.Body() // bounded by the body limit: 413 beyond
		if err != nil {
			return "", err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		vs, err := url.ParseQuery(string(b))
		if err != nil {
			return "", &graft.HTTPError{Status: http.StatusBadRequest, Detail: "malformed form body: " + err.Error(), Err: err}
		}
		return vs.Get(p.cfg.FormField), nil
	case "multipart/form-data":
		return p.multipartField(c, params["boundary"])
	}
	return "", nil
}

// multipartField reads the multipart body up to the token's field,
// keeping every byte read, and puts them back in front of the rest.
func (p *Plugin) multipartField(c *graft.Ctx, boundary string) (string, error) {
	r := c.Request
	if boundary == "" {
		return "", nil
	}
	orig := r.Body
	var seen bytes.Buffer
	limited := http.MaxBytesReader(c.Response(), orig, c.BodyLimit())
	mr := multipart.NewReader(io.TeeReader(limited, &seen), boundary)
	defer func() {
		r.Body = readCloser{io.MultiReader(bytes.NewReader(seen.Bytes()), orig), orig}
	}()
	for range maxParts {
		part, err := mr.NextPart()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return "", &graft.HTTPError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body exceeds the limit of %d bytes", mbe.Limit), Err: err}
			}
			return "", nil // the end, or a malformed body: no token (the 403 says it is missing)
		}
		if part.FormName() != p.cfg.FormField || part.FileName() != "" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, MaxTokenLen+1))
		if err != nil {
			return "", nil
		}
		return string(b), nil
	}
	return "", nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
