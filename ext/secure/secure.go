package secure

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/graftgo/graft"
)

// ID is the extension's ID.
const ID = "graft.ext.secure"

// Options says which security headers to send. A field left empty (or
// zero) sends no header; Recommended returns a filled-in set.
type Options struct {
	// HSTSMaxAge turns on Strict-Transport-Security with this max-age
	// (whole seconds). It is sent only on requests that arrived over TLS,
	// unless HSTSWithoutTLS says the app sits behind a proxy that
	// terminates TLS for it.
	HSTSMaxAge time.Duration
	// HSTSIncludeSubdomains adds includeSubDomains.
	HSTSIncludeSubdomains bool
	// HSTSPreload adds preload; it requires HSTSIncludeSubdomains and a
	// max-age of at least a year (the preload list's rules).
	HSTSPreload bool
	// HSTSWithoutTLS sends HSTS on plain-HTTP requests too (browsers
	// ignore it there; a TLS-terminating proxy forwards it).
	HSTSWithoutTLS bool

	// ContentSecurityPolicy is the Content-Security-Policy value, e.g.
	// "default-src 'self'".
	ContentSecurityPolicy string
	// CSPReportOnly sends the policy as
	// Content-Security-Policy-Report-Only instead.
	CSPReportOnly bool
	// FrameAncestors is appended to the policy as the frame-ancestors
	// directive, e.g. "'none'" or "'self' https://partner.example".
	FrameAncestors string
	// FrameOptions is X-Frame-Options: "DENY" or "SAMEORIGIN".
	FrameOptions string
	// NoSniff sends X-Content-Type-Options: nosniff.
	NoSniff bool
	// ReferrerPolicy is Referrer-Policy, e.g.
	// "strict-origin-when-cross-origin".
	ReferrerPolicy string
	// CrossOriginOpenerPolicy is Cross-Origin-Opener-Policy, e.g.
	// "same-origin".
	CrossOriginOpenerPolicy string
}

// Recommended returns a strict set for an HTML app: HSTS for two years
// with subdomains (over TLS), "default-src 'self'", frame-ancestors
// 'none' and X-Frame-Options DENY, nosniff,
// strict-origin-when-cross-origin, and Cross-Origin-Opener-Policy
// same-origin. Adjust fields before passing it to Extension.
func Recommended() Options {
	return Options{
		HSTSMaxAge:              2 * 365 * 24 * time.Hour,
		HSTSIncludeSubdomains:   true,
		ContentSecurityPolicy:   "default-src 'self'",
		FrameAncestors:          "'none'",
		FrameOptions:            "DENY",
		NoSniff:                 true,
		ReferrerPolicy:          "strict-origin-when-cross-origin",
		CrossOriginOpenerPolicy: "same-origin",
	}
}

// Secure is the extension. Make it with Extension.
type Secure struct {
	id     string
	opts   Options
	always []header
	hsts   []string
}

// header is one prepared header: its canonical name and a value shared by
// every answer (never appended to in place).
type header struct {
	name string
	val  []string
}

// Extension returns the security-headers extension, with the ID ID.
// Register it on the app or on a group; for a group inside a scope that has
// one already, use Scoped.
func Extension(opts Options) *Secure { return &Secure{id: ID, opts: opts} }

// Scoped returns the extension with the ID "graft.ext.secure:NAME", for a
// configuration of its own on a group below one that registered
// Extension (graft keeps one extension ID per path of scopes). The
// configuration registered nearest a route applies to it, replacing (not
// merging with) the enclosing one:
//
//	app.Register(secure.Extension(secure.Recommended()))
//	api := app.Group("/api")
//	api.Register(secure.Scoped("api", secure.Options{NoSniff: true}))
func Scoped(name string, opts Options) *Secure {
	return &Secure{id: ID + ":" + name, opts: opts}
}

// ID implements graft.Extension.
func (s *Secure) ID() string { return s.id }

// nearest is the configuration for a request's scope.
var nearest = graft.NewScopeValue[*Secure](ID)

var referrerPolicies = []string{"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
	"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"}

var openerPolicies = []string{"unsafe-none", "same-origin-allow-popups", "same-origin", "noopener-allow-popups"}

