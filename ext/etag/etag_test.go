package etag_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/compress"
	"github.com/graftgo/graft/ext/etag"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, srv *httptest.Server, method, path string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{res.StatusCode, res.Header, string(b)}
}

// notes is a tiny resource store whose GET answers are tagged by the
// extension and whose PUT checks the preconditions with etag.Check.
type notes struct {
	mu sync.Mutex
	m  map[string]string
}

func (n *notes) json(id string) ([]byte, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	text, ok := n.m[id]
	if !ok {
		return nil, false
	}
	b, _ := json.Marshal(map[string]string{"id": id, "text": text})
	return b, true
}

func server(t *testing.T, opts etag.Options, more ...graft.Extension) *httptest.Server {
	t.Helper()
	store := &notes{m: map[string]string{"1": "first"}}
	app := graft.New(graft.Config{})
	app.Register(more...)
	app.Register(etag.Extension(opts))
	app.GET("/notes/{id}", func(c *graft.Ctx) error {
		b, ok := store.json(c.Param("id"))
		if !ok {
			return graft.NewError(404, "no such note")
		}
		c.SetHeader("Cache-Control", "private, max-age=60")
		return c.Bytes(200, "application/json", b)
	})
	app.PUT("/notes/{id}", func(c *graft.Ctx) error {
		id := c.Param("id")
		cur := ""
		if b, ok := store.json(id); ok {
			cur = etag.Of(b, opts.Weak)
		}
		if err := etag.Check(c, cur); err != nil {
			return err
		}
		body, err := c.Body()
		if err != nil {
			return err
		}
		store.mu.Lock()
		store.m[id] = string(body)
		store.mu.Unlock()
		b, _ := store.json(id)
		c.SetHeader("ETag", etag.Of(b, opts.Weak))
		return c.NoContent()
	})
	app.POST("/notes", func(c *graft.Ctx) error { return c.Text(201, "made") })
	app.GET("/created", func(c *graft.Ctx) error { return c.Text(201, "made") })
	app.GET("/own", func(c *graft.Ctx) error {
		c.SetHeader("ETag", `"v7"`)
		return c.Text(200, "version seven")
	})
	app.GET("/big", func(c *graft.Ctx) error { return c.Text(200, strings.Repeat("x", 5000)) })
	app.GET("/sized", func(c *graft.Ctx) error {
		c.SetHeader("Content-Length", "5")
		return c.Text(200, "hello")
	})
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })
	return srv
}

func noteBody() []byte { b, _ := json.Marshal(map[string]string{"id": "1", "text": "first"}); return b }

func TestTagAndNotModified(t *testing.T) {
	srv := server(t, etag.Options{})
	tag := etag.Of(noteBody(), false)
	a := do(t, srv, "GET", "/notes/1")
	if a.status != 200 || a.header.Get("ETag") != tag || a.body != string(noteBody()) {
		t.Fatalf("GET: %d ETag %q body %q, want 200 %q", a.status, a.header.Get("ETag"), a.body, tag)
	}
	if !strings.HasPrefix(tag, `"`) || len(tag) != 24 {
		t.Fatalf("tag %q is not a strong 22-character tag", tag)
	}
	for _, inm := range []string{tag, "W/" + tag, `"nope", ` + tag, "*"} {
		a := do(t, srv, "GET", "/notes/1", "If-None-Match", inm)
		if a.status != 304 || a.body != "" || a.header.Get("ETag") != tag {
			t.Errorf("If-None-Match %s: %d ETag %q body %q, want 304 with the tag", inm, a.status, a.header.Get("ETag"), a.body)
		}
		if a.header.Get("Cache-Control") != "private, max-age=60" || a.header.Get("Content-Type") != "" || a.header.Get("Content-Length") != "" {
			t.Errorf("If-None-Match %s: 304 headers %v, want Cache-Control kept and no representation headers", inm, a.header)
		}
	}
	if a := do(t, srv, "GET", "/notes/1", "If-None-Match", `"other"`); a.status != 200 || a.body != string(noteBody()) {
		t.Errorf("stale If-None-Match: %d %q, want the 200", a.status, a.body)
	}
	if a := do(t, srv, "HEAD", "/notes/1"); a.status != 200 || a.header.Get("ETag") != tag {
		t.Errorf("HEAD: %d ETag %q, want GET's %q", a.status, a.header.Get("ETag"), tag)
	}
	if a := do(t, srv, "HEAD", "/notes/1", "If-None-Match", tag); a.status != 304 {
		t.Errorf("HEAD If-None-Match: %d, want 304", a.status)
	}
}

