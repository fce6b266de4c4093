package graft_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/graftgo/graft"
)

type envOut struct {
	Body struct {
		N int `json:"n"`
	}
}

type envConflict struct {
	Current int `json:"current"`
}

type envIn struct {
	Mode string `query:"mode"`
}

// envelope is a child extension wrapping the scope's JSON encoder: every
// JSON document becomes {"data": …}.
func envelope(rec *recorder) *recExt {
	e := rec.ext("t.envelope")
	e.extend = func(b *graft.Builder) error {
		return b.WrapEncoder("application/json", func(inner graft.EncodeFunc) graft.EncodeFunc {
			return func(v any) ([]byte, error) { return inner(map[string]any{"data": v}) }
		})
	}
	return e
}

// envRoutes registers, under r, a Render route, a c.JSON route, a typed
// endpoint answering its output, a declared outcome or an HTTPError, and a
// plain route returning an HTTPError.
type envRouter interface {
	graft.Router
	GET(pattern string, h func(*graft.Ctx) error, opts ...graft.Option)
}

func envRoutes(r envRouter) {
	r.GET("/render", func(c *graft.Ctx) error { return c.Render(200, map[string]int{"n": 1}) })
	r.GET("/json", func(c *graft.Ctx) error { return c.JSON(200, map[string]int{"n": 1}) })
	r.GET("/fail", func(c *graft.Ctx) error { return graft.NewError(http.StatusForbidden, "no") })
	graft.Get(r, "/typed", func(_ context.Context, in *envIn) (*envOut, error) {
		switch in.Mode {
		case "conflict":
			return nil, graft.Respond(http.StatusConflict, envConflict{Current: 3})
		case "error":
			return nil, graft.NewError(http.StatusForbidden, "no")
		}
		out := &envOut{}
		out.Body.N = 1
		return out, nil
	}, graft.Responds[envConflict](http.StatusConflict, "changed"))
}

// TestScopeJSONEncoderReachesEveryAnswer: a wrapping JSON encoder in a
// group's scope wraps Render, c.JSON, typed outputs, declared outcomes and
// problem answers (keeping application/problem+json) of the group, and
// nothing outside it, 404 and 405 under its prefix included; one on the
// app wraps every 404 and 405.
func TestScopeJSONEncoderReachesEveryAnswer(t *testing.T) {
	var rec recorder
	app := graft.New(graft.Config{})
	v1 := app.Group("/v1")
	v1.Register(envelope(&rec))
	envRoutes(v1)
	envRoutes(app)
	srv := httptest.NewServer(app)
	defer srv.Close()

	cases := []struct {
		path   string
		status int
		ctype  string
		inner  string // the document inside the envelope (and outside the scope)
	}{
		{"/render", 200, "application/json", `{"n":1}`},
		{"/json", 200, "application/json", `{"n":1}`},
		{"/typed", 200, "application/json", `{"n":1}`},
		{"/typed?mode=conflict", 409, "application/json", `{"current":3}`},
		{"/typed?mode=error", 403, "application/problem+json", `"status":403`},
		{"/fail", 403, "application/problem+json", `"status":403`},
	}
	for _, tc := range cases {
		for _, scoped := range []bool{true, false} {
			path := tc.path
			if scoped {
				path = "/v1" + path
			}
			st, h, body := get(t, srv, "GET", path, nil)
			body = strings.TrimSpace(body)
			if st != tc.status || h.Get("Content-Type") != tc.ctype {
				t.Errorf("%s: %d %q, want %d %q (%s)", path, st, h.Get("Content-Type"), tc.status, tc.ctype, body)
				continue
			}
			wrapped := strings.HasPrefix(body, `{"data":`)
			if wrapped != scoped || !strings.Contains(body, tc.inner) {
				t.Errorf("%s: body %s, wrapped %v, want wrapped %v around %s", path, body, wrapped, scoped, tc.inner)
			}
			if !json.Valid([]byte(body)) {
				t.Errorf("%s: not JSON: %s", path, body)
			}
		}
	}

	// A 404 or 405 under the group's prefix is the group's; one beside it
	// (a longer first segment) is not.
	for _, tc := range []struct {
		method, path string
		status       int
		wrapped      bool
	}{{"GET", "/v1/nope", 404, true}, {"GET", "/v1", 404, true}, {"POST", "/v1/json", 405, true}, {"GET", "/v1x/nope", 404, false}, {"POST", "/json", 405, false}} {
		st, h, body := get(t, srv, tc.method, tc.path, nil)
		if st != tc.status || h.Get("Content-Type") != "application/problem+json" || strings.HasPrefix(body, `{"data":{`) != tc.wrapped {
			t.Errorf("%s %s: %d %q %s, want %d, wrapped %v", tc.method, tc.path, st, h.Get("Content-Type"), body, tc.status, tc.wrapped)
		}
	}

	// A wrapping encoder on the app reaches its 404 and 405 answers.
	app2 := graft.New(graft.Config{})
	app2.Register(envelope(&rec))
	envRoutes(app2)
	srv2 := httptest.NewServer(app2)
	defer srv2.Close()
	for _, tc := range []struct {
		method, path string
		status       int
	}{{"GET", "/nope", 404}, {"POST", "/json", 405}} {
		st, h, body := get(t, srv2, tc.method, tc.path, nil)
		if st != tc.status || h.Get("Content-Type") != "application/problem+json" || !strings.HasPrefix(body, `{"data":{`) {
			t.Errorf("%s %s: %d %q %s, want a wrapped %d problem", tc.method, tc.path, st, h.Get("Content-Type"), body, tc.status)
		}
	}
	if st, _, body := get(t, srv, "GET", "/nope", nil); st != 404 || strings.Contains(body, `"data"`) {
		t.Errorf("404 of an app without the encoder: %d %s", st, body)
	}
}

