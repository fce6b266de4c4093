package static_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/static"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const body = "0123456789abcdefghijklmnopqrstuvwxyz"

// tree makes ROOT/{hello.txt,sub/index.html,empty/,app.js,app.js.gz,app.js.zst,
// in-link.txt -> hello.txt} and a secret outside it, with links pointing
// out: ROOT/out.txt -> ../secret.txt, ROOT/abs.txt -> /…/secret.txt,
// ROOT/updir -> .., ROOT/sub/deep.txt -> ../../secret.txt.
func tree(t *testing.T) (root string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "empty"), 0o755))
	must(os.WriteFile(filepath.Join(base, "secret.txt"), []byte("TOP SECRET"), 0o644))
	must(os.WriteFile(filepath.Join(root, "hello.txt"), []byte(body), 0o644))
	must(os.WriteFile(filepath.Join(root, "sub", "index.html"), []byte("<h1>sub</h1>"), 0o644))
	must(os.WriteFile(filepath.Join(root, "app.js"), []byte("console.log('plain')"), 0o644))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("console.log('gzip')"))
	zw.Close()
	must(os.WriteFile(filepath.Join(root, "app.js.gz"), gz.Bytes(), 0o644))
	must(os.WriteFile(filepath.Join(root, "app.js.zst"), []byte("ZSTD-BYTES"), 0o644))
	must(os.Symlink("hello.txt", filepath.Join(root, "in-link.txt")))
	must(os.Symlink("../secret.txt", filepath.Join(root, "out.txt")))
	must(os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(root, "abs.txt")))
	must(os.Symlink("..", filepath.Join(root, "updir")))
	must(os.Symlink("../../secret.txt", filepath.Join(root, "sub", "deep.txt")))
	return root
}

func serve(t *testing.T, fsys fs.FS, opts static.Options) *httptest.Server {
	t.Helper()
	app := graft.New(graft.Config{})
	app.Register(static.Mount("/s", fsys, opts))
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })
	return srv
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// raw sends target exactly as written, bypassing any client-side cleaning.
func raw(t *testing.T, srv *httptest.Server, target string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: reading the answer: %v", target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestServesFileWithValidators(t *testing.T) {
	srv := serve(t, os.DirFS(tree(t)), static.Options{CacheControl: "public, max-age=60"})
	res, got := get(t, srv.URL+"/s/hello.txt")
	if res.StatusCode != 200 || got != body {
		t.Fatalf("status %d body %q", res.StatusCode, got)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	etag, lm := res.Header.Get("Etag"), res.Header.Get("Last-Modified")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 5 {
		t.Errorf("ETag %q is not strong", etag)
	}
	if _, err := http.ParseTime(lm); err != nil {
		t.Errorf("Last-Modified %q: %v", lm, err)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=60" {
		t.Errorf("Cache-Control %q", cc)
	}
	if res.Header.Get("Vary") != "" {
		t.Errorf("Vary %q on a file without precompressed siblings", res.Header.Get("Vary"))
	}

	res, got = get(t, srv.URL+"/s/hello.txt", "If-None-Match", etag)
	if res.StatusCode != 304 || got != "" {
		t.Errorf("If-None-Match: status %d body %q, want 304 and nothing", res.StatusCode, got)
	}
	if res.Header.Get("Etag") != etag || res.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("304 lost ETag or Cache-Control: %v", res.Header)
	}
	res, _ = get(t, srv.URL+"/s/hello.txt", "If-None-Match", `"other"`)
	if res.StatusCode != 200 {
		t.Errorf("If-None-Match with another tag: %d", res.StatusCode)
	}
	res, got = get(t, srv.URL+"/s/hello.txt", "If-Match", `"other"`)
	if res.StatusCode != 412 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") || !strings.Contains(got, `"status":412`) {
		t.Errorf("If-Match with another tag: %d %q %s, want 412 problem+json", res.StatusCode, res.Header.Get("Content-Type"), got)
	}
	if res, _ := get(t, srv.URL+"/s/hello.txt", "If-Match", etag); res.StatusCode != 200 {
		t.Errorf("If-Match with the current tag: %d", res.StatusCode)
	}
	res, _ = get(t, srv.URL+"/s/hello.txt", "If-Modified-Since", lm)
	if res.StatusCode != 304 {
		t.Errorf("If-Modified-Since: %d, want 304", res.StatusCode)
	}
	res, _ = get(t, srv.URL+"/s/hello.txt", "If-Modified-Since", time.Unix(0, 0).UTC().Format(http.TimeFormat))
	if res.StatusCode != 200 {
		t.Errorf("If-Modified-Since in the past: %d, want 200", res.StatusCode)
	}

	// HEAD: the GET's headers, no body.
	req, _ := http.NewRequest("HEAD", srv.URL+"/s/hello.txt", nil)
	hres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(hres.Body)
	hres.Body.Close()
	if hres.StatusCode != 200 || len(hb) != 0 || hres.Header.Get("Etag") != etag || hres.ContentLength != int64(len(body)) {
		t.Errorf("HEAD: status %d body %q etag %q length %d", hres.StatusCode, hb, hres.Header.Get("Etag"), hres.ContentLength)
	}
}