func TestWeakTags(t *testing.T) {
	srv := server(t, etag.Options{Weak: true})
	tag := etag.Of(noteBody(), true)
	if a := do(t, srv, "GET", "/notes/1"); a.header.Get("ETag") != tag || !strings.HasPrefix(tag, `W/"`) {
		t.Fatalf("ETag %q, want %q", a.header.Get("ETag"), tag)
	}
	if a := do(t, srv, "GET", "/notes/1", "If-None-Match", strings.TrimPrefix(tag, "W/")); a.status != 304 {
		t.Errorf("If-None-Match with the strong form: %d, want 304 (weak comparison)", a.status)
	}
	// If-Match compares strongly: a weak tag never matches.
	if a := do(t, srv, "PUT", "/notes/1", "If-Match", tag); a.status != 412 {
		t.Errorf("If-Match with a weak tag: %d, want 412", a.status)
	}
}

func TestIfMatch(t *testing.T) {
	srv := server(t, etag.Options{})
	tag := etag.Of(noteBody(), false)
	a := do(t, srv, "GET", "/notes/1", "If-Match", `"stale"`)
	if a.status != 412 || a.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(a.body, `"status":412`) || a.header.Get("ETag") != "" {
		t.Errorf("GET with a stale If-Match: %d %s %q", a.status, a.header.Get("Content-Type"), a.body)
	}
	if a := do(t, srv, "GET", "/notes/1", "If-Match", tag); a.status != 200 {
		t.Errorf("GET with the current If-Match: %d", a.status)
	}
	if a := do(t, srv, "GET", "/own", "If-Match", `"v6"`); a.status != 412 || strings.Contains(a.body, "seven") {
		t.Errorf("handler's own tag, stale If-Match: %d %q", a.status, a.body)
	}
}

// TestUnsafePreconditions: lost updates are refused with 412 problem+json
// by etag.Check; a matching tag lets the change through.
func TestUnsafePreconditions(t *testing.T) {
	srv := server(t, etag.Options{})
	tag := etag.Of(noteBody(), false)
	for _, tc := range []struct {
		name, path string
		hdr        []string
		want       int
	}{
		{"stale If-Match", "/notes/1", []string{"If-Match", `"stale"`}, 412},
		{"If-Match * on a missing note", "/notes/9", []string{"If-Match", "*"}, 412},
		{"If-None-Match * on an existing note", "/notes/1", []string{"If-None-Match", "*"}, 412},
		{"If-None-Match with the current tag", "/notes/1", []string{"If-None-Match", tag}, 412},
		{"If-None-Match * creates", "/notes/2", []string{"If-None-Match", "*"}, 204},
		{"no precondition", "/notes/3", nil, 204},
		{"current If-Match", "/notes/1", []string{"If-Match", `"x", ` + tag}, 204},
		{"the same If-Match again: now stale", "/notes/1", []string{"If-Match", tag}, 412},
	} {
		a := do(t, srv, "PUT", tc.path, tc.hdr...)
		if a.status != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, a.status, a.body, tc.want)
			continue
		}
		if tc.want == 412 && (a.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(a.body, "Precondition Failed")) {
			t.Errorf("%s: 412 is not problem+json: %s %q", tc.name, a.header.Get("Content-Type"), a.body)
		}
	}
	// the PUT's answer tag is the next GET's
	put := do(t, srv, "PUT", "/notes/5")
	if get := do(t, srv, "GET", "/notes/5"); get.header.Get("ETag") != put.header.Get("ETag") || get.header.Get("ETag") == "" {
		t.Errorf("PUT answered ETag %q, the GET %q", put.header.Get("ETag"), get.header.Get("ETag"))
	}
}

func TestUntagged(t *testing.T) {
	srv := server(t, etag.Options{MaxSize: 4096})
	for _, tc := range []struct{ name, method, path, body string }{
		{"POST", "POST", "/notes", "made"},
		{"201", "GET", "/created", "made"},
		{"404", "GET", "/notes/404", ""},
		{"over MaxSize", "GET", "/big", strings.Repeat("x", 5000)},
	} {
		a := do(t, srv, tc.method, tc.path, "If-None-Match", "*")
		if a.header.Get("ETag") != "" || a.status == 304 {
			t.Errorf("%s: %d ETag %q, want no tag and no 304", tc.name, a.status, a.header.Get("ETag"))
		}
		if tc.body != "" && a.body != tc.body {
			t.Errorf("%s: body %d bytes, want %d", tc.name, len(a.body), len(tc.body))
		}
	}
	a := do(t, srv, "GET", "/own", "If-None-Match", `"v7"`)
	if a.status != 304 || a.header.Get("ETag") != `"v7"` {
		t.Errorf("handler's own ETag: %d %q, want 304 with it", a.status, a.header.Get("ETag"))
	}
	if a := do(t, srv, "GET", "/sized"); a.body != "hello" || a.header.Get("ETag") != etag.Of([]byte("hello"), false) || a.header.Get("Content-Length") != "5" {
		t.Errorf("with Content-Length: %q %v", a.body, a.header)
	}
}

