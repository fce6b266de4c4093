package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/logging"
	"github.com/graftgo/graft/plugins/requestid"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sink collects JSON records from the server's goroutines.
type sink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *sink) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }

// records decodes the records logged so far and forgets them.
func (s *sink) records(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	dec := json.NewDecoder(&s.b)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("log line is not JSON: %v", err)
		}
		out = append(out, m)
	}
	s.b.Reset()
	return out
}

type userIn struct {
	ID int `path:"id" min:"1"`
}

type userOut struct {
	Body struct {
		ID int `json:"id"`
	}
}

func serve(t *testing.T, setup func(app *graft.App[graft.Ctx])) *httptest.Server {
	t.Helper()
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	setup(app)
	app.GET("/hello", func(c *graft.Ctx) error { return c.Text(200, "hello") })
	app.GET("/teapot", func(c *graft.Ctx) error { return &graft.HTTPError{Status: 418, Detail: "short and stout"} })
	app.GET("/boom", func(c *graft.Ctx) error { panic("boom") })
	app.GET("/plain-error", func(c *graft.Ctx) error { return errors.New("database down") })
	graft.Get(app, "/users/{id}", func(_ context.Context, in *userIn) (*userOut, error) {
		out := &userOut{}
		out.Body.ID = in.ID
		return out, nil
	})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })
	return srv
}

