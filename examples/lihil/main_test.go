package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func start(t *testing.T, args ...string) (*graft.App[graft.Ctx], *httptest.Server) {
	t.Helper()
	app, err := newApp(append([]string{}, args...))
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() {
		srv.Close()
		_ = app.Stop(context.Background())
	})
	return app, srv
}

func TestBusPlugin(t *testing.T) {
	_, srv := start(t)
	if st, b := call(t, srv, "GET", "/events", ""); st != 200 || b != "[]\n" {
		t.Fatalf("events before: %d %s", st, b)
	}
	st, b := call(t, srv, "POST", "/users/7", `{"name":"Ada","email":"ada@example.com"}`)
	if st != 201 || b != `{"user_id":"7","name":"Ada"}`+"\n" {
		t.Fatalf("create: %d %s", st, b)
	}
	if st, b := call(t, srv, "POST", "/users/x", `{"name":"","email":"nope"}`); st != 422 ||
		!strings.Contains(b, "path.user_id") || !strings.Contains(b, "body.name") || !strings.Contains(b, "body.email") {
		t.Errorf("invalid create: %d %s", st, b)
	}
	st, b = call(t, srv, "GET", "/events", "")
	if st != 200 || b != `[{"user_id":"7","name":"Ada"}]`+"\n" {
		t.Errorf("events after: %d %s", st, b)
	}
}

func TestBusPluginLeavesOtherEndpoints(t *testing.T) {
	app, _ := start(t)
	for _, r := range app.Routes() {
		if r.Pattern == "/events" {
			return
		}
	}
	t.Fatal("no /events route")
}

func TestLimitPluginFactory(t *testing.T) {
	_, srv := start(t, "--max-requests", "4")
	st, b := call(t, srv, "GET", "/limits", "")
	var l Limits
	if err := json.Unmarshal([]byte(b), &l); st != 200 || err != nil || l.MaxRequests != 4 || l.Served != 1 || l.Since.IsZero() {
		t.Fatalf("limits: %d %s", st, b)
	}
	call(t, srv, "GET", "/events", "")
	call(t, srv, "GET", "/limits", "")
	call(t, srv, "GET", "/events", "")
	if st, b := call(t, srv, "GET", "/limits", ""); st != 429 || !strings.Contains(b, "--max-requests") {
		t.Errorf("over the limit: %d %s", st, b)
	}
}

func TestLimitPluginRejectsBadConfig(t *testing.T) {
	app, err := newApp([]string{"--max-requests", "-1"})
	if err != nil {
		t.Fatal(err)
	}
	err = app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "plugin limit") || !strings.Contains(err.Error(), "limit.max-requests (--max-requests) is -1; it must be positive") {
		t.Fatalf("start error %v", err)
	}
}

// TestLimitConfigSources: the plugin's section comes from the TOML file,
// the environment and flags, flags winning; unset, it is the default.
func TestLimitConfigSources(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lihil.toml")
	if err := os.WriteFile(file, []byte("port = -1\n\n[limit]\nmax-requests = 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	limitOf := func(args ...string) (int, string) {
		t.Helper()
		_, srv := start(t, args...)
		st, b := call(t, srv, "GET", "/limits", "")
		var l Limits
		if err := json.Unmarshal([]byte(b), &l); st != 200 || err != nil {
			t.Fatalf("limits: %d %s", st, b)
		}
		return l.MaxRequests, b
	}
	if n, b := limitOf(); n != DefaultMaxRequests {
		t.Errorf("no config: max %d (%s), want the default %d", n, b, DefaultMaxRequests)
	}
	if n, b := limitOf("--config", file); n != 7 {
		t.Errorf("from the file: max %d (%s), want 7", n, b)
	}
	t.Setenv("GRAFT_LIMIT_MAX_REQUESTS", "8")
	if n, b := limitOf("--config", file); n != 8 {
		t.Errorf("env over file: max %d (%s), want 8", n, b)
	}
	if n, b := limitOf("--config", file, "--limit.max-requests=9"); n != 9 {
		t.Errorf("flag over env: max %d (%s), want 9", n, b)
	}
	// A typo in the section fails with the file's line.
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("[limit]\nmax-request = 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := newApp([]string{"--config", bad})
	want := `config: ` + bad + `:2: key "limit.max-request" = "7": unknown key (did you mean "limit.max-requests"?); see --help for the keys`
	if err == nil || err.Error() != want {
		t.Errorf("typo: got %v\nwant %s", err, want)
	}
}
