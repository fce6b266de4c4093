// Package logging is graft's access log: one log/slog record per request,
// written after the answer is complete, built on graft's public extension
// API only.
//
//	app.Register(logging.New(logging.Config{}))
//
// Each record is logged at the end of the request by extension middleware
// (graft.Builder.Use), whose next finishes the answer before it returns, so
// the record has the final status of every path: handlers, typed
// endpoints' 422s, error answers, a panic's 500, the router's 404 and 405
// (registered on the app). Its attributes:
//
//	method       the request method
//	route        the matched route pattern ("/users/{id}"; "" when none matched)
//	path         the request path as sent
//	status       the final status code
//	bytes        the body bytes handlers wrote (before a compressor)
//	duration     the time from the start of the request's timing
//	             (graft.Ctx.StartTime, shared with plugins/metrics) to the answer's end
//	request_id   the id of plugins/requestid, when that extension is registered
//
// Records go to Config.Logger, or the app's logger (graft.Config.Logger).
// The level is Info below 500 and Error from 500 on, or what Config.Level
// decides; a logger whose handler is not enabled for the level costs the
// request no formatting. Config.Skip leaves chosen requests out (health
// checks).
//
// The middleware is route-aware (graft.Builder.UseRoute): each route
// keeps, per method, the logger's handler with the method and route
// attributes added ahead (slog.Handler.WithAttrs, which slog's own
// handlers format once), so a record carries only the five attributes
// that vary and costs no allocation (slog.Record holds five inline). A
// method outside the standard ones is logged with the record's
// attributes instead.
//
// The route pattern, not the path, is what to group by: it has one value
// per route where paths have one per user or id.
package logging
