package sessions

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// ID is the extension's ID.
const ID = "graft.ext.sessions"

// Defaults of Options.
const (
	DefaultCookieName = "session"
	DefaultMaxAge     = 24 * time.Hour
)

// Options configures the extension.
type Options struct {
	// Store keeps the sessions; required. NewMemoryStore, NewCookieStore,
	// ext/sqlite's SessionStore, ext/sessions/redis's Store.
	Store Store
	// CookieName is the session cookie's name; default "session".
	CookieName string
	// MaxAge is how long a session lives after its last save (idle
	// expiry); default 24h. It is the store's TTL and the cookie's
	// Max-Age.
	MaxAge time.Duration
	// Rolling saves every loaded session at the end of its request, so
	// that MaxAge counts from the last request rather than the last
	// change (a store write per request).
	Rolling bool

	// Path, Domain, Secure and SameSite are the cookie's attributes; Path
	// defaults to "/", SameSite to Lax. The cookie is always HttpOnly.
	Path     string
	Domain   string
	Secure   bool
	SameSite http.SameSite
}

// Sessions is the extension. Make it with Extension.
type Sessions struct {
	opts Options
}

// Extension returns the sessions extension configured by opts.
func Extension(opts Options) *Sessions {
	if opts.CookieName == "" {
		opts.CookieName = DefaultCookieName
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Path == "" {
		opts.Path = "/"
	}
	if opts.SameSite == 0 {
		opts.SameSite = http.SameSiteLaxMode
	}
	return &Sessions{opts: opts}
}

// ID implements graft.Extension.
func (*Sessions) ID() string { return ID }

// state is the per-request session, in a property slot of the pooled
// context (cleared, maps included, when the request ends).
var state = graft.NewProperty[Session]("sessions.session", nil)

// Extend checks the options and installs the save steps: before the
// response headers (so a new or regenerated session's cookie goes out) and
// after the answer (changes made after the headers, to a session whose
// cookie is already right).
func (e *Sessions) Extend(b *graft.Builder) error {
	if e.opts.Store == nil {
		return errors.New("sessions: Options.Store is nil; use sessions.NewMemoryStore(), sessions.NewCookieStore(…) or a database store")
	}
	if e.opts.MaxAge < time.Second {
		return fmt.Errorf("sessions: Options.MaxAge %v is shorter than a second (cookies count in seconds)", e.opts.MaxAge)
	}
	if !validCookieName(e.opts.CookieName) {
		return fmt.Errorf("sessions: Options.CookieName %q is not a valid cookie name", e.opts.CookieName)
	}
	b.Property(state)
	b.Plugins(graft.PluginFunc(e.apply))
	b.OnWriteHeader(func(c *graft.Ctx, _ int) {
		if !state.IsSet(c) {
			return
		}
		s := state.Ptr(c)
		if s.e != e {
			return
		}
		if err := s.save(c.Context(), true); err != nil {
			c.Logger().ErrorContext(c.Context(), "sessions: saving the session failed; its changes are lost", "error", err)
		}
	})
	b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			err := next(c)
			if state.IsSet(c) {
				if s := state.Ptr(c); s.e == e {
					if serr := s.save(c.Context(), false); serr != nil {
						c.Logger().ErrorContext(c.Context(), "sessions: saving the session after the answer failed; its changes are lost", "error", serr)
					}
				}
			}
			return err
		}
	})
	return nil
}

// apply is the extension's endpoint plugin: it fills a typed endpoint's
// `plugin:""` field of type *Session with the request's session, and
// leaves endpoints without one unchanged.
func (e *Sessions) apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	field := graft.PluginField[*Session](sig)
	if field == nil {
		return next, nil
	}
	return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
		field.Set(in, Get(c, e))
		return next(ctx, c, in)
	}, nil
}

func validCookieName(n string) bool {
	for i := 0; i < len(n); i++ {
		ch := n[i]
		if ch <= ' ' || ch >= 0x7f || ch == '=' || ch == ';' || ch == ',' || ch == '"' || ch == '\\' {
			return false
		}
	}
	return n != ""
}

// Access is the context mixin of the extension: c.Session(). It belongs to
// the extension, so an app whose context embeds it fails to start until
// the extension is registered.
type Access struct{ graft.MixinOf[*Sessions] }

// Session returns the request's session, loaded from the store on first
// use. It is nil outside the scopes that registered the extension.
func (a *Access) Session() *Session {
	e := a.Extension()
	if e == nil {
		return nil
	}
	return Get(a.Ctx(), e)
}

// Get returns the request's session of extension e, for code that has a
// *graft.Ctx but not the mixin (middleware, plugins). Use it on routes in
// e's scope: elsewhere nothing saves the session.
func Get(c *graft.Ctx, e *Sessions) *Session {
	s := state.Ptr(c)
	if s.e == nil {
		s.e, s.c = e, c
	}
	return s
}

// Session is one request's view of its session. Reads load it from the
// store on first use; writes are recorded and saved, as per-key changes,
// right before the response headers are sent (and again after the answer
// for changes made later). Like the Ctx, a Session is for the request's
// goroutine.
type Session struct {
	e      *Sessions
	c      *graft.Ctx
	loaded bool
	err    error  // the load's error
	id     string // "" for a session the store does not hold yet
	cookie string // the id the request's cookie carried
	values map[string]string
	ch     Changes
	regen  bool
	killed bool // Destroy: drop the cookie unless a new session is saved
	saved  bool // the cookie was decided (set or dropped) for this answer
}

