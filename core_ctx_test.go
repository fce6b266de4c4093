package graft

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestCtxRequestAccess(t *testing.T) {
	app, _ := newApp(t, Config{})
	app.GET("/q/{a}/{b...}", func(c *Ctx) error {
		qv := c.QueryValues()
		_, hasSession := c.Cookie("session")
		sess, _ := c.Cookie("session")
		_, hasMissing := c.Cookie("missing")
		return c.JSON(http.StatusOK, map[string]any{
			"a":          c.Param("a"),
			"b":          c.Param("b"),
			"nope":       c.Param("nope"),
			"q":          c.Query("q"),
			"plus":       c.Query("plus"),
			"pct":        c.Query("pct"),
			"k":          c.Query("k"),
			"ks":         qv["k"],
			"enckey":     c.Query("a[b]"),
			"empty":      c.Query("empty"),
			"missing":    c.Query("missing"),
			"header":     c.Header("x-test"),
			"session":    sess,
			"hasSession": hasSession,
			"hasMissing": hasMissing,
			"ctx":        c.Context() == c.Request.Context() && c.Context().Err() == nil,
			"pattern":    c.RoutePattern(),
		})
	})
	srv := serveTest(t, app)
	res := do(t, srv, "GET", "/q/x%20y/p/q%2Fr?q=a+b&plus=1%2B1&pct=100%25&bad=%zz&k=1&k=2&a%5Bb%5D=v&empty=",
		nil, "X-Test", "yes", "Cookie", "session=abc; other=1")
	var got map[string]any
	if err := json.Unmarshal([]byte(res.body), &got); err != nil {
		t.Fatalf("%v: %s", err, res.body)
	}
	want := map[string]any{
		"a": "x y", "b": "p/q/r", "nope": "",
		"q": "a b", "plus": "1+1", "pct": "100%",
		"k": "1", "ks": []any{"1", "2"}, "enckey": "v", "empty": "", "missing": "",
		"header": "yes", "session": "abc", "hasSession": true, "hasMissing": false,
		"ctx": true, "pattern": "/q/{a}/{b...}",
	}
	for k, w := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(w) {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}

func TestCtxResponses(t *testing.T) {
	app, _ := newApp(t, Config{})
	routes := map[string]func(c *Ctx) error{
		"/text": func(c *Ctx) error { return c.Text(http.StatusCreated, "héllo") },
		"/json": func(c *Ctx) error { return c.JSON(http.StatusOK, map[string]int{"a": 1}) },
		"/badjson": func(c *Ctx) error {
			return c.JSON(http.StatusOK, map[string]any{"ch": make(chan int)})
		},
		"/bytes":  func(c *Ctx) error { return c.Bytes(http.StatusAccepted, "image/png", []byte{0x89, 'P', 'N', 'G'}) },
		"/stream": func(c *Ctx) error { return c.Stream(http.StatusOK, "text/csv", strings.NewReader("a,b\n1,2\n")) },
		"/nocontent": func(c *Ctx) error {
			return c.NoContent()
		},
		"/redirect": func(c *Ctx) error { return c.Redirect(http.StatusFound, "/text?x=1") },
		"/badredirect": func(c *Ctx) error {
			return c.Redirect(http.StatusOK, "/text")
		},
		"/status": func(c *Ctx) error {
			c.SetHeader("Content-Type", "text/x-custom")
			c.Status(http.StatusAccepted)
			_, err := c.Response().Write([]byte("raw"))
			return err
		},
		"/cookie": func(c *Ctx) error {
			c.SetCookie(&http.Cookie{Name: "s", Value: "v", HttpOnly: true})
			return c.NoContent()
		},
		"/written": func(c *Ctx) error {
			if c.Written() || c.StatusCode() != 0 {
				return errors.New("fresh Ctx looks written")
			}
			if err := c.Text(http.StatusOK, "12345"); err != nil {
				return err
			}
			if !c.Written() || c.StatusCode() != 200 || c.BytesWritten() != 5 {
				return fmt.Errorf("after Text: written=%v status=%d bytes=%d", c.Written(), c.StatusCode(), c.BytesWritten())
			}
			return nil
		},
	}
	for p, h := range routes {
		app.GET(p, h)
	}
	srv := serveTest(t, app)
	cl := srv.Client()
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cases := []struct {
		path          string
		status        int
		ctype, body   string
		header, value string
	}{
		{"/text", 201, "text/plain; charset=utf-8", "héllo", "Content-Length", "6"},
		{"/json", 200, "application/json", `{"a":1}`, "Content-Length", "7"},
		{"/badjson", 500, "application/problem+json", `{"type":"about:blank","title":"Internal Server Error","status":500,"instance":"/badjson"}`, "", ""},
		{"/bytes", 202, "image/png", "\x89PNG", "Content-Length", "4"},
		{"/stream", 200, "text/csv", "a,b\n1,2\n", "", ""},
		{"/nocontent", 204, "", "", "", ""},
		{"/redirect", 302, "text/html; charset=utf-8", "", "Location", "/text?x=1"},
		{"/badredirect", 500, "application/problem+json", `"status":500`, "", ""},
		{"/status", 202, "text/x-custom", "raw", "", ""},
		{"/cookie", 204, "", "", "Set-Cookie", "s=v; HttpOnly"},
		{"/written", 200, "text/plain; charset=utf-8", "12345", "", ""},
	}
	for _, tc := range cases {
		res := doClient(t, cl, "GET", srv.URL+tc.path, nil)
		if res.status != tc.status || res.header.Get("Content-Type") != tc.ctype || !strings.Contains(res.body, tc.body) || (tc.body == "" && tc.status == 204 && res.body != "") {
			t.Errorf("GET %s = %d %q %q, want %d %q %q", tc.path, res.status, res.header.Get("Content-Type"), res.body, tc.status, tc.ctype, tc.body)
		}
		if tc.header != "" && res.header.Get(tc.header) != tc.value {
			t.Errorf("GET %s: %s = %q, want %q", tc.path, tc.header, res.header.Get(tc.header), tc.value)
		}
	}
}

type person struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

// onlyReader hides the length of a body so the client sends it chunked.
type onlyReader struct{ io.Reader }

func TestBindJSON(t *testing.T) {
	bind := func(c *Ctx) error {
		var p person
		if err := c.BindJSON(&p); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
	app, _ := newApp(t, Config{})
	app.POST("/bind", bind)
	app.POST("/small", bind, WithBodyLimit(64))
	strict, _ := newApp(t, Config{DisallowUnknownFields: true})
	strict.POST("/bind", bind)
	srv, strictSrv := serveTest(t, app), serveTest(t, strict)
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	cases := []struct {
		name   string
		srv    string
		path   string
		ctype  string
		body   io.Reader
		status int
		detail string
	}{
		{"ok", "app", "/bind", "application/json", strings.NewReader(`{"name":"Ada","age":36}`), 200, `{"name":"Ada","age":36}`},
		{"no content type", "app", "/bind", "", strings.NewReader(`{"name":"Ada"}`), 200, `"Ada"`},
		{"json suffix", "app", "/bind", "application/merge-patch+json; charset=utf-8", strings.NewReader(`{"age":1}`), 200, `"age":1`},
		{"unknown field allowed", "app", "/bind", "application/json", strings.NewReader(`{"extra":1}`), 200, `"name":""`},
		{"wrong content type", "app", "/bind", "text/plain", strings.NewReader(`{}`), 415, `Content-Type \"text/plain\" is not JSON`},
		{"bad content type", "app", "/bind", "application/", strings.NewReader(`{}`), 415, "is not JSON"},
		{"malformed", "app", "/bind", "application/json", strings.NewReader(`{"name" 1}`), 400, "malformed JSON at byte"},
		{"truncated JSON", "app", "/bind", "application/json", strings.NewReader(`{"name":`), 400, "truncated"},
		{"empty", "app", "/bind", "application/json", strings.NewReader(``), 400, "empty"},
		{"two values", "app", "/bind", "application/json", strings.NewReader(`{} {}`), 400, "data after the JSON value"},
		{"wrong type", "app", "/bind", "application/json", strings.NewReader(`{"age":"x"}`), 400, "body.age: expected int"},
		{"unknown field", "strict", "/bind", "application/json", strings.NewReader(`{"name":"a","extra":1}`), 400, `unknown field \"extra\" is not allowed`},
		{"over default limit", "app", "/bind", "application/json", strings.NewReader(big), 413, "exceeds the limit of 1048576 bytes"},
		{"over default limit chunked", "app", "/bind", "application/json", onlyReader{strings.NewReader(big)}, 413, "exceeds the limit of 1048576 bytes"},
		{"over route limit", "app", "/small", "application/json", strings.NewReader(`{"name":"` + strings.Repeat("y", 100) + `"}`), 413, "limit of 64 bytes"},
		{"over route limit chunked", "app", "/small", "application/json", onlyReader{strings.NewReader(`{"name":"` + strings.Repeat("y", 100) + `"}`)}, 413, "limit of 64 bytes"},
		{"under route limit chunked", "app", "/small", "application/json", onlyReader{strings.NewReader(`{"name":"y"}`)}, 200, `"y"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := srv
			if tc.srv == "strict" {
				s = strictSrv
			}
			hdr := []string{}
			if tc.ctype != "" {
				hdr = append(hdr, "Content-Type", tc.ctype)
			}
			res := do(t, s, "POST", tc.path, tc.body, hdr...)
			if res.status != tc.status || !strings.Contains(res.body, tc.detail) {
				t.Errorf("= %d %.200s, want %d containing %s", res.status, res.body, tc.status, tc.detail)
			}
		})
	}
}

// TestBindJSONTruncatedBody sends less than the declared Content-Length and
// closes its side: the handler's read fails and the answer is 400.
func TestBindJSONTruncatedBody(t *testing.T) {
	app, _ := newApp(t, Config{})
	got := make(chan error, 1)
	app.POST("/bind", func(c *Ctx) error {
		var p person
		err := c.BindJSON(&p)
		got <- err
		return err
	})
	srv := serveTest(t, app)
	conn, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "POST /bind HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":\"Ada\"")
	_ = conn.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(conn)
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 400 ")) || !bytes.Contains(b, []byte("reading the request body failed")) {
		t.Errorf("answer %q, want 400 naming the failed read", b)
	}
	select {
	case err := <-got:
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != 400 {
			t.Errorf("BindJSON error %v, want a 400 HTTPError", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not run")
	}
}

func TestQueryHelpers(t *testing.T) {
	cases := []struct {
		raw, key, want string
		ok             bool
	}{
		{"a=1&b=2", "b", "2", true},
		{"a=1&a=2", "a", "1", true},
		{"a", "a", "", true},
		{"x=a+b", "x", "a b", true},
		{"x%20y=1", "x y", "1", true},
		{"x=%zz", "x", "", false},
		{"x=%zz&x=ok", "x", "ok", true},
		{"", "a", "", false},
		{"ab=1", "a", "", false},
		{"&&a=3", "a", "3", true},
	}
	for _, tc := range cases {
		got, ok := lookupQuery(tc.raw, tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("lookupQuery(%q, %q) = %q, %v; want %q, %v", tc.raw, tc.key, got, ok, tc.want, tc.ok)
		}
		if want := (url.Values{}); tc.ok {
			want, _ = url.ParseQuery(tc.raw)
			if want.Get(tc.key) != got {
				t.Errorf("lookupQuery(%q, %q) = %q, url.ParseQuery says %q", tc.raw, tc.key, got, want.Get(tc.key))
			}
		}
	}
}
