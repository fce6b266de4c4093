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

func call(t *testing.T, c *http.Client, method, url, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
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
	if st, _, body := call(t, browser, "POST", srv.URL+"/notes", `{"text":"buy milk"}`); st != 201 || body != `{"id":1,"text":"buy milk"}` {
		t.Fatalf("POST /notes = %d %s", st, body)
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
	if st, _, body := call(t, browser, "GET", srv.URL+"/notes", ""); st != 200 || body != `[{"id":1,"text":"buy milk"}]` {
		t.Fatalf("GET /notes after restart = %d %s", st, body)
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
