// Package etag is graft's entity-tag extension for dynamic answers, a child
// body extension (Builder.WrapResponse): it holds back each 200 answer to a
// GET or HEAD of its scope, tags it with a hash of the body, and answers
// the request's conditions (RFC 9110 §13):
//
//   - If-None-Match that lists the tag (weak comparison, or "*"): 304 Not
//     Modified with the tag and the caching headers, without the body;
//   - If-Match that does not list it (strong comparison): 412 problem+json.
//
// Answers that are not a 200, Range answers, event streams and anything
// flushed (a stream) pass through untagged and unheld, as does a body
// longer than Options.MaxSize. A tag the handler set itself is kept and
// answered at once, without holding the body back.
//
//	app.Register(etag.Extension(etag.Options{}))
//
// Requests that change a resource are not held: the tag of their answer
// is not that of the resource. Their handlers compute the resource's
// current tag (etag.Of of its representation, or a version of their own)
// and call etag.Check, which answers 412 to a lost update:
//
//	if err := etag.Check(c, etag.Of(current, false)); err != nil {
//		return err
//	}
//
// Registered after ext/compress, the tag names the plain body and compress
// makes it weak on compressed answers; If-None-Match still matches.
package etag