func TestRange(t *testing.T) {
	srv := serve(t, os.DirFS(tree(t)), static.Options{})
	res, got := get(t, srv.URL+"/s/hello.txt", "Range", "bytes=2-5")
	if res.StatusCode != 206 || got != "2345" || res.Header.Get("Content-Range") != "bytes 2-5/36" {
		t.Errorf("single range: %d %q %q", res.StatusCode, got, res.Header.Get("Content-Range"))
	}
	res, got = get(t, srv.URL+"/s/hello.txt", "Range", "bytes=-3")
	if res.StatusCode != 206 || got != "xyz" {
		t.Errorf("suffix range: %d %q", res.StatusCode, got)
	}
	res, got = get(t, srv.URL+"/s/hello.txt", "Range", "bytes=0-1,10-11")
	mt, params, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if res.StatusCode != 206 || err != nil || mt != "multipart/byteranges" {
		t.Fatalf("multiple ranges: %d %q %v", res.StatusCode, res.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(strings.NewReader(got), params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Range")+"="+string(b))
	}
	if strings.Join(parts, " ") != "bytes 0-1/36=01 bytes 10-11/36=ab" {
		t.Errorf("parts %q", parts)
	}
	res, got = get(t, srv.URL+"/s/hello.txt", "Range", "bytes=100-200")
	if res.StatusCode != 416 || res.Header.Get("Content-Range") != "bytes */36" {
		t.Errorf("unsatisfiable: %d %q", res.StatusCode, res.Header.Get("Content-Range"))
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") || !strings.Contains(got, `"status":416`) || !strings.Contains(got, "invalid range") {
		t.Errorf("416 is not problem+json: %q %s", res.Header.Get("Content-Type"), got)
	}
	full, _ := get(t, srv.URL+"/s/hello.txt")
	etag := full.Header.Get("Etag")
	res, got = get(t, srv.URL+"/s/hello.txt", "Range", "bytes=0-0", "If-Range", etag)
	if res.StatusCode != 206 || got != "0" {
		t.Errorf("If-Range with the current tag: %d %q", res.StatusCode, got)
	}
	res, got = get(t, srv.URL+"/s/hello.txt", "Range", "bytes=0-0", "If-Range", `"stale"`)
	if res.StatusCode != 200 || got != body {
		t.Errorf("If-Range with a stale tag: %d %q, want the whole file", res.StatusCode, got)
	}
}

func TestPrecompressed(t *testing.T) {
	srv := serve(t, os.DirFS(tree(t)), static.Options{Precompressed: true})
	cases := []struct{ ae, enc, body string }{
		{"", "", "console.log('plain')"},
		{"gzip", "gzip", ""},
		{"gzip, zstd", "zstd", "ZSTD-BYTES"},
		{"zstd;q=0.5, gzip", "gzip", ""},
		{"zstd;q=0, gzip;q=0", "", "console.log('plain')"},
		{"*", "zstd", "ZSTD-BYTES"},
		{"br", "", "console.log('plain')"},
	}
	tags := map[string]string{}
	for _, tc := range cases {
		res, got := get(t, srv.URL+"/s/app.js", "Accept-Encoding", tc.ae)
		if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != tc.enc {
			t.Errorf("Accept-Encoding %q: %d Content-Encoding %q, want %q", tc.ae, res.StatusCode, res.Header.Get("Content-Encoding"), tc.enc)
			continue
		}
		if res.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q", tc.ae, res.Header.Get("Vary"))
		}
		if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
			t.Errorf("Accept-Encoding %q: Content-Type %q, want the original's", tc.ae, ct)
		}
		if tc.enc == "gzip" {
			zr, err := gzip.NewReader(strings.NewReader(got))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(zr)
			got = string(b)
			tc.body = "console.log('gzip')"
		}
		if got != tc.body {
			t.Errorf("Accept-Encoding %q: body %q", tc.ae, got)
		}
		if prev, ok := tags[tc.enc]; ok && prev != res.Header.Get("Etag") {
			t.Errorf("ETag of %q changed between requests", tc.enc)
		}
		tags[tc.enc] = res.Header.Get("Etag")
	}
	if len(tags) != 3 || tags[""] == tags["gzip"] || tags["gzip"] == tags["zstd"] {
		t.Errorf("each representation needs its own ETag: %v", tags)
	}
	res, _ := get(t, srv.URL+"/s/app.js", "Accept-Encoding", "gzip", "If-None-Match", tags["gzip"])
	if res.StatusCode != 304 {
		t.Errorf("If-None-Match on the gzip representation: %d", res.StatusCode)
	}
}

