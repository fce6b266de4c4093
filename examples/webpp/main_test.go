package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve starts the app with --db file and returns its server and a stop
// function that shuts both down.
func serve(t *testing.T, file string) (*httptest.Server, func()) {
	t.Helper()
	app := newApp(graft.Config{})
	if err := app.ParseFlags([]string{"--db", file}); err != nil {
		t.Fatal(err)
	}
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	return srv, func() {
		srv.Close()
		if err := app.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	}
}

func call(t *testing.T, c *http.Client, method, url, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func TestWebpp(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.db")
	srv, stop := serve(t, file)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}

	if st, _, body := call(t, browser, "GET", srv.URL+"/home", ""); st != 200 || body != "Home Page" {
		t.Fatalf("/home = %d %q", st, body)
	}
	for i, want := range []string{"visits: 1", "visits: 2", "visits: 3"} {
		st, h, body := call(t, browser, "GET", srv.URL+"/visits", "")
		if st != 200 || body != want || !strings.Contains(h.Get("Set-Cookie"), "HttpOnly") {
			t.Fatalf("visit %d = %d %q %v", i, st, body, h)
		}
	}
	// Another browser has its own count.
	if _, _, body := call(t, http.DefaultClient, "GET", srv.URL+"/visits", ""); body != "visits: 1" {
		t.Fatalf("fresh browser: %q", body)
	}
	// DELETE clears the cookie: 204, no body, Max-Age=0; the count starts over.
	st, h, body := call(t, browser, "DELETE", srv.URL+"/visits", "")
	if sc := h.Get("Set-Cookie"); st != 204 || body != "" || !strings.HasPrefix(sc, "visits=;") || !strings.Contains(sc, "Max-Age=0") {
		t.Fatalf("DELETE /visits = %d %q Set-Cookie %q", st, body, sc)
	}
	if _, _, body := call(t, browser, "GET", srv.URL+"/visits", ""); body != "visits: 1" {
		t.Fatalf("after DELETE: %q", body)
	}
	if st, _, body := call(t, browser, "POST", srv.URL+"/notes", `{"text":"buy milk"}`); st != 201 || body != `{"id":1,"text":"buy milk"}` {
		t.Fatalf("POST /notes = %d %s", st, body)
	}
	// What curl -d sends: a form, not JSON.
	req, _ := http.NewRequest("POST", srv.URL+"/notes", strings.NewReader(`{"text":"x"}`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := browser.Do(req); err != nil || res.StatusCode != 415 {
		t.Fatalf("POST /notes as a form = %v %v, want 415", res, err)
	} else {
		res.Body.Close()
	}
	for _, bad := range []struct {
		body string
		want int
	}{{`{"text":`, 400}, {`{"text":"  "}`, 422}, {``, 400}} {
		if st, h, _ := call(t, browser, "POST", srv.URL+"/notes", bad.body); st != bad.want || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("POST %q = %d %s, want %d problem+json", bad.body, st, h.Get("Content-Type"), bad.want)
		}
	}
	stop()

	// The notes survive a restart.
	srv, stop = serve(t, file)
	defer stop()
	st, h, body = call(t, browser, "GET", srv.URL+"/notes", "")
	if st != 200 || body != `[{"id":1,"text":"buy milk"}]` || h.Get("ETag") != `"notes-1-1"` {
		t.Fatalf("GET /notes after restart = %d %s %v", st, body, h)
	}
	// The ETag comes back as If-None-Match: 304, no body, the tag again.
	for _, inm := range []string{`"notes-1-1"`, `W/"notes-1-1"`, `"other", "notes-1-1"`, `*`} {
		st, h, body = call(t, browser, "GET", srv.URL+"/notes", "", "If-None-Match", inm)
		if st != 304 || body != "" || h.Get("ETag") != `"notes-1-1"` {
			t.Errorf("If-None-Match %s = %d %q %v, want 304", inm, st, body, h)
		}
	}
	if st, _, _ = call(t, browser, "GET", srv.URL+"/notes", "", "If-None-Match", `"notes-0-0"`); st != 200 {
		t.Errorf("a stale If-None-Match answered %d, want 200", st)
	}
	if st, h, body = call(t, browser, "GET", srv.URL+"/notes", "", "If-None-Match", "notes-1-1"); st != 400 || !strings.Contains(body, "header.If-None-Match") {
		t.Errorf("an unquoted If-None-Match answered %d %s, want a 400 naming the header", st, body)
	}
	// A new note changes the tag.
	call(t, browser, "POST", srv.URL+"/notes", `{"text":"bread"}`)
	if st, h, _ = call(t, browser, "GET", srv.URL+"/notes", "", "If-None-Match", `"notes-1-1"`); st != 200 || h.Get("ETag") != `"notes-2-2"` {
		t.Errorf("after a new note: %d %v", st, h)
	}
}

func TestMissingDatabaseFileFailsAtStart(t *testing.T) {
	app := newApp(graft.Config{})
	if err := app.ParseFlags([]string{"--db", ""}); err != nil {
		t.Fatal(err)
	}
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "example.sqlite") || !strings.Contains(err.Error(), "--db") {
		t.Fatalf("err = %v", err)
	}
}
