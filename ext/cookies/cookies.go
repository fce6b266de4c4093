package cookies

import (
	"fmt"
	"net/http"
	"time"

	"github.com/graftgo/graft"
)

// ID is the extension's ID.
const ID = "graft.ext.cookies"

// Options are the attributes given to cookies the Jar sets.
type Options struct {
	Path     string
	Domain   string
	MaxAge   time.Duration
	Secure   bool
	HTTPOnly bool
	SameSite http.SameSite

	// Keys sign and encrypt the cookies of PutSigned and PutEncrypted, and
	// verify and decrypt those of SignedCookie and EncryptedCookie: the
	// first key seals, every key opens (rotation, see Codec). Each key is
	// at least MinKeyLen random bytes; a shorter or repeated one stops
	// start-up. Without keys, plain cookies work and sealed ones do not
	// (Put* return ErrNoKeys, reads find nothing).
	Keys [][]byte
	// SealedMaxAge is how long a sealed cookie lives when MaxAge is zero:
	// the expiry sealed inside it and its Max-Age. Default 24h.
	SealedMaxAge time.Duration
}

// DefaultSealedMaxAge is the life of a sealed cookie when neither MaxAge
// nor SealedMaxAge is set.
const DefaultSealedMaxAge = 24 * time.Hour

// changes is the per-request list of queued cookie changes.
type changes struct {
	set []*http.Cookie
}

// pending holds each request's queued changes; its default is built per
// request, and the pooled box is cleared when the request ends.
var pending = graft.NewProperty("cookies.pending", func() *changes { return &changes{} })

type extension struct {
	opts  Options
	codec *Codec
}

// Extension returns the cookies extension with the attributes for cookies
// it sets and the keys of its sealed cookies.
func Extension(opts Options) graft.Extension { return &extension{opts: opts} }

func (e *extension) ID() string { return ID }

func (e *extension) Extend(b *graft.Builder) error {
	if len(e.opts.Keys) > 0 {
		c, err := NewCodec(e.opts.Keys...)
		if err != nil {
			return fmt.Errorf("Options.Keys: %w", err)
		}
		e.codec = c
	}
	if e.opts.SealedMaxAge < 0 {
		return fmt.Errorf("Options.SealedMaxAge is negative (%v); leave it 0 for %v", e.opts.SealedMaxAge, DefaultSealedMaxAge)
	}
	b.Property(pending)
	b.OnWriteHeader(func(c *graft.Ctx, _ int) {
		if !pending.IsSet(c) {
			return
		}
		h := c.Response().Header()
		for _, ck := range pending.Get(c).set {
			if v := ck.String(); v != "" {
				h.Add("Set-Cookie", v)
			}
		}
	})
	return nil
}

// Jar is a context mixin giving handlers cookie methods. It belongs to the
// cookies extension: an app whose context type embeds a Jar fails to start
// until the extension is registered, and the Jar reads the options of the
// extension registered for the request's scope.
type Jar struct {
	graft.MixinOf[*extension]
}

// CookieValue returns the value of the request cookie name, or "".
func (j *Jar) CookieValue(name string) string {
	v, _ := j.Ctx().Cookie(name)
	return v
}

// options returns the options in force for the request, nil outside the
// scopes that registered the extension.
func (j *Jar) options() *Options {
	if e := j.Extension(); e != nil {
		return &e.opts
	}
	return nil
}

// PutCookie queues a cookie to be set on the response with the extension's
// attributes.
func (j *Jar) PutCookie(name, value string) {
	j.queue(j.cookie(name, value, 0))
}

func (j *Jar) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: value}
	if o := j.options(); o != nil {
		ck.Path, ck.Domain, ck.Secure, ck.HttpOnly, ck.SameSite = o.Path, o.Domain, o.Secure, o.HTTPOnly, o.SameSite
		if maxAge == 0 {
			maxAge = o.MaxAge
		}
	}
	if maxAge > 0 {
		ck.MaxAge = int(maxAge / time.Second)
	}
	return ck
}

func (j *Jar) queue(ck *http.Cookie) {
	p := pending.Get(j.Ctx())
	p.set = append(p.set, ck)
}

// sealed returns the codec and the life of sealed cookies, or ErrNoKeys.
func (j *Jar) sealed() (*Codec, time.Duration, error) {
	e := j.Extension()
	if e == nil || e.codec == nil {
		return nil, 0, ErrNoKeys
	}
	life := e.opts.MaxAge
	if life <= 0 {
		life = e.opts.SealedMaxAge
	}
	if life <= 0 {
		life = DefaultSealedMaxAge
	}
	return e.codec, life, nil
}

// PutSigned queues a signed cookie: the client can read value but not
// change it, nor its expiry (MaxAge, else SealedMaxAge, else 24h), which is
// sealed inside. It fails with ErrNoKeys without Options.Keys, and when the
// cookie would exceed MaxCookieLen.
func (j *Jar) PutSigned(name, value string) error {
	c, life, err := j.sealed()
	if err != nil {
		return err
	}
	return j.putSealed(name, c.Sign(name, value, time.Now().Add(life)), life)
}

// PutEncrypted queues an encrypted cookie: the client can neither read nor
// change value, nor its expiry (as for PutSigned).
func (j *Jar) PutEncrypted(name, value string) error {
	c, life, err := j.sealed()
	if err != nil {
		return err
	}
	return j.putSealed(name, c.Seal(name, value, time.Now().Add(life)), life)
}

func (j *Jar) putSealed(name, value string, life time.Duration) error {
	ck := j.cookie(name, value, life)
	if n := len(ck.String()); n > MaxCookieLen {
		return fmt.Errorf("cookies: sealed cookie %q is %d bytes, more than the %d browsers keep", name, n, MaxCookieLen)
	}
	j.queue(ck)
	return nil
}

// SignedCookie returns the value of a cookie set by PutSigned and whether
// it was present and valid. A tampered, wrongly keyed, expired or
// malformed cookie reads as absent; the reason is logged at debug level.
func (j *Jar) SignedCookie(name string) (string, bool) {
	return j.readSealed(name, (*Codec).Verify)
}

// EncryptedCookie returns the value of a cookie set by PutEncrypted and
// whether it was present and valid, as SignedCookie.
func (j *Jar) EncryptedCookie(name string) (string, bool) {
	return j.readSealed(name, (*Codec).Open)
}

func (j *Jar) readSealed(name string, open func(*Codec, string, string, time.Time) (string, error)) (string, bool) {
	raw, ok := j.Ctx().Cookie(name)
	if !ok {
		return "", false
	}
	c, _, err := j.sealed()
	if err == nil {
		var v string
		if v, err = open(c, name, raw, time.Now()); err == nil {
			return v, true
		}
	}
	j.Ctx().Logger().Debug("cookies: sealed cookie refused", "cookie", name, "reason", err)
	return "", false
}

// DropCookie queues the deletion of a cookie.
func (j *Jar) DropCookie(name string) {
	c := j.Ctx()
	ck := &http.Cookie{Name: name, MaxAge: -1}
	if o := j.options(); o != nil {
		ck.Path, ck.Domain = o.Path, o.Domain
	}
	p := pending.Get(c)
	p.set = append(p.set, ck)
}
