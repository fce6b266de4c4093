// Package static serves files from an fs.FS: strong ETags (size and
// modification time, or a content hash for file systems without times such
// as embed.FS), Last-Modified, conditional requests answering 304, Range
// requests (one range, several as multipart/byteranges, 416, If-Range),
// precompressed ".zst" and ".gz" siblings chosen by Accept-Encoding with
// q-values, a configurable Cache-Control, index.html for directories and
// no directory listings.
//
// Mount it as an extension at a prefix of the scope it is registered on,
// or use Handler on a route of your own ending in "{path...}":
//
//	app.Register(static.Mount("/assets", os.DirFS("public"), static.Options{
//		CacheControl:  "public, max-age=3600",
//		Precompressed: true,
//	}))
//	app.GET("/files/{path...}", static.Handler(os.DirFS("files"), static.Options{}))
//
// A path can only name a file inside the file system: graft's router
// redirects "." and ".." segments to the clean path, and the file name
// handed to the file system must be a clean relative path (no "..", no
// leading "/", no backslash, no NUL) or the answer is 404. Symbolic links
// are followed only while their targets stay inside the file system: a
// link to an absolute path, or one that climbs out with "..", is 404 even
// though os.DirFS would follow it. For a directory that other processes
// change while it is served, os.OpenRoot(dir) and Root.FS give the same
// guarantee without a window between checking a link and opening the file.
//
// Missing files answer 404 problem+json through the app's error handler,
// like any other graft error.
package static