func do(t *testing.T, srv *httptest.Server, method, path string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// TestAccessLog: every answer gets one record with the final status,
// the route pattern and the bytes written, at Info below 500 and Error
// from 500 on: a handler's answer, an HTTPError, a plain error's 500, a
// panic's 500, a typed endpoint's 422, the router's 404 and 405.
func TestAccessLog(t *testing.T) {
	out := &sink{}
	srv := serve(t, func(app *graft.App[graft.Ctx]) {
		app.Register(logging.New(logging.Config{Logger: slog.New(slog.NewJSONHandler(out, nil))}))
	})
	for _, tc := range []struct {
		method, path   string
		status         int
		route, level   string
		bytesPositive  bool
		wantBytesExact int
	}{
		{"GET", "/hello", 200, "/hello", "INFO", false, 5},
		{"GET", "/users/7", 200, "/users/{id}", "INFO", true, -1},
		{"GET", "/users/0", 422, "/users/{id}", "INFO", true, -1},
		{"GET", "/teapot", 418, "/teapot", "INFO", true, -1},
		{"GET", "/plain-error", 500, "/plain-error", "ERROR", true, -1},
		{"GET", "/boom", 500, "/boom", "ERROR", true, -1},
		{"GET", "/nowhere", 404, "", "INFO", true, -1},
		{"DELETE", "/hello", 405, "", "INFO", true, -1},
		{"HEAD", "/hello", 200, "/hello", "INFO", false, 5}, // what the handler wrote
		{"PURGE", "/hello", 405, "", "INFO", true, -1},
		{"PURGE", "/nowhere", 404, "", "INFO", true, -1},
		{"GET", "/hello", 200, "/hello", "INFO", false, 5},
	} {
		res := do(t, srv, tc.method, tc.path)
		if res.StatusCode != tc.status {
			t.Fatalf("%s %s: status %d, want %d", tc.method, tc.path, res.StatusCode, tc.status)
		}
		recs := out.records(t)
		if len(recs) != 1 {
			t.Fatalf("%s %s: %d records, want 1: %v", tc.method, tc.path, len(recs), recs)
		}
		r := recs[0]
		if r["msg"] != "request" || r["level"] != tc.level || r["method"] != tc.method || r["path"] != tc.path ||
			r["route"] != tc.route || r["status"] != float64(tc.status) {
			t.Errorf("%s %s: record %v; want level %s route %q status %d", tc.method, tc.path, r, tc.level, tc.route, tc.status)
		}
		b, _ := r["bytes"].(float64)
		if tc.wantBytesExact >= 0 && b != float64(tc.wantBytesExact) || tc.bytesPositive && b <= 0 {
			t.Errorf("%s %s: bytes %v", tc.method, tc.path, r["bytes"])
		}
		if d, ok := r["duration"].(float64); !ok || d <= 0 {
			t.Errorf("%s %s: duration %v, want a positive number of nanoseconds", tc.method, tc.path, r["duration"])
		}
		if _, ok := r["request_id"]; ok {
			t.Errorf("%s %s: request_id %v without the requestid extension", tc.method, tc.path, r["request_id"])
		}
	}
}

// TestRequestID: with plugins/requestid registered, the record carries
// the id the answer was given, whichever of the two was registered first.
func TestRequestID(t *testing.T) {
	for _, order := range []string{"requestid first", "logging first"} {
		t.Run(order, func(t *testing.T) {
			out := &sink{}
			srv := serve(t, func(app *graft.App[graft.Ctx]) {
				log := logging.New(logging.Config{Logger: slog.New(slog.NewJSONHandler(out, nil)), RequestIDKey: "rid"})
				rid := requestid.New(requestid.Config{})
				if order == "requestid first" {
					app.Register(rid, log)
				} else {
					app.Register(log, rid)
				}
			})
			res := do(t, srv, "GET", "/hello", "X-Request-Id", "edge-1")
			gen := do(t, srv, "GET", "/nowhere")
			recs := out.records(t)
			if len(recs) != 2 {
				t.Fatalf("%d records, want 2", len(recs))
			}
			if recs[0]["rid"] != "edge-1" || res.Header.Get("X-Request-Id") != "edge-1" {
				t.Errorf("incoming id: record %v, header %q", recs[0]["rid"], res.Header.Get("X-Request-Id"))
			}
			if id := gen.Header.Get("X-Request-Id"); id == "" || recs[1]["rid"] != id {
				t.Errorf("generated id: record %v, header %q", recs[1]["rid"], id)
			}
		})
	}
}

// TestOptions: Skip leaves requests out, Level decides the level (and a
// level the handler does not enable logs nothing), Message names the
// record, a nil Logger is the app's, "-" drops the request id.
func TestOptions(t *testing.T) {
	out := &sink{}
	app := graft.New(graft.Config{Logger: slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	app.Register(requestid.New(requestid.Config{}), logging.New(logging.Config{
		Message:      "access",
		RequestIDKey: "-",
		Skip:         func(c *graft.Ctx) bool { return c.RoutePattern() == "/healthz" },
		Level: func(status int) slog.Level {
			if status >= 400 {
				return slog.LevelWarn
			}
			return slog.LevelDebug
		},
	}))
	app.GET("/healthz", func(c *graft.Ctx) error { return c.Text(503, "down") })
	app.GET("/ok", func(c *graft.Ctx) error { return c.Text(200, "ok") })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })

	do(t, srv, "GET", "/healthz")
	do(t, srv, "GET", "/ok") // Debug: not enabled
	do(t, srv, "GET", "/missing")
	recs := out.records(t)
	if len(recs) != 1 {
		t.Fatalf("records %v, want only the 404", recs)
	}
	if r := recs[0]; r["msg"] != "access" || r["level"] != "WARN" || r["status"] != float64(404) {
		t.Errorf("record %v", r)
	}
	if _, ok := recs[0]["request_id"]; ok {
		t.Errorf("request id logged with RequestIDKey \"-\": %v", recs[0])
	}
}

// TestLoggerGroup: a logger with a group (slog.Logger.WithGroup) gets
// every attribute of the record in the group, those each route adds to
// its handler ahead (method, route) as the rest.
func TestLoggerGroup(t *testing.T) {
	out := &sink{}
	srv := serve(t, func(app *graft.App[graft.Ctx]) {
		app.Register(logging.New(logging.Config{Logger: slog.New(slog.NewJSONHandler(out, nil)).WithGroup("http")}))
	})
	do(t, srv, "GET", "/users/7")
	do(t, srv, "PURGE", "/users/7")
	recs := out.records(t)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2: %v", len(recs), recs)
	}
	for i, want := range []struct {
		method, route string
		status        float64
	}{{"GET", "/users/{id}", 200}, {"PURGE", "", 405}} {
		g, ok := recs[i]["http"].(map[string]any)
		if !ok || len(recs[i]) != 4 { // time, level, msg, http
			t.Fatalf("record %v: want its attributes in the group http", recs[i])
		}
		if g["method"] != want.method || g["route"] != want.route || g["path"] != "/users/7" || g["status"] != want.status {
			t.Errorf("record %v, want %+v", g, want)
		}
	}
}

// TestGroupScope: registered on a group, the log has the group's routes
// only.
func TestGroupScope(t *testing.T) {
	out := &sink{}
	srv := serve(t, func(app *graft.App[graft.Ctx]) {
		api := app.Group("/api")
		api.Register(logging.New(logging.Config{Logger: slog.New(slog.NewJSONHandler(out, nil))}))
		api.GET("/items/{id}", func(c *graft.Ctx) error { return c.Text(200, c.Param("id")) })
	})
	do(t, srv, "GET", "/api/items/3")
	do(t, srv, "GET", "/hello")
	recs := out.records(t)
	if len(recs) != 1 || recs[0]["route"] != "/api/items/{id}" || recs[0]["bytes"] != float64(1) {
		t.Fatalf("records %v, want the group's route only", recs)
	}
	if strings.Contains(recs[0]["path"].(string), "hello") {
		t.Fatal("an app route was logged")
	}
}
