// Package compress is graft's response compression: a child extension of
// the response body (Builder.WrapResponse) that compresses answers with
// zstd or gzip (github.com/klauspost/compress) for clients whose
// Accept-Encoding accepts them.
//
//	app.Register(compress.Extension(compress.Options{MinSize: 512}))
//
// The coding is the offered one (zstd, then gzip) with the highest q-value
// in Accept-Encoding, "*" and "x-gzip" understood; with none acceptable
// ("identity;q=0" alone included) the answer goes out as it is. Every
// answer through the extension carries "Vary: Accept-Encoding".
//
// What is not compressed: HEAD answers, 1xx, 204, 304, 206 and any answer
// with Content-Range (Range answers), answers that already have a
// Content-Encoding or say Cache-Control: no-transform, media types that
// are compressed already (images other than SVG, audio, video, zip, gzip,
// zstd and other archives, woff fonts; Options.SkipTypes adds more), and
// bodies shorter than Options.MinSize: the first MinSize bytes are held
// back until the body is known to be longer (a Content-Length decides at
// once). A compressed answer loses its Content-Length and a strong ETag
// becomes weak. A handler that sets no Content-Type gets one sniffed from
// the plain bytes.
//
// Streams go through: Flush compresses what was written, flushes the
// compressor and the connection, so server-sent events (graft.SSE) reach
// the client one by one. Error answers (problem+json, panics' 500, 404)
// are compressed like the others and always complete: graft closes the
// writer once the answer is done. Compressors and writers are pooled: a
// compressed answer allocates nothing the bare one does not.
//
// Requests are never decompressed: graft's body readers answer a request
// body with a Content-Encoding 415 (Accept-Encoding: identity), so a
// compressed body, a decompression bomb included, is never inflated.
package compress