// TestStreamsPassThrough: a flushed answer reaches the client while the
// handler still runs, untagged.
func TestStreamsPassThrough(t *testing.T) {
	release := make(chan struct{})
	app := graft.New(graft.Config{})
	app.Register(etag.Extension(etag.Options{}))
	app.GET("/stream", func(c *graft.Ctx) error {
		w := c.Response()
		io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "second\n")
		return nil
	})
	app.GET("/events", func(c *graft.Ctx) error {
		return c.Bytes(200, "text/event-stream", []byte("data: x\n\n"))
	})
	srv := httptest.NewServer(app)
	defer func() { srv.Close(); app.Stop(context.Background()) }()

	res, err := srv.Client().Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("ETag") != "" {
		t.Errorf("stream tagged %q", res.Header.Get("ETag"))
	}
	r := bufio.NewReader(res.Body)
	got := make(chan string, 1)
	go func() { l, _ := r.ReadString('\n'); got <- l }()
	select {
	case l := <-got:
		if l != "first\n" {
			t.Fatalf("first line %q", l)
		}
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("the flushed first line did not arrive within 5s while the handler waited")
	}
	close(release)
	if rest, _ := io.ReadAll(r); string(rest) != "second\n" {
		t.Fatalf("rest %q", rest)
	}
	if a := do(t, srv, "GET", "/events", "If-None-Match", "*"); a.status != 200 || a.header.Get("ETag") != "" {
		t.Errorf("event stream: %d ETag %q", a.status, a.header.Get("ETag"))
	}
}

// TestWithCompress: registered after ext/compress, the tag names the
// plain body and compress weakens it; If-None-Match still matches.
func TestWithCompress(t *testing.T) {
	srv := server(t, etag.Options{}, compress.Extension(compress.Options{MinSize: -1}))
	tag := etag.Of(noteBody(), false)
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", srv.URL+"/notes/1", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("ETag") != "W/"+tag {
		t.Fatalf("compressed: %s ETag %q, want gzip W/%s", res.Header.Get("Content-Encoding"), res.Header.Get("ETag"), tag)
	}
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 304 {
		t.Fatalf("If-None-Match with the weakened tag: %d, want 304", res.StatusCode)
	}
}

func TestNegativeMaxSizeFailsAtStart(t *testing.T) {
	app := graft.New(graft.Config{})
	app.Register(etag.Extension(etag.Options{MaxSize: -1}))
	app.GET("/", func(c *graft.Ctx) error { return nil })
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started with MaxSize -1")
	}
	if !strings.Contains(err.Error(), etag.ID) || !strings.Contains(err.Error(), "MaxSize") {
		t.Fatalf("message: %v", err)
	}
}

// statusLog records c.StatusCode() after each answer, as an access log or
// metrics extension does.
type statusLog struct {
	mu  sync.Mutex
	got []int
}

func (*statusLog) ID() string { return "test.statuslog" }

func (l *statusLog) Extend(b *graft.Builder) error {
	b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			err := next(c)
			l.mu.Lock()
			l.got = append(l.got, c.StatusCode())
			l.mu.Unlock()
			return err
		}
	})
	return nil
}

// TestStatusCodeIsTheOneSent: the 304 and 412 the extension answers for a
// handler's 200 are what c.StatusCode() reports afterwards.
func TestStatusCodeIsTheOneSent(t *testing.T) {
	log := &statusLog{}
	srv := server(t, etag.Options{}, log)
	tag := etag.Of(noteBody(), false)
	do(t, srv, "GET", "/notes/1")
	do(t, srv, "GET", "/notes/1", "If-None-Match", tag)
	do(t, srv, "GET", "/notes/1", "If-Match", `"stale"`)
	do(t, srv, "GET", "/own", "If-None-Match", `"v7"`)
	log.mu.Lock()
	defer log.mu.Unlock()
	if fmt.Sprint(log.got) != "[200 304 412 304]" {
		t.Fatalf("c.StatusCode() after the answers: %v, want [200 304 412 304]", log.got)
	}
}