// TestRequestEncoderSeesRequest: a request-aware JSON encoder pretty-prints
// on ?pretty, for c.JSON, typed outputs and problems alike; a plain wrapper
// over it still sees the request through its inner encoder.
func TestRequestEncoderSeesRequest(t *testing.T) {
	var rec recorder
	pretty := rec.ext("t.pretty")
	pretty.extend = func(b *graft.Builder) error {
		return b.WrapRequestEncoder("application/json", func(inner graft.RequestEncodeFunc) graft.RequestEncodeFunc {
			return func(c *graft.Ctx, v any) ([]byte, error) {
				out, err := inner(c, v)
				if err != nil || !c.Request.URL.Query().Has("pretty") {
					return out, err
				}
				var buf bytes.Buffer
				if err := json.Indent(&buf, out, "", "  "); err != nil {
					return nil, err
				}
				return buf.Bytes(), nil
			}
		})
	}
	app := graft.New(graft.Config{})
	app.Register(pretty)
	envRoutes(app)
	v1 := app.Group("/v1")
	v1.Register(envelope(&rec))
	envRoutes(v1)
	srv := httptest.NewServer(app)
	defer srv.Close()
	for _, path := range []string{"/json", "/typed", "/render", "/fail"} {
		_, _, body := get(t, srv, "GET", path+"?pretty", nil)
		if !strings.Contains(body, "\n  \"") {
			t.Errorf("%s?pretty: not indented: %q", path, body)
		}
		_, _, body = get(t, srv, "GET", path, nil)
		if strings.Contains(body, "\n  ") {
			t.Errorf("%s: indented without ?pretty: %q", path, body)
		}
	}
	_, _, body := get(t, srv, "GET", "/v1/json?pretty", nil)
	if body != "{\n  \"data\": {\n    \"n\": 1\n  }\n}" {
		t.Errorf("wrapped over a request encoder: %q", body)
	}
	_, _, body = get(t, srv, "GET", "/nope?pretty", nil)
	if !strings.Contains(body, "\n  \"status\": 404") {
		t.Errorf("404 not through the request encoder: %q", body)
	}
}
