package graft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestErrorAnswers(t *testing.T) {
	app, logs := newApp(t, Config{})
	app.GET("/problem", func(c *Ctx) error {
		return &HTTPError{
			Status: http.StatusUnprocessableEntity,
			Type:   "https://graft.dev/problems/validation",
			Title:  "Invalid input",
			Detail: "age must be positive",
			Errors: []FieldError{{Location: "body.age", Message: "must be > 0", Value: -1}},
			Header: http.Header{"X-Problem": {"1"}},
		}
	})
	app.GET("/wrapped/{id}", func(c *Ctx) error {
		return fmt.Errorf("loading %s: %w", c.Param("id"), NewError(http.StatusNotFound, "no such user"))
	})
	app.GET("/errorf", func(c *Ctx) error { return Errorf(http.StatusConflict, "version %d is stale", 3) })
	app.GET("/plain/{id}", func(c *Ctx) error { return errors.New("db password is hunter2") })
	app.GET("/nostatus", func(c *Ctx) error { return &HTTPError{Detail: "forgot the status"} })
	app.GET("/late", func(c *Ctx) error {
		_ = c.Text(http.StatusOK, "partial")
		return errors.New("failed after writing")
	})
	app.GET("/maxbytes", func(c *Ctx) error { return &http.MaxBytesError{Limit: 10} })
	srv := serveTest(t, app)
	cases := []struct {
		path   string
		status int
		want   Problem
		hdr    string
	}{
		{"/problem", 422, Problem{Type: "https://graft.dev/problems/validation", Title: "Invalid input", Status: 422, Detail: "age must be positive", Instance: "/problem",
			Errors: []FieldError{{Location: "body.age", Message: "must be > 0", Value: float64(-1)}}}, "1"},
		{"/wrapped/7", 404, Problem{Type: "about:blank", Title: "Not Found", Status: 404, Detail: "no such user", Instance: "/wrapped/7"}, ""},
		{"/errorf", 409, Problem{Type: "about:blank", Title: "Conflict", Status: 409, Detail: "version 3 is stale", Instance: "/errorf"}, ""},
		{"/plain/9", 500, Problem{Type: "about:blank", Title: "Internal Server Error", Status: 500, Instance: "/plain/9"}, ""},
		{"/nostatus", 500, Problem{Type: "about:blank", Title: "Internal Server Error", Status: 500, Detail: "forgot the status", Instance: "/nostatus"}, ""},
		{"/maxbytes", 413, Problem{Type: "about:blank", Title: "Request Entity Too Large", Status: 413, Detail: "request body exceeds the limit of 10 bytes", Instance: "/maxbytes"}, ""},
	}
	for _, tc := range cases {
		res := do(t, srv, "GET", tc.path, nil)
		var got Problem
		if err := json.Unmarshal([]byte(res.body), &got); err != nil {
			t.Fatalf("GET %s: %v in %q", tc.path, err, res.body)
		}
		if res.status != tc.status || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("GET %s = %d %+v, want %d %+v", tc.path, res.status, got, tc.status, tc.want)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("GET %s: Content-Type %q", tc.path, ct)
		}
		if res.header.Get("X-Problem") != tc.hdr {
			t.Errorf("GET %s: X-Problem %q, want %q", tc.path, res.header.Get("X-Problem"), tc.hdr)
		}
	}
	// A plain error is logged with its route and message, never sent.
	res := do(t, srv, "GET", "/plain/9", nil)
	if strings.Contains(res.body, "hunter2") {
		t.Errorf("internal error leaked to the client: %s", res.body)
	}
	if l := logs.String(); !containsAll(l, "level=ERROR", "route=/plain/{id}", "path=/plain/9", "status=500", "hunter2") {
		t.Errorf("log lacks the route or the error:\n%s", l)
	}
	// 4xx are the client's business and are not logged as errors.
	if strings.Contains(logs.String(), "route=/errorf") {
		t.Errorf("a 409 was logged:\n%s", logs.String())
	}
	// An error after the response started cannot change it; it is logged.
	res = do(t, srv, "GET", "/late", nil)
	if res.status != 200 || res.body != "partial" || !strings.Contains(logs.String(), "failed after writing") {
		t.Errorf("GET /late = %d %q; log:\n%s", res.status, res.body, logs.String())
	}
}

