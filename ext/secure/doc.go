// Package secure sets security response headers on every answer of its
// scope: Strict-Transport-Security (only over TLS, or when configured for
// a TLS-terminating proxy), Content-Security-Policy (or its Report-Only
// form) with an optional frame-ancestors directive, X-Content-Type-Options
// nosniff, X-Frame-Options, Referrer-Policy and
// Cross-Origin-Opener-Policy.
//
//	app.Register(secure.Extension(secure.Recommended()))
//	api := app.Group("/api")
//	api.Register(secure.Scoped("api", secure.Options{NoSniff: true, ReferrerPolicy: "no-referrer"}))
//
// The headers are set from a response-header hook (Builder.OnWriteHeader),
// so error answers get them too: problem+json errors, a panic's 500, the
// router's 404 and 405, typed endpoints' 422. A header the handler set
// itself is kept (a page with its own policy). The configuration
// registered nearest a route applies to it and replaces the enclosing one
// whole. Options are checked at start-up (HSTS preload rules, known
// Referrer-Policy and Cross-Origin-Opener-Policy tokens, X-Frame-Options
// DENY or SAMEORIGIN, no control characters in a policy); the header
// values are built once and shared, so the headers cost no allocation.
package secure
