// Package timeout bounds how long a typed endpoint (the plugin) or a
// plain route (Middleware) may take to answer. Built on graft's public
// plugin API and Ctx.SwapWriter.
//
//	app.UsePlugins(timeout.New(timeout.Config{Timeout: 2 * time.Second})) // 503; Status: 504 for a gateway
//
// The handler runs in the request's goroutine with a context that ends
// after Timeout. If it has written nothing by then, the client gets the
// timeout's problem+json answer at once (with a Content-Length, flushed)
// from the timer's goroutine, and whatever the handler writes afterwards
// is dropped (writes fail with http.ErrHandlerTimeout); its late output
// is discarded. If its answer has begun, the timeout never writes: it
// only ends the context. The handler keeps its Ctx, input and dependency
// scope until it returns, so a handler that ignores cancellation holds
// its goroutine, never another request's state. Headers the handler sets
// go to a map of its own, so the timer's goroutine and the handler never
// share one (tested with -race). The timeout's answer does not pass the
// scope's response-header hooks (it is written below the Ctx's writer);
// headers set by middleware before the handler are on it.
package timeout
