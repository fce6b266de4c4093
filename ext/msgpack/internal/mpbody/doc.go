// Package mpbody reads and writes msgpack bodies for graft by the rules of
// its JSON bodies, over github.com/vmihailenco/msgpack/v5: field names from
// json tags (a msgpack tag wins), omitempty honoured when encoding, unknown
// fields refused on request, and a value of the wrong type reported at its
// location ("body.items[2].qty") rather than as a decoding failure.
//
// Before the library sees a body, Check walks it once against the compiled
// shape of the target type (TypeOf): the body must be exactly one
// well-formed value (nothing truncated, nothing after it, no length larger
// than what is left, at most MaxDepth levels), and every value must fit its
// field, integers in range. The library trusts the lengths a body declares
// when it allocates, so it is only handed bodies that passed. Decode then
// uses pooled, configured decoders that copy every string and byte slice,
// so nothing decoded aliases the request's buffer.
//
// The package lives under ext/msgpack/internal/ because its API is the
// extension's: ext/msgpack's graft.BodyCodec is built on it.
package mpbody
