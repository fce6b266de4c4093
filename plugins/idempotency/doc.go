// Package idempotency makes retries of POST and PATCH requests safe, after
// draft-ietf-httpapi-idempotency-key-header: a client sends a unique key
// with a request,
//
//	Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"
//
// the first request with the key runs the handler and its answer (status,
// headers, body) is stored; a retry with the same key and the same
// payload gets that answer again, byte for byte, marked
// "Idempotent-Replayed: true", without the handler running again. Built on
// graft's public plugin API only (Signature.Use and Ctx.SwapWriter).
//
//	app.UsePlugins(idempotency.New(idempotency.Config{
//		Required: true,                                                  // 400 without a key
//		Identity: func(c *graft.Ctx) string { return c.Header("X-Tenant") }, // keys per tenant
//		// Store: the Redis store for several nodes; TTL 24h, LockTTL 1m
//	}))
//
// The key is a Structured Field sf-string (RFC 8941); the bare form that
// many clients send (Idempotency-Key: 8e03978e-…) is accepted too: visible
// ASCII without spaces, quotes, backslashes, commas or semicolons. A key
// is at most MaxKeyLength (255) bytes.
//
// Keys are scoped: the entry of a key is found by the endpoint (method
// and route pattern), the key and the Identity of the request, so two
// endpoints or two users sending the same key never meet. Within a scope
// the key is bound to the request's fingerprint, a SHA-256 digest of the
// method, the path and query, the body and the values of
// FingerprintHeaders. The answers, as the draft gives them
// (problem+json, type DocsURL):
//
//   - no key while Required: 400 "Idempotency-Key is missing"; two keys,
//     an empty, malformed or too long key: 400 "Idempotency-Key is
//     malformed";
//   - the key with another fingerprint: 422 "Idempotency-Key is already
//     used";
//   - the key while its first request is still running: 409 "A request is
//     outstanding for this Idempotency-Key" (the handler never runs twice
//     at once for a key, on one node or, with a shared store, several);
//   - the key with the same fingerprint after the first answered: the
//     stored answer.
//
// Which answers are stored (Keep): 2xx, 3xx and 4xx, except 401, 403,
// 408, 409, 425 and 429, which a client gets for reasons it may fix or
// wait out before retrying with the same key. A 5xx answer, a panic (a
// 500), an answer streamed with Flush, one whose body passes MaxAnswer
// and one the store cannot keep are sent and not stored: the key is
// released and a retry runs the handler again. An entry in flight holds
// its key for at most LockTTL (one minute), so a node that died with a
// request never blocks its key for good; stored answers are replayed for
// TTL (24 hours).
//
// The stored headers are those the endpoint's answer carried except:
// the hop-by-hop headers (Connection, Keep-Alive, Proxy-Connection,
// Transfer-Encoding, TE, Trailer, Upgrade, Proxy-Authenticate), Date and
// Content-Length (written afresh), Set-Cookie (a replay never hands out a
// session again) and the headers that layers outside the endpoint had set
// before it ran (a request ID middleware's): those layers set theirs on
// the replay. The replay goes through the Ctx like any answer, so the
// scope's header hooks and response wrappers (compression) run on it.
//
// The body is read once, before the request is bound, bounded by the
// app's (or the route's) body limit and MaxBody; a longer body is
// answered 413 as the app answers it. The handler reads the same bytes.
// The key, its problems and the 409, 422 and 503 answers are added to the
// endpoint's signature, so OpenAPI shows them. Endpoints of other methods
// (GET, PUT, DELETE are idempotent already) are returned unchanged and
// cost nothing.
//
// The memory store (NewMemoryStore) holds at most MaxEntries keys and
// MaxBytes of answers, dropping expired entries, then the answers that
// expire soonest; it never evicts a request in flight. The Redis store is
// the nested module github.com/graftgo/graft/plugins/idempotency/redis.
package idempotency