// Extend checks the options, prepares the header values once and installs
// the response-header hook, so every answer gets them: handlers' and
// typed endpoints', errors, panics, 404 and 405.
func (s *Secure) Extend(b *graft.Builder) error {
	o := s.opts
	if s.id == ID+":" || strings.ContainsAny(s.id, " \t\r\n") {
		return fmt.Errorf("secure.Scoped(%q): the name must be non-empty and without spaces", strings.TrimPrefix(s.id, ID+":"))
	}
	for name, v := range map[string]string{"ContentSecurityPolicy": o.ContentSecurityPolicy, "FrameAncestors": o.FrameAncestors} {
		if strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("secure: Options.%s holds a control character; write the policy on one line", name)
		}
	}
	if o.HSTSMaxAge < 0 {
		return fmt.Errorf("secure: Options.HSTSMaxAge %v is negative; use 0 to send no HSTS", o.HSTSMaxAge)
	}
	if o.HSTSPreload && (!o.HSTSIncludeSubdomains || o.HSTSMaxAge < 365*24*time.Hour) {
		return fmt.Errorf("secure: Options.HSTSPreload needs HSTSIncludeSubdomains and an HSTSMaxAge of at least a year (8760h), got %v", o.HSTSMaxAge)
	}
	if (o.HSTSIncludeSubdomains || o.HSTSPreload || o.HSTSWithoutTLS) && o.HSTSMaxAge == 0 {
		return fmt.Errorf("secure: HSTS options are set but Options.HSTSMaxAge is 0, which sends no HSTS; set a max-age")
	}
	if f := o.FrameOptions; f != "" && !strings.EqualFold(f, "DENY") && !strings.EqualFold(f, "SAMEORIGIN") {
		return fmt.Errorf("secure: Options.FrameOptions %q: use \"DENY\" or \"SAMEORIGIN\" (ALLOW-FROM is obsolete: use FrameAncestors)", f)
	}
	if err := oneOf("ReferrerPolicy", o.ReferrerPolicy, referrerPolicies, true); err != nil {
		return err
	}
	if err := oneOf("CrossOriginOpenerPolicy", o.CrossOriginOpenerPolicy, openerPolicies, false); err != nil {
		return err
	}

	csp := strings.TrimSpace(o.ContentSecurityPolicy)
	if o.FrameAncestors != "" {
		csp = strings.TrimSuffix(csp, ";")
		if csp != "" {
			csp += "; "
		}
		csp += "frame-ancestors " + o.FrameAncestors
	}
	add := func(name, value string) {
		if value != "" {
			s.always = append(s.always, header{name, []string{value}})
		}
	}
	if o.CSPReportOnly {
		add("Content-Security-Policy-Report-Only", csp)
	} else {
		add("Content-Security-Policy", csp)
	}
	if o.NoSniff {
		add("X-Content-Type-Options", "nosniff")
	}
	add("X-Frame-Options", strings.ToUpper(o.FrameOptions))
	add("Referrer-Policy", o.ReferrerPolicy)
	add("Cross-Origin-Opener-Policy", o.CrossOriginOpenerPolicy)
	if o.HSTSMaxAge > 0 {
		v := "max-age=" + strconv.FormatInt(int64(o.HSTSMaxAge/time.Second), 10)
		if o.HSTSIncludeSubdomains {
			v += "; includeSubDomains"
		}
		if o.HSTSPreload {
			v += "; preload"
		}
		s.hsts = []string{v}
	}

	nearest.Set(b, s)
	b.OnWriteHeader(s.hook)
	return nil
}

func oneOf(field, v string, allowed []string, list bool) error {
	if v == "" {
		return nil
	}
	vals := []string{v}
	if list { // Referrer-Policy may list fallbacks
		vals = strings.Split(v, ",")
	}
	for _, x := range vals {
		x = strings.TrimSpace(x)
		ok := false
		for _, a := range allowed {
			ok = ok || x == a
		}
		if !ok {
			return fmt.Errorf("secure: Options.%s %q: %q is not one of %s", field, v, x, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// hook sets the headers of the configuration nearest the request's route;
// a header the handler set itself is left as it is (a page with its own
// policy).
func (s *Secure) hook(c *graft.Ctx, _ int) {
	if nearest.Get(c) != s {
		return // a group below registered its own configuration
	}
	h := c.Response().Header()
	for _, kv := range s.always {
		if _, set := h[kv.name]; !set {
			h[kv.name] = kv.val
		}
	}
	if s.hsts != nil && (c.Request.TLS != nil || s.opts.HSTSWithoutTLS) {
		if _, set := h["Strict-Transport-Security"]; !set {
			h["Strict-Transport-Security"] = s.hsts
		}
	}
}
