package requestid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/requestid"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type orderIn struct {
	RequestID requestid.ID `plugin:""`
	N         int          `query:"n"`
}

type orderOut struct {
	Body struct {
		Field   string `json:"field"`
		Context string `json:"context"`
	}
}

// syncBuf is a log sink safe for the server's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func serve(t *testing.T, cfg requestid.Config, logs io.Writer) *httptest.Server {
	t.Helper()
	gcfg := graft.Config{RequestPoolMaxItems: 1, Logger: slog.New(slog.DiscardHandler)}
	if logs != nil {
		gcfg.Logger = slog.New(requestid.Handler(slog.NewJSONHandler(logs, nil), "request_id"))
	}
	app := graft.New(gcfg)
	rid := requestid.New(cfg)
	app.Register(rid)
	app.UsePlugins(rid)
	app.GET("/plain", func(c *graft.Ctx) error {
		c.Logger().InfoContext(c.Context(), "plain via context")
		requestid.Logger(c).Info("plain via Logger")
		return c.Text(200, requestid.Get(c)+" "+requestid.FromContext(c.Context()))
	})
	graft.Get(app, "/orders", func(ctx context.Context, in *orderIn) (*orderOut, error) {
		out := &orderOut{}
		out.Body.Field, out.Body.Context = string(in.RequestID), requestid.FromContext(ctx)
		return out, nil
	})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string, ids ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		req.Header.Add("X-Request-Id", id)
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
	return res, string(b)
}

var fresh = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestHonoursValidIncoming(t *testing.T) {
	srv := serve(t, requestid.Config{}, nil)
	for _, id := range []string{"abc-123", "req_9.x:y+z/w=", strings.Repeat("a", 128)} {
		res, body := get(t, srv, "/plain", id)
		if got := res.Header.Get("X-Request-Id"); got != id || body != id+" "+id {
			t.Errorf("incoming %q: header %q, body %q", id, got, body)
		}
	}
}

func TestReplacesInvalidIncoming(t *testing.T) {
	srv := serve(t, requestid.Config{}, nil)
	for name, ids := range map[string][]string{
		"none":       nil,
		"too long":   {strings.Repeat("a", 129)},
		"space":      {"a b"},
		"quote":      {`a"b`},
		"newline":    {"a\u2028b"},
		"non-ascii":  {"idé"},
		"semicolon":  {"a;b"},
		"two values": {"a", "b"},
	} {
		res, body := get(t, srv, "/plain", ids...)
		got := res.Header.Get("X-Request-Id")
		if !fresh.MatchString(got) || body != got+" "+got {
			t.Errorf("%s: header %q, body %q; want a fresh id in both", name, got, body)
		}
	}
}

func TestIgnoreIncoming(t *testing.T) {
	srv := serve(t, requestid.Config{IgnoreIncoming: true, Header: "X-Correlation-Id"}, nil)
	req, _ := http.NewRequest("GET", srv.URL+"/plain", nil)
	req.Header.Set("X-Correlation-Id", "from-client")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Correlation-Id"); !fresh.MatchString(got) {
		t.Errorf("X-Correlation-Id %q, want a fresh id", got)
	}
}

// The typed endpoint's plugin field, its context and the response header
// carry one id; each request on the (single) pooled context gets its own.
func TestTypedEndpoint(t *testing.T) {
	srv := serve(t, requestid.Config{}, nil)
	seen := map[string]bool{}
	for range 50 {
		res, body := get(t, srv, "/orders?n=1")
		var out struct{ Field, Context string }
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(body, err)
		}
		id := res.Header.Get("X-Request-Id")
		if !fresh.MatchString(id) || out.Field != id || out.Context != id {
			t.Fatalf("header %q, field %q, context %q", id, out.Field, out.Context)
		}
		if seen[id] {
			t.Fatalf("id %s given twice", id)
		}
		seen[id] = true
	}
	res, body := get(t, srv, "/orders", "given-1")
	if res.Header.Get("X-Request-Id") != "given-1" || !strings.Contains(body, `"field":"given-1"`) {
		t.Errorf("incoming id on a typed endpoint: %s %s", res.Header.Get("X-Request-Id"), body)
	}
}

func TestErrorAnswersHaveAnID(t *testing.T) {
	srv := serve(t, requestid.Config{}, nil)
	for _, tc := range []struct {
		method, path string
		status       int
	}{{"GET", "/nowhere", 404}, {"POST", "/plain", 405}, {"GET", "/orders?n=x", 422}} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		req.Header.Set("X-Request-Id", "err-1")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status || res.Header.Get("X-Request-Id") != "err-1" {
			t.Errorf("%s %s: %d, X-Request-Id %q", tc.method, tc.path, res.StatusCode, res.Header.Get("X-Request-Id"))
		}
	}
}

func TestLogs(t *testing.T) {
	logs := &syncBuf{}
	srv := serve(t, requestid.Config{}, logs)
	get(t, srv, "/plain", "log-42")
	n := 0
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if strings.HasPrefix(rec["msg"].(string), "plain via") {
			n++
			if rec["request_id"] != "log-42" {
				t.Errorf("record %v has no request_id log-42", rec)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d handler records, want 2:\n%s", n, logs.String())
	}
}

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{"a": true, "": false, "A-z_0.9:+/": true, "a b": false, "a\x00": false, "ü": false} {
		if got := requestid.Valid(s, 10); got != want {
			t.Errorf("Valid(%q) = %v", s, got)
		}
	}
	if requestid.Valid("abcdefghijk", 10) {
		t.Error("an 11-character id is valid with max 10")
	}
}

func TestSetupMistakes(t *testing.T) {
	t.Run("plugin without the extension", func(t *testing.T) {
		app := graft.New(graft.Config{})
		app.UsePlugins(requestid.New(requestid.Config{}))
		graft.Get(app, "/orders", func(_ context.Context, in *orderIn) (*orderOut, error) { return &orderOut{}, nil })
		err := app.Start(context.Background())
		if err == nil {
			app.Stop(context.Background())
			t.Fatal("started")
		}
		if msg := err.Error(); !strings.Contains(msg, "GET /orders") || !strings.Contains(msg, "app.Register(rid)") {
			t.Errorf("error %q", msg)
		}
	})
	t.Run("on a group", func(t *testing.T) {
		app := graft.New(graft.Config{})
		g := app.Group("/api")
		g.Register(requestid.New(requestid.Config{}))
		g.GET("/x", func(c *graft.Ctx) error { return nil })
		err := app.Start(context.Background())
		if err == nil {
			app.Stop(context.Background())
			t.Fatal("started")
		}
		if msg := err.Error(); !strings.Contains(msg, "requestid") || !strings.Contains(msg, "register requestid on the app") {
			t.Errorf("error %q", msg)
		}
	})
}
