// Package recover is panic recovery as an endpoint plugin, for apps that
// replace graft's default (a "graft: panic in handler" record and a 500
// through the error handler) with their own record and answer. Built on
// graft's public plugin API: Signature.OnPanic for typed endpoints,
// Config.PanicHandler for every route.
//
//	rec := recover.New(recover.Config{})
//	app := graft.New(graft.Config{PanicHandler: rec.PanicHandler()}) // plain handlers, middleware
//	app.UsePlugins(rec)                                              // typed endpoints
//
// The package shadows the builtin recover in a file that imports it
// under its name; import it as, say, graftrecover where the file also
// calls the builtin.
//
// graft does the recovering (so the guarantee that a user panic answers
// 500 holds for routes the plugin does not cover); the plugin decides
// what a panic becomes. For a typed endpoint it gets the panics of the
// endpoint's pre-bind hooks, plugin middleware and wrappers, binding,
// dependency providers and handler. Each panic is logged once, through
// the app's logger (Config.Logger), with the route pattern, the method,
// the path, the request id when plugins/requestid is registered, the
// value, its type and the stack (Config.OmitStack leaves it out). Then:
//
//   - an answer already started (a status or body sent) cannot become a
//     500: the plugin panics with http.ErrAbortHandler, so net/http aborts
//     the connection and the client sees a truncated answer rather than
//     one that looks complete, which is what net/http does with a handler
//     that panics after writing;
//   - Config.OnPanic, when set, answers (or returns an error for the app's
//     error handler);
//   - else a 500 problem+json through the app's error handler.
//
// http.ErrAbortHandler itself passes through untouched and unlogged: it
// is net/http's way to abort a response on purpose. The plugin adds the
// 500 to the endpoints' signatures. An endpoint with the plugin costs no
// allocation more than without it.
package recover
