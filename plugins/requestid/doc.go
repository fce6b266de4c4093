// Package requestid gives every request an id: it honours a valid id the
// client or a proxy sent (X-Request-Id), makes one otherwise, sets it on
// the response, puts it in the request's context for structured logs, and
// hands it to typed endpoints in a plugin field. Built on graft's public
// extension and plugin API only.
//
//	rid := requestid.New(requestid.Config{})
//	app.Register(rid)   // every route: plain handlers and typed endpoints
//	app.UsePlugins(rid) // typed endpoints with a requestid.ID plugin field
//
//	type OrderIn struct {
//		RequestID requestid.ID `plugin:""`
//	}
//
// The value is one Ext, used both as an extension (middleware that runs
// for every route, 404 and 405 answers included) and as a plugin (which
// fills ID fields from what the middleware found, and returns the
// endpoints without such a field unchanged).
//
// An incoming id is taken when it has 1 to MaxLength (128) characters from
// A-Z a-z 0-9 and - _ . : + / =; anything else (too long, spaces, control
// characters, quotes) is replaced by a fresh id, so a client cannot inject
// text into logs or headers. A fresh id is 32 hex digits from 128 random
// bits.
//
// In handlers: Get(c) returns the id, FromContext(ctx) reads it from a
// context, Logger(c) is the app's logger with the request_id attribute,
// and Handler wraps any slog.Handler so that records logged with a
// request's context (logger.InfoContext(ctx, …)) carry the id.
package requestid