func TestDirectories(t *testing.T) {
	srv := serve(t, os.DirFS(tree(t)), static.Options{})
	res, got := get(t, srv.URL+"/s/sub/")
	if res.StatusCode != 200 || got != "<h1>sub</h1>" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("index: %d %q %q", res.StatusCode, got, res.Header.Get("Content-Type"))
	}
	res, _ = get(t, srv.URL+"/s/sub?x=1")
	if res.StatusCode != 301 || res.Header.Get("Location") != "/s/sub/?x=1" {
		t.Errorf("directory without slash: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, p := range []string{"/s/empty/", "/s/", "/s/hello.txt/", "/s/missing.txt"} {
		res, got := get(t, srv.URL+p)
		if res.StatusCode != 404 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %q %q, want 404 problem+json (no listings)", p, res.StatusCode, res.Header.Get("Content-Type"), got)
		}
	}
}

func TestTraversalImpossible(t *testing.T) {
	root := tree(t)
	srv := serve(t, os.DirFS(root), static.Options{Precompressed: true})
	targets := []string{
		"/s/../secret.txt",
		"/s/%2e%2e/secret.txt",
		"/s/%2E%2E/secret.txt",
		"/s/..%2fsecret.txt",
		"/s/..%2Fsecret.txt",
		"/s/sub/..%2f..%2fsecret.txt",
		"/s/%2e%2e%2fsecret.txt",
		"/s/%252e%252e/secret.txt",
		"/s/%252e%252e%252fsecret.txt",
		"/s/....//secret.txt",
		"/s/..\\secret.txt",
		"/s/..%5csecret.txt",
		"/s/sub%5c..%5c..%5csecret.txt",
		"/s/hello.txt%00",
		"/s/hello.txt%00.png",
		"/s/%00../secret.txt",
		"/s//etc/passwd",
		"/s/%2fetc%2fpasswd",
		"/s/" + strings.TrimPrefix(filepath.Join(filepath.Dir(root), "secret.txt"), "/"),
		"/s/out.txt",
		"/s/abs.txt",
		"/s/updir/secret.txt",
		"/s/sub/deep.txt",
		"/s/updir/root/hello.txt",
	}
	for _, target := range targets {
		code, got := raw(t, srv, target)
		if strings.Contains(got, "SECRET") || strings.Contains(got, "root:") {
			t.Errorf("%s: served a file outside the root (%d)", target, code)
		}
		switch code {
		case 400, 404:
		case 301, 308: // the router cleans ".." segments; the clean path is checked below
		default:
			t.Errorf("%s: status %d, want 404", target, code)
		}
	}
	for _, target := range []string{"/s/out.txt", "/s/abs.txt", "/s/updir/secret.txt", "/s/sub/deep.txt", "/s/..%2fsecret.txt", "/s/%252e%252e/secret.txt"} {
		if code, _ := raw(t, srv, target); code != 404 {
			t.Errorf("%s: %d, want 404", target, code)
		}
	}
	// A link that stays inside the root is served.
	if code, got := raw(t, srv, "/s/in-link.txt"); code != 200 || got != body {
		t.Errorf("in-root link: %d %q", code, got)
	}
}

func TestContentHashETagWithoutModTime(t *testing.T) {
	fsys := fstest.MapFS{"a.css": {Data: []byte("body{}")}, "b.css": {Data: []byte("p{}")}}
	srv := serve(t, fsys, static.Options{})
	r1, _ := get(t, srv.URL+"/s/a.css")
	r2, _ := get(t, srv.URL+"/s/a.css")
	r3, _ := get(t, srv.URL+"/s/b.css")
	e1, e2, e3 := r1.Header.Get("Etag"), r2.Header.Get("Etag"), r3.Header.Get("Etag")
	if e1 == "" || e1 != e2 || e1 == e3 || strings.HasPrefix(e1, "W/") {
		t.Errorf("content ETags: %q %q %q", e1, e2, e3)
	}
	if r1.Header.Get("Last-Modified") != "" {
		t.Errorf("Last-Modified %q for a file without a time", r1.Header.Get("Last-Modified"))
	}
	if res, _ := get(t, srv.URL+"/s/a.css", "If-None-Match", e1); res.StatusCode != 304 {
		t.Errorf("If-None-Match on a content ETag: %d", res.StatusCode)
	}
}

func TestHandlerOnOwnRoute(t *testing.T) {
	app := graft.New(graft.Config{})
	app.GET("/files/{path...}", static.Handler(os.DirFS(tree(t)), static.Options{}))
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())
	if res, got := get(t, srv.URL+"/files/hello.txt"); res.StatusCode != 200 || got != body {
		t.Errorf("%d %q", res.StatusCode, got)
	}
	if code, _ := raw(t, srv, "/files/out.txt"); code != 404 {
		t.Errorf("link out of the root: %d", code)
	}
}

func TestSetupMistakes(t *testing.T) {
	app := graft.New(graft.Config{})
	app.Register(static.Mount("assets", fstest.MapFS{}, static.Options{}))
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started with a prefix without '/'")
	}
	if !strings.Contains(err.Error(), `static.Mount("assets")`) || !strings.Contains(err.Error(), "must start with '/'") {
		t.Errorf("message: %v", err)
	}
	app = graft.New(graft.Config{})
	app.Register(static.Mount("/a", nil, static.Options{}))
	if err := app.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "fs.FS is nil") {
		if err == nil {
			app.Stop(context.Background())
		}
		t.Errorf("nil fs: %v", err)
	}
}