func TestHTTPErrorString(t *testing.T) {
	cases := []struct {
		err  *HTTPError
		want string
	}{
		{NewError(404, "no user"), "404 Not Found: no user"},
		{&HTTPError{Status: 500, Err: errors.New("boom")}, "500 Internal Server Error: boom"},
		{&HTTPError{Status: 499, Title: "Client Closed"}, "499 Client Closed"},
		{&HTTPError{Status: 599}, "599 Error"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	cause := errors.New("cause")
	if !errors.Is(&HTTPError{Status: 500, Err: cause}, cause) {
		t.Error("HTTPError does not unwrap to its cause")
	}
}

func TestCustomErrorHandler(t *testing.T) {
	var handled []string
	app, _ := newApp(t, Config{ErrorHandler: func(c *Ctx, err error) {
		handled = append(handled, err.Error())
		he := AsHTTPError(err)
		_ = c.Text(he.Status, "custom: "+http.StatusText(he.Status))
	}})
	app.GET("/fail", func(c *Ctx) error { return NewError(http.StatusForbidden, "no") })
	app.GET("/panic", func(c *Ctx) error { panic("kaboom") })
	srv := serveTest(t, app)
	cases := []struct {
		path   string
		status int
		body   string
	}{
		{"/fail", 403, "custom: Forbidden"},
		{"/missing", 404, "custom: Not Found"},
		{"/panic", 500, "custom: Internal Server Error"},
	}
	for _, tc := range cases {
		res := do(t, srv, "GET", tc.path, nil)
		if res.status != tc.status || res.body != tc.body || res.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, res.status, res.body, tc.status, tc.body)
		}
	}
	if len(handled) != 3 || !strings.Contains(handled[2], "panic: kaboom") {
		t.Errorf("error handler saw %q", handled)
	}
}

func TestPanicRecovery(t *testing.T) {
	app, logs := newApp(t, Config{})
	app.GET("/panic/{id}", func(c *Ctx) error { panic(fmt.Sprintf("bad id %s", c.Param("id"))) })
	app.GET("/panic-error", func(c *Ctx) error { panic(errors.New("an error value")) })
	app.GET("/panic-after-write", func(c *Ctx) error {
		_, _ = c.Response().Write([]byte("partial"))
		c.Response().(http.Flusher).Flush()
		panic("too late")
	})
	app.GET("/abort", func(c *Ctx) error { panic(http.ErrAbortHandler) })
	app.GET("/ok", text("still serving"))
	srv := serveTest(t, app)
	for range 3 {
		res := do(t, srv, "GET", "/panic/7", nil)
		if res.status != 500 || !strings.Contains(res.body, `"status":500`) || strings.Contains(res.body, "bad id") {
			t.Errorf("GET /panic/7 = %d %q", res.status, res.body)
		}
		if res := do(t, srv, "GET", "/ok", nil); res.status != 200 || res.body != "still serving" {
			t.Errorf("after a panic: GET /ok = %d %q", res.status, res.body)
		}
	}
	l := logs.String()
	if !containsAll(l, "panic in handler", "route=/panic/{id}", `panic="bad id 7"`, "goroutine", "core_errors_test.go") {
		t.Errorf("panic log lacks route, value or stack:\n%.2000s", l)
	}
	if res := do(t, srv, "GET", "/panic-error", nil); res.status != 500 {
		t.Errorf("GET /panic-error = %d", res.status)
	}
	// A panic after the answer started aborts the connection: the client
	// sees the chunked body end without its last chunk, not a complete
	// answer; the panic is logged once, by graft.
	before := strings.Count(logs.String(), "panic in handler")
	if res, err := srv.Client().Get(srv.URL + "/panic-after-write"); err == nil {
		body, rerr := io.ReadAll(res.Body)
		res.Body.Close()
		if rerr == nil {
			t.Errorf("GET /panic-after-write = %d %q read completely; want the answer to fail", res.StatusCode, body)
		}
	}
	if n := strings.Count(logs.String(), "panic in handler") - before; n != 1 {
		t.Errorf("a panic after a write was logged %d times, want 1", n)
	}
	// http.ErrAbortHandler is net/http's way to abort a response: it passes
	// through (the client sees the connection drop) and is not logged.
	before = strings.Count(logs.String(), "panic in handler")
	req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/abort", nil)
	if res, err := srv.Client().Do(req); err == nil {
		res.Body.Close()
		t.Errorf("GET /abort answered %d; want the connection aborted", res.StatusCode)
	}
	if n := strings.Count(logs.String(), "panic in handler"); n != before {
		t.Errorf("ErrAbortHandler was logged as a panic")
	}
	if res := do(t, srv, "GET", "/ok", nil); res.status != 200 {
		t.Errorf("after an abort: GET /ok = %d", res.status)
	}
}
