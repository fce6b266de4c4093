// Package csrf protects typed endpoints (and, through Middleware, plain
// handlers) against cross-site request forgery. Built on graft's public
// plugin API only.
//
//	p := csrf.New(csrf.Config{Keys: [][]byte{key}}) // key: 32+ random bytes
//	app.UsePlugins(p)                                // every typed endpoint
//	mw, err := p.Middleware()                        // plain handlers
//	app.POST("/legacy", h, graft.WithMiddleware(mw))
//
//	type PageIn struct {
//		CSRF csrf.TokenValue `plugin:""` // or csrf.Token(c)
//	}
//
// Safe methods (GET, HEAD, OPTIONS, TRACE) pass and get a token. Every
// other method must prove it comes from the site, checked by a pre-bind
// hook before the body or any param is read:
//
//  1. Fetch Metadata and Origin, by net/http's CrossOriginProtection: a
//     browser's Sec-Fetch-Site other than same-origin or none, or without
//     it an Origin whose host is not the request's Host, is refused unless
//     the origin is in Config.TrustedOrigins. Requests with neither
//     header (non-browser clients) pass this step. Config.SkipOriginCheck
//     turns it off.
//  2. The token, in the Config.Header header (X-CSRF-Token) or, when the
//     header is absent, the Config.FormField field (csrf_token) of an
//     urlencoded or multipart body, compared in constant time with the
//     expected one:
//     - DoubleSubmit (default, stateless): the value of the csrf_token
//     cookie, which must carry a valid signature: RANDOM.MAC, the
//     HMAC-SHA256 of the random part and Config.SessionKey's value (the
//     user or session the token belongs to; OWASP's signed double-submit)
//     under Config.Keys, the first of which signs and all verify (key
//     rotation; a safe request with an old key's token gets a new one);
//     - Synchronizer: the token stored in the request's ext/sessions
//     session, made on the first csrf.Token call of a safe request;
//     - OriginOnly: no token, step 1 alone (Go 1.25's CrossOriginProtection
//     as a plugin).
//
// A refused request is a 403 problem+json whose detail says which check
// failed: a cross-origin request, a missing cookie (or no token in the
// session), a missing header or field, a cookie with a bad signature
// (tampered, a retired key, another session), or a token that does not
// match; the error's Err is one of ErrCrossOrigin, ErrMissingCookie,
// ErrMissingStored, ErrMissingToken, ErrBadSignature, ErrMismatch for an
// error handler (errors.Is). Endpoints of unsafe methods list the header
// param (and a form endpoint the field) and the 403 in their signature,
// so OpenAPI shows them.
//
// The cookie is Secure (Config.InsecureCookie for plain-HTTP
// development), SameSite=Lax, Path /, and not HttpOnly, so that a script
// can read it and echo it in the header; with Config.HTTPOnly, send the
// token in a response header (Config.ResponseHeader) or render it into
// the page. Reading the form field buffers the body up to the field (an
// urlencoded body whole), within the body limit (413 beyond), and puts it
// back: the binder and the handler read the body as it was sent.
//
// A valid request costs no allocation beyond the bare endpoint's (the
// cookie is found without parsing the others and the HMAC states are
// pooled); issuing a token costs three.
package csrf
