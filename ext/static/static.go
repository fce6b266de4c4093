package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/internal/coding"
)

// IDPrefix starts the ID of every static extension; the mount prefix
// follows it ("graft.ext.static:/assets"), so one scope can mount several
// file systems.
const IDPrefix = "graft.ext.static:"

// Options configures how files are served.
type Options struct {
	// CacheControl is sent with every file answer (200, 206, 304), e.g.
	// "public, max-age=31536000, immutable" for fingerprinted assets or
	// "no-cache" to make clients revalidate. Empty sends none.
	CacheControl string
	// Index is the file served for a directory; "" means "index.html".
	Index string
	// Precompressed serves a sibling "NAME.zst" or "NAME.gz" instead of
	// NAME when it exists and the client's Accept-Encoding (q-values
	// included) accepts it; answers for such files carry
	// "Vary: Accept-Encoding".
	Precompressed bool
}

// Static serves files from an fs.FS under a prefix of its scope. Make one
// with Mount (an extension) or Handler (a handler for a route of your own).
type Static struct {
	fsys   fs.FS
	opts   Options
	prefix string

	hashes sync.Map // name + size -> strong ETag from the content, for files without a modification time
}

// Mount returns an extension serving fsys at prefix in the scope it is
// registered on: GET and HEAD "PREFIX/{path...}" (a prefix of "" or "/"
// serves at the scope's root). Register several with different prefixes to
// mount several file systems.
//
//	app.Register(static.Mount("/assets", os.DirFS("public"), static.Options{Precompressed: true}))
func Mount(prefix string, fsys fs.FS, opts Options) *Static {
	prefix = strings.TrimRight(prefix, "/")
	return &Static{fsys: fsys, opts: opts, prefix: prefix}
}

// ID implements graft.Extension.
func (s *Static) ID() string { return IDPrefix + s.prefix + "/" }

// Extend registers the file route.
func (s *Static) Extend(b *graft.Builder) error {
	if s.fsys == nil {
		return errors.New("static.Mount(" + strconv.Quote(s.prefix) + "): the fs.FS is nil; pass os.DirFS(dir), an embed.FS or another fs.FS")
	}
	if s.prefix != "" && !strings.HasPrefix(s.prefix, "/") {
		return errors.New("static.Mount(" + strconv.Quote(s.prefix) + "): the prefix must start with '/'")
	}
	b.Handle(http.MethodGet, s.prefix+"/{path...}", s.serveParam)
	return nil
}

// Handler returns a handler serving fsys for a route whose pattern ends in
// the catch-all "{path...}", the file's path inside fsys:
//
//	app.GET("/files/{path...}", static.Handler(os.DirFS("files"), static.Options{}))
//
// It panics when fsys is nil.
func Handler(fsys fs.FS, opts Options) graft.HandlerFunc {
	if fsys == nil {
		panic("static.Handler: the fs.FS is nil; pass os.DirFS(dir), an embed.FS or another fs.FS")
	}
	s := &Static{fsys: fsys, opts: opts}
	return s.serveParam
}

func (s *Static) serveParam(c *graft.Ctx) error { return s.Serve(c, c.Param("path")) }

var errNotFound = graft.NewError(http.StatusNotFound, "no such file")

// Serve answers c with the file name of the file system ("" or a path
// ending in "/" is a directory, answered with its index file). A name
// that is not a clean relative path (".." or "." elements, a leading "/",
// doubled slashes, backslashes, NUL), a file missing, unreadable or
// reached through a symbolic link that points out of the file system, and
// a directory without an index file, all answer 404 problem+json.
func (s *Static) Serve(c *graft.Ctx, name string) error {
	dir := name == "" || strings.HasSuffix(name, "/")
	clean := strings.TrimSuffix(name, "/")
	if clean == "" {
		clean = "."
	}
	if !fs.ValidPath(clean) || strings.ContainsAny(clean, "\\\x00") {
		return errNotFound
	}
	resolved, info, err := s.resolve(clean)
	if err != nil {
		return errNotFound
	}
	if info.IsDir() {
		if !dir {
			// Relative links inside an index file need the slash.
			u := *c.Request.URL
			u.Path += "/"
			u.RawPath = ""
			if c.Request.URL.RawPath != "" {
				u.RawPath = c.Request.URL.RawPath + "/"
			}
			http.Redirect(c.Response(), c.Request, u.String(), http.StatusMovedPermanently)
			return nil
		}
		index := s.opts.Index
		if index == "" {
			index = "index.html"
		}
		resolved, info, err = s.resolve(path.Join(resolved, index))
		if err != nil || info.IsDir() {
			return errNotFound
		}
	} else if dir {
		return errNotFound // "file.txt/"
	}
	return s.serveFile(c, resolved, info)
}

