package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

// Config configures a Limiter.
type Config struct {
	// Policy is the quota. Limit and Window are required.
	Policy Policy
	// Store keeps the counters (a memory store of the limiter's own when
	// nil). Share one Redis store between nodes for a limit they share.
	Store Store
	// Key is what requests are counted by (IP(IPConfig{}) when nil: the
	// peer address, no proxy trusted).
	Key Key
	// Now is the clock (time.Now when nil); tests inject one.
	Now func() time.Time
	// Skip leaves the endpoints it returns true for alone (the plugin
	// returns them unchanged).
	Skip func(sig *graft.Signature) bool
	// FailOpen lets requests through, logged, when the store fails (Redis
	// is down); by default they are answered 503.
	FailOpen bool
}

// Limiter applies a policy: as an endpoint plugin (Apply), as middleware
// for plain routes (Middleware), or called directly, e.g. per WebSocket
// message (Take, Messages). Make it with New; it is safe for concurrent
// use.
type Limiter struct {
	cfg       Config
	err       error
	policyHdr []string // the RateLimit-Policy value, the same for every answer
	quoted    string   // the policy's name as a structured-field string
}

// New returns the limiter for cfg. A mistake in cfg is reported where the
// limiter is used: at start-up by the plugin and the middleware (naming
// the endpoint), by Take and by Err.
func New(cfg Config) *Limiter {
	l := &Limiter{cfg: cfg}
	l.err = l.setup()
	return l
}

func (l *Limiter) setup() error {
	if err := l.cfg.Policy.check(); err != nil {
		return err
	}
	if l.cfg.Store == nil {
		s, err := NewMemoryStore(MemoryConfig{})
		if err != nil {
			return err
		}
		l.cfg.Store = s
	}
	if l.cfg.Key == nil {
		l.cfg.Key = IP(IPConfig{})
	}
	if l.cfg.Now == nil {
		l.cfg.Now = time.Now
	}
	p := &l.cfg.Policy
	l.quoted = sfString(p.Name)
	l.policyHdr = []string{l.quoted + ";q=" + strconv.Itoa(p.Limit) + ";w=" + strconv.FormatInt(ceilSeconds(p.Window), 10)}
	return nil
}

// Err returns the configuration mistake New found, or nil.
func (l *Limiter) Err() error { return l.err }

// Policy returns the limiter's policy, defaults filled in.
func (l *Limiter) Policy() Policy { return l.cfg.Policy }

// Take counts one request for key and returns the decision; an error is
// the configuration's or the store's.
func (l *Limiter) Take(ctx context.Context, key string) (Decision, error) {
	return l.TakeN(ctx, key, 1)
}

// TakeN counts a request of n units (n ≥ 1) for key.
func (l *Limiter) TakeN(ctx context.Context, key string, n int) (Decision, error) {
	if l.err != nil {
		return Decision{}, l.err
	}
	if n < 1 {
		return Decision{}, fmt.Errorf("ratelimit: TakeN(%q, %d): a request costs at least 1", key, n)
	}
	return l.cfg.Store.Take(ctx, &l.cfg.Policy, key, l.cfg.Now(), n)
}

// SetHeaders sets the RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers for d on h:
//
//	RateLimit-Policy: "default";q=100;w=60
//	RateLimit: "default";r=42;t=17
//
// r is the remaining quota and t the seconds (rounded up) until it is
// whole again.
func (l *Limiter) SetHeaders(h http.Header, d Decision) {
	h["Ratelimit-Policy"] = l.policyHdr
	var buf [64]byte
	b := append(buf[:0], l.quoted...)
	b = append(b, ";r="...)
	b = strconv.AppendInt(b, int64(max(0, d.Remaining)), 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, ceilSeconds(d.Reset), 10)
	h["Ratelimit"] = []string{string(b)}
}

// Denied returns the 429 answer for a denied decision: problem+json with
// Retry-After (whole seconds, at least 1).
func (l *Limiter) Denied(d Decision) *graft.HTTPError {
	p := &l.cfg.Policy
	retry := max(1, ceilSeconds(d.RetryAfter))
	return &graft.HTTPError{
		Status: http.StatusTooManyRequests,
		Detail: fmt.Sprintf("rate limit %q of %d requests per %v reached; retry in %d s", p.Name, p.Limit, p.Window, retry),
		Header: http.Header{"Retry-After": {strconv.FormatInt(retry, 10)}},
	}
}

// check counts the request under key and answers it when it is over the
// limit or the store failed.
func (l *Limiter) check(c *graft.Ctx, key string) error {
	if key == "" {
		return nil
	}
	d, err := l.cfg.Store.Take(c.Request.Context(), &l.cfg.Policy, key, l.cfg.Now(), 1)
	if err != nil {
		if l.cfg.FailOpen {
			c.Logger().Warn("ratelimit: store failed; request let through (FailOpen)", "policy", l.cfg.Policy.Name, "route", c.RoutePattern(), "err", err)
			return nil
		}
		return &graft.HTTPError{Status: http.StatusServiceUnavailable, Detail: "the rate limit cannot be checked now; retry later", Err: err}
	}
	l.SetHeaders(c.Response().Header(), d)
	if !d.Allowed {
		return l.Denied(d)
	}
	return nil
}

// Apply is the plugin: endpoints whose Key applies (every endpoint for IP
// and Func, those with the plugin field for User) get the limit, a 429
// outcome in their signature and the RateLimit fields on their answers;
// the others are returned unchanged. IP and Func keys are checked before
// binding (a pre-bind hook: no body is read for a limited request), User
// keys after it.
func (l *Limiter) Apply(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	if l.err != nil {
		return nil, l.err
	}
	if l.cfg.Skip != nil && l.cfg.Skip(sig) {
		return next, nil
	}
	k, err := l.cfg.Key.keyFor(sig)
	if err != nil {
		return nil, err
	}
	switch {
	case k.pre != nil:
		sig.PreBind(func(c *graft.Ctx) error { return l.check(c, k.pre(c)) })
	case k.post != nil:
		inner := next
		next = func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
			if err := l.check(c, k.post(in)); err != nil {
				return nil, err
			}
			return inner(ctx, c, in)
		}
	default:
		return next, nil
	}
	sig.AddReturn(graft.Return{
		Status: http.StatusTooManyRequests, Type: reflect.TypeFor[graft.Problem](),
		MediaType: "application/problem+json", Encoder: "problem",
		Headers:     []graft.Param{{Name: "Retry-After", In: graft.InHeader, Type: reflect.TypeFor[int](), Doc: "seconds until a request would be allowed"}},
		Description: "rate limit " + strconv.Quote(l.cfg.Policy.Name) + " reached",
	})
	return next, nil
}

// Middleware returns the limit as middleware, for plain routes (and
// WebSocket upgrades): graft.WithMiddleware on a route, Group.Use, or
// Builder.Use in an extension. The key must be IP or Func.
func (l *Limiter) Middleware() (graft.Middleware, error) {
	if l.err != nil {
		return nil, l.err
	}
	k, err := l.cfg.Key.keyFor(nil)
	if err != nil {
		return nil, err
	}
	return func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			if err := l.check(c, k.pre(c)); err != nil {
				return err
			}
			return next(c)
		}
	}, nil
}

// sfString quotes s as a structured-field string (RFC 9651).
func sfString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := range len(s) {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

var _ graft.Plugin = (*Limiter)(nil)
