package cookies

import (
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
}

// changes is the per-request list of queued cookie changes.
type changes struct {
	set []*http.Cookie
}

// pending holds each request's queued changes; its default is built per
// request, and the pooled box is cleared when the request ends.
var pending = graft.NewProperty("cookies.pending", func() *changes { return &changes{} })

type extension struct{ opts Options }

// Extension returns the cookies extension with the attributes for cookies
// it sets.
func Extension(opts Options) graft.Extension { return &extension{opts: opts} }

func (e *extension) ID() string { return ID }

func (e *extension) Extend(b *graft.Builder) error {
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
	c := j.Ctx()
	ck := &http.Cookie{Name: name, Value: value}
	if o := j.options(); o != nil {
		ck.Path, ck.Domain, ck.Secure, ck.HttpOnly, ck.SameSite = o.Path, o.Domain, o.Secure, o.HTTPOnly, o.SameSite
		if o.MaxAge > 0 {
			ck.MaxAge = int(o.MaxAge / time.Second)
		}
	}
	p := pending.Get(c)
	p.set = append(p.set, ck)
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
