// Package cors is graft's Cross-Origin Resource Sharing extension (the
// Fetch standard's CORS protocol), built on graft's public extension API.
//
//	app.Register(cors.New(cors.Config{
//		AllowOrigins:     []string{"https://app.example.com", "https://*.example.com"},
//		AllowCredentials: true,
//		MaxAge:           time.Hour,
//	}))
//
// It is an extension with middleware (graft.Builder.Use) rather than an
// endpoint plugin: a preflight is an OPTIONS request to a path that
// usually has no OPTIONS route, and plain handlers need CORS as much as
// typed endpoints, so it must sit in front of the router's 404 and 405
// answers and of every route. Register it on the app (registering it on a
// group stops start-up, since preflights to the group's paths would not
// reach it).
//
// For a preflight (OPTIONS with Origin and Access-Control-Request-Method)
// from an allowed origin asking for an allowed method and headers it
// answers 204 with Access-Control-Allow-Origin, -Methods, -Headers,
// -Max-Age (so the browser caches the answer) and, when configured,
// -Allow-Credentials, without calling any handler. A preflight that asks
// for something not allowed is a 403 problem+json saying what. For other
// requests from an allowed origin it adds Access-Control-Allow-Origin
// (and -Credentials, -Expose-Headers) to the answer, error answers
// included; a request from another origin is served without them (the
// browser withholds the answer). Answers that depend on the origin carry
// Vary: Origin.
//
// Origins are matched case-insensitively, exactly or by a pattern with
// one "*" standing for one or more DNS labels ("https://*.example.com"
// matches https://a.example.com and https://a.b.example.com, not
// https://example.com or https://evil-example.com). "*" alone allows every
// origin and cannot be combined with AllowCredentials (the Fetch standard
// forbids it; New's configuration error stops start-up).
package cors
