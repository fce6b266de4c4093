// Package cache is a shared response cache for typed GET endpoints (and,
// through Middleware, plain GET routes), built on graft's public plugin
// API only: endpoint middleware (graft.Signature.Use) that captures the
// answer below the Ctx's writer (graft.Ctx.SwapWriter) and replays it.
//
//	c := cache.New(cache.Config{Policy: cache.Policy{TTL: 30 * time.Second}})
//	app.UsePlugins(c)                                          // every GET endpoint
//	api := app.Group("/feeds", graft.Plugins(c.With(cache.Policy{TTL: 5 * time.Minute})))
//	graft.Get(app, "/me", me, graft.Plugins(c.Off()))          // never cached
//	c.Purge(ctx, cache.URLKey("/items/7", ""))                 // after a change
//
// What is stored follows RFC 9111 for a shared cache:
//
//   - only GET requests fill the cache; HEAD requests are answered from a
//     GET's entry (and passed through on a miss); other methods' endpoints
//     are returned unchanged by the plugin, at no cost;
//   - only DefaultStatuses (or Policy.Statuses) are stored; never an
//     answer with Cache-Control no-store, private or no-cache, with
//     Set-Cookie (unless Policy.SetCookie), with Vary: *, a stream
//     (text/event-stream, or any answer that flushes), one whose body is
//     over Policy.MaxEntryBytes (sent as it comes), or one that wrote less
//     than its Content-Length;
//   - freshness is the answer's s-maxage, else max-age, else Expires, else
//     Policy.TTL, capped by Policy.MaxTTL; an Age the answer carried
//     counts;
//   - a request with Authorization is only served, and only fills, answers
//     with public, s-maxage or must-revalidate, unless Policy.Authorized
//     or a Policy.User key separates the callers;
//   - Vary on an answer is honoured: a record under the primary key lists
//     the varied headers and each combination of their values has its own
//     entry;
//   - request directives: no-store bypasses the cache, no-cache (or
//     Pragma: no-cache) runs the endpoint and stores its answer afresh,
//     max-age and min-fresh refuse entries that are too old, only-if-cached
//     answers 504 without an entry; Policy.IgnoreRequestDirectives ignores
//     them all (a client then cannot force misses).
//
// The key is the escaped path and the canonical query (URLKey), the same
// for GET and HEAD. Policy.Key rewrites it before binding (a tenant
// header, a dropped tracking parameter, or ok=false to bypass); Policy.User
// keys answers by the identity an auth plugin bound (User), looked up
// after binding so the credential is checked on every request.
//
// A replayed answer has the stored status, headers and body byte for
// byte, plus Age and the status header (X-Cache: HIT, MISS or BYPASS,
// Config.StatusHeader). Headers present before the cache's middleware ran
// (set by outer middleware, a request id) are not stored: they are set
// again on every request. A replay passes the response-header hooks and
// the extensions below (compression, entity tags) like any answer;
// answers are stored before compression. A stored 200 with an ETag or
// Last-Modified answers If-None-Match and If-Modified-Since with 304.
//
// Concurrent misses on one key run the endpoint once: the first request
// runs it and the others wait (within their context, and
// Policy.WaitTimeout) for its answer; an answer that may not be stored is
// not shared, and the waiters then run the endpoint themselves.
//
// Entries live in a Store: by default a MemoryStore, sharded LRU lists
// bounded by Config.MaxEntries and MaxBytes. Purge, PurgePrefix and
// PurgeAll invalidate; an answer being computed when a purge runs is not
// stored.
package cache
