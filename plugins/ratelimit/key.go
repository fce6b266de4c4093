package ratelimit

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"

	"github.com/graftgo/graft"
)

// Key says what a limit counts by: the client's address (IP), a value of
// the request (Func), or the identity an auth plugin bound into the
// endpoint's input (User).
type Key interface {
	keyFor(sig *graft.Signature) (keyer, error)
}

// keyer is a Key resolved for one endpoint (or for middleware, sig nil):
// pre runs before binding, post after it with the bound input; neither set
// leaves the endpoint alone.
type keyer struct {
	pre  func(c *graft.Ctx) string
	post func(in any) string
}

// IPConfig configures the IP key.
type IPConfig struct {
	// TrustedProxies are the addresses (IPs or CIDR prefixes) of the
	// proxies in front of the app whose forwarding header is believed.
	// Empty: none, the key is the peer address and the header is
	// ignored.
	TrustedProxies []string
	// Header is the forwarding header ("X-Forwarded-For" when empty); each
	// proxy appends the address it received the request from.
	Header string
	// IPv6Prefix is the prefix length IPv6 clients are counted by (64
	// when zero: one site or home gets one count; 128 counts each
	// address).
	IPv6Prefix int
}

// IPResolver finds a request's client address behind trusted proxies.
type IPResolver struct {
	trusted []netip.Prefix
	header  string
	v6bits  int
}

// NewIPResolver checks cfg; an entry of TrustedProxies that is not an IP
// or a CIDR prefix, or an IPv6Prefix outside 1..128, is an error naming
// it.
func NewIPResolver(cfg IPConfig) (*IPResolver, error) {
	r := &IPResolver{header: textproto.CanonicalMIMEHeaderKey(cfg.Header), v6bits: cfg.IPv6Prefix}
	if cfg.Header == "" {
		r.header = "X-Forwarded-For"
	}
	switch {
	case r.v6bits == 0:
		r.v6bits = 64
	case r.v6bits < 1 || r.v6bits > 128:
		return nil, fmt.Errorf("IPConfig.IPv6Prefix is %d; give a prefix length from 1 to 128, or 0 for 64", cfg.IPv6Prefix)
	}
	for i, s := range cfg.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("IPConfig.TrustedProxies[%d] is %q, neither an IP nor a CIDR prefix (10.0.0.0/8, fd00::/8, 192.0.2.7)", i, s)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

func (r *IPResolver) isTrusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client's address: the peer's when it is not a
// trusted proxy; otherwise the forwarding header is walked from the right
// (the entry the nearest proxy appended) past trusted proxies, and the
// first untrusted address is the client. An entry that does not parse
// stops the walk at the trusted hop that forwarded it, and a chain of
// trusted proxies only yields its leftmost entry. ok is false when the
// peer address (RemoteAddr) does not parse.
func (r *IPResolver) ClientIP(req *http.Request) (a netip.Addr, ok bool) {
	a, ok = parseHost(req.RemoteAddr)
	if !ok || len(r.trusted) == 0 || !r.isTrusted(a) {
		return a, ok
	}
	lines := req.Header[r.header]
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for line != "" {
			var entry string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				entry, line = line[j+1:], line[:j]
			} else {
				entry, line = line, ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			hop, valid := parseHost(entry)
			if !valid {
				return a, true
			}
			a = hop
			if !r.isTrusted(hop) {
				return a, true
			}
		}
	}
	return a, true
}

// parseHost parses an address with or without a port ("192.0.2.1",
// "192.0.2.1:443", "[2001:db8::1]:443", "2001:db8::1").
func parseHost(s string) (netip.Addr, bool) {
	// With a port: "[v6]:port" or "v4:port" (one colon). Trying the right
	// form first spares the other's error value.
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap().WithZone(""), true
		}
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// Key returns the address as a limit key: an IPv4 address as it is, an
// IPv6 one as its prefix of IPv6Prefix bits ("2001:db8:1:2::/64").
func (r *IPResolver) Key(a netip.Addr) string {
	if a.Is6() && r.v6bits < 128 {
		p, _ := a.Prefix(r.v6bits)
		return p.String()
	}
	return a.String()
}

type ipKey struct{ cfg IPConfig }

// IP counts by the client's address, found behind the trusted proxies of
// cfg (see IPResolver.ClientIP), before the request is bound: a limited
// request is answered before its body is read. A peer address that does
// not parse is counted as it is written.
func IP(cfg IPConfig) Key { return ipKey{cfg} }

func (k ipKey) keyFor(*graft.Signature) (keyer, error) {
	r, err := NewIPResolver(k.cfg)
	if err != nil {
		return keyer{}, err
	}
	return keyer{pre: func(c *graft.Ctx) string {
		a, ok := r.ClientIP(c.Request)
		if !ok {
			return c.Request.RemoteAddr
		}
		return r.Key(a)
	}}, nil
}

type funcKey func(c *graft.Ctx) string

// Func counts by what fn returns for the request (a header, a query
// param, a tenant), before the request is bound. A request for which fn
// returns "" is not counted by the limiter.
func Func(fn func(c *graft.Ctx) string) Key { return funcKey(fn) }

func (k funcKey) keyFor(*graft.Signature) (keyer, error) {
	if k == nil {
		return keyer{}, fmt.Errorf("ratelimit.Func(nil); pass the function that returns the request's key")
	}
	return keyer{pre: k}, nil
}

type userKey[T any] struct{ id func(T) string }

// User counts by the identity in the endpoint's plugin field of type T,
// which an auth plugin fills (the claims of plugins/auth/jwt, the value of
// an API key): id returns the key of the identity, "" for a request not to
// count. The field is read after binding, so the auth plugin has checked
// the credential by then; the limit is applied before the handler and its
// dependencies. Endpoints without a plugin field of type T are left alone
// (apply an IP limit for anonymous traffic).
func User[T any](id func(T) string) Key { return userKey[T]{id} }

func (k userKey[T]) keyFor(sig *graft.Signature) (keyer, error) {
	if k.id == nil {
		return keyer{}, fmt.Errorf("ratelimit.User(nil); pass the function that returns the identity's key")
	}
	if sig == nil {
		return keyer{}, fmt.Errorf("a User key reads a typed endpoint's plugin field; middleware has none: use IP or Func")
	}
	f := graft.ReadPluginField[T](sig)
	if f == nil {
		return keyer{}, nil
	}
	return keyer{post: func(in any) string { return k.id(f.Get(in)) }}, nil
}