func (s *Static) serveFile(c *graft.Ctx, name string, info fs.FileInfo) error {
	h := c.Response().Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	sendName, sendInfo, encoding := name, info, ""
	if s.opts.Precompressed {
		var offered [2]string
		n := 0
		for _, enc := range [...]struct{ coding, ext string }{{"zstd", ".zst"}, {"gzip", ".gz"}} {
			if _, si, err := s.resolve(name + enc.ext); err == nil && si.Mode().IsRegular() {
				offered[n] = enc.coding
				n++
			}
		}
		if n > 0 {
			h.Add("Vary", "Accept-Encoding")
			if enc := coding.Choose(c.Request.Header.Values("Accept-Encoding"), offered[:n]...); enc != "" {
				ext := ".gz"
				if enc == "zstd" {
					ext = ".zst"
				}
				if sib, si, err := s.resolve(name + ext); err == nil {
					sendName, sendInfo, encoding = sib, si, enc
				}
			}
		}
	}
	if !sendInfo.Mode().IsRegular() {
		return errNotFound
	}
	f, err := s.fsys.Open(sendName)
	if err != nil {
		return errNotFound
	}
	defer f.Close()
	content, err := seeker(f, sendInfo.Size())
	if err != nil {
		return graft.NewError(http.StatusInternalServerError, "reading the file failed")
	}
	etag, err := s.etag(sendName, sendInfo, content)
	if err != nil {
		return graft.NewError(http.StatusInternalServerError, "reading the file failed")
	}
	if encoding != "" {
		etag = etag[:len(etag)-1] + "-" + encoding + `"`
		h.Set("Content-Encoding", encoding)
		if ctype == "" {
			ctype = "application/octet-stream" // sniffing would read the compressed bytes
		}
	}
	h.Set("Etag", etag)
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	if s.opts.CacheControl != "" {
		h.Set("Cache-Control", s.opts.CacheControl)
	}
	// ServeContent answers conditional requests (If-Match, If-None-Match,
	// If-Modified-Since, If-Unmodified-Since, If-Range) against the ETag
	// and the modification time, and Range requests (one range or several
	// as multipart/byteranges, 416 for unsatisfiable ones). Its error
	// answers (412, 416) are caught and become problem+json.
	cw := catchers.Get().(*catcher)
	cw.ResponseWriter = c.Response()
	http.ServeContent(cw, c.Request, path.Base(name), sendInfo.ModTime(), content)
	code, detail := cw.code, strings.TrimSpace(string(cw.msg))
	*cw = catcher{msg: cw.msg[:0]}
	catchers.Put(cw)
	if code == 0 {
		return nil
	}
	h.Del("Content-Type")
	if detail == "" {
		detail = http.StatusText(code)
	}
	return graft.NewError(code, detail) // Content-Range (416) stays in the headers
}

var catchers = sync.Pool{New: func() any { return new(catcher) }}

// catcher passes a successful answer through and holds back an error
// answer's status and text, for the app's error handler to write.
type catcher struct {
	http.ResponseWriter
	code int
	msg  []byte
}

func (w *catcher) WriteHeader(code int) {
	if code >= 400 {
		w.code = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *catcher) Write(p []byte) (int, error) {
	if w.code != 0 {
		if len(w.msg) < 512 {
			w.msg = append(w.msg, p[:min(len(p), 512-len(w.msg))]...)
		}
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps the connection's ReadFrom (sendfile) for file bodies.
func (w *catcher) ReadFrom(r io.Reader) (int64, error) {
	if w.code != 0 {
		return io.Copy(io.Discard, r)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *catcher) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// etag is strong: the size and modification time, or for files without a
// modification time (embed.FS) a hash of the content, computed once.
func (s *Static) etag(name string, info fs.FileInfo, content io.ReadSeeker) (string, error) {
	if mt := info.ModTime(); !mt.IsZero() {
		return `"` + strconv.FormatInt(info.Size(), 16) + "-" + strconv.FormatInt(mt.UnixNano(), 16) + `"`, nil
	}
	key := name + "\x00" + strconv.FormatInt(info.Size(), 10)
	if v, ok := s.hashes.Load(key); ok {
		return v.(string), nil
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, content); err != nil {
		return "", err
	}
	if _, err := content.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tag := `"` + hex.EncodeToString(sum.Sum(nil)[:12]) + `"`
	s.hashes.Store(key, tag)
	return tag, nil
}

// seeker gives ServeContent the file as an io.ReadSeeker.
func seeker(f fs.File, size int64) (io.ReadSeeker, error) {
	switch r := f.(type) {
	case io.ReadSeeker:
		return r, nil
	case io.ReaderAt:
		return io.NewSectionReader(r, 0, size), nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// maxLinks bounds how many symbolic links one name may pass through.
const maxLinks = 40

// resolve returns name with every symbolic link on its way replaced by its
// target, and the file's information. A link whose target is absolute or
// leaves the file system is an error, whatever the file system would do
// with it (os.DirFS follows links anywhere). File systems that cannot tell
// links (fs.ReadLinkFS not implemented, e.g. embed.FS) are used as they
// are.
func (s *Static) resolve(name string) (string, fs.FileInfo, error) {
	rl, ok := s.fsys.(fs.ReadLinkFS)
	if !ok {
		info, err := fs.Stat(s.fsys, name)
		return name, info, err
	}
	done := "."
	rest := name
	links := 0
	for rest != "" && rest != "." {
		var elem string
		elem, rest, _ = strings.Cut(rest, "/")
		next := path.Join(done, elem)
		info, err := rl.Lstat(next)
		if err != nil {
			return "", nil, err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		if links++; links > maxLinks {
			return "", nil, errors.New("too many links")
		}
		target, err := rl.ReadLink(next)
		if err != nil {
			return "", nil, err
		}
		if path.IsAbs(target) || strings.Contains(target, "\\") {
			return "", nil, fs.ErrNotExist
		}
		joined := path.Join(done, target)
		if !fs.ValidPath(joined) {
			return "", nil, fs.ErrNotExist // out of the root
		}
		// Walk the target again: it may itself hold links.
		if rest != "" {
			joined += "/" + rest
		}
		done, rest = ".", joined
	}
	info, err := fs.Stat(s.fsys, done)
	return done, info, err
}