// Load loads the session if it is not yet, and returns the store's error,
// if any. A request without a valid session cookie gets a new, empty
// session. Get, Set and the others call it; after a failed load reads find
// nothing and writes are dropped (the client's cookie is left alone), so
// handlers that want to answer a failing store themselves (503) call Load
// first.
func (s *Session) Load() error {
	if s.loaded {
		return s.err
	}
	s.loaded = true
	raw, ok := s.c.Cookie(s.e.opts.CookieName)
	if !ok || raw == "" {
		return nil
	}
	s.cookie = raw
	values, found, err := s.e.opts.Store.Load(s.c.Context(), raw)
	if err != nil {
		s.err = fmt.Errorf("%w: loading the session: %w", ErrStore, err)
		return s.err
	}
	if !found {
		s.c.Logger().DebugContext(s.c.Context(), "sessions: the session cookie names no live session (unknown, expired or tampered); starting a new one", "cookie", s.e.opts.CookieName)
		return nil
	}
	s.id, s.values = raw, values
	return nil
}

// Get returns the value of key and whether the session has it.
func (s *Session) Get(key string) (string, bool) {
	if s.Load() != nil {
		return "", false
	}
	v, ok := s.values[key]
	return v, ok
}

// Values returns a copy of the session's values.
func (s *Session) Values() map[string]string {
	if s.Load() != nil {
		return nil
	}
	return maps.Clone(s.values)
}

// Set sets key to value.
func (s *Session) Set(key, value string) {
	if s.Load() != nil {
		return
	}
	if s.values == nil {
		s.values = map[string]string{}
	}
	s.values[key] = value
	if s.ch.Set == nil {
		s.ch.Set = map[string]string{}
	}
	s.ch.Set[key] = value
	s.ch.Del = deleteKey(s.ch.Del, key)
	s.saved = false
}

// Delete removes key.
func (s *Session) Delete(key string) {
	if s.Load() != nil {
		return
	}
	delete(s.values, key)
	delete(s.ch.Set, key)
	s.ch.Del = append(deleteKey(s.ch.Del, key), key)
	s.saved = false
}

func deleteKey(l []string, k string) []string {
	for i, x := range l {
		if x == k {
			return append(l[:i], l[i+1:]...)
		}
	}
	return l
}

// ID returns the session's id in its store ("" until a new session is
// saved). With the cookie store it is the cookie's value.
func (s *Session) ID() string {
	_ = s.Load()
	return s.id
}

// IsNew reports whether the session is not (yet) in the store.
func (s *Session) IsNew() bool { return s.ID() == "" }

// Regenerate gives the session a new id, keeping its values, and removes
// the old id from the store: call it when the user logs in (or their
// privileges change), so an id planted or seen before cannot ride on the
// new login (session fixation).
func (s *Session) Regenerate() {
	if s.Load() != nil {
		return
	}
	s.regen = true
	s.saved = false
}

// Destroy ends the session: the store forgets it at once and the cookie is
// dropped (logout). Values set afterwards start a new session.
func (s *Session) Destroy() error {
	if err := s.Load(); err != nil {
		return err
	}
	if s.id != "" {
		if err := s.e.opts.Store.Delete(s.c.Context(), s.id); err != nil {
			return fmt.Errorf("%w: deleting the session: %w", ErrStore, err)
		}
	}
	s.id, s.values, s.ch, s.regen = "", nil, Changes{}, false
	s.killed, s.saved = true, false
	return nil
}

// Save writes the session's changes to the store now and returns the
// store's error; the extension saves by itself otherwise (and logs such
// errors), so call it only to answer a failing store yourself. Call it
// before writing the answer: the cookie goes out with the headers.
func (s *Session) Save() error { return s.save(s.c.Context(), !s.c.Written()) }

// save writes the pending changes. early is true while the response
// headers can still change (the cookie can be set); later only a session
// whose id stays the same can be written.
func (s *Session) save(ctx context.Context, early bool) error {
	if !s.loaded || s.err != nil {
		return s.err
	}
	st := s.e.opts.Store
	roll := s.e.opts.Rolling && s.id != "" && !s.saved
	if s.ch.Empty() && !s.regen && !roll {
		if early && s.killed && !s.saved {
			s.setCookie("", -1)
			s.saved = true
		}
		return nil
	}
	if !early && (s.id == "" || s.regen) {
		return errLate
	}
	old, ch := s.id, s.ch
	if s.regen {
		old, ch = "", Changes{Set: maps.Clone(s.values)}
	}
	id, err := st.Save(ctx, old, ch, s.e.opts.MaxAge)
	if err != nil {
		return fmt.Errorf("%w: saving the session: %w", ErrStore, err)
	}
	if s.regen && s.id != "" && s.id != id {
		if err := st.Delete(ctx, s.id); err != nil {
			return fmt.Errorf("%w: deleting the session's old id: %w", ErrStore, err)
		}
	}
	s.id, s.ch, s.regen, s.saved = id, Changes{}, false, true
	if id != s.cookie || roll {
		if !early {
			return errLate // a cookie store: the new value cannot reach the client
		}
		s.setCookie(id, int(s.e.opts.MaxAge/time.Second))
		s.cookie = id
	}
	return nil
}

var errLate = errors.New("the session changed after the response headers were sent and needs a new cookie; change the session before writing the answer")

func (s *Session) setCookie(value string, maxAge int) {
	o := &s.e.opts
	ck := &http.Cookie{Name: o.CookieName, Value: value, Path: o.Path, Domain: o.Domain,
		MaxAge: maxAge, Secure: o.Secure, HttpOnly: true, SameSite: o.SameSite}
	s.c.Response().Header().Add("Set-Cookie", ck.String())
}
