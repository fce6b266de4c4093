package graft

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// echoRoute answers "PATTERN name=value ..." so a test sees which route
// served a request and what its wildcards captured.
func echoRoute(c *Ctx) error {
	var b strings.Builder
	b.WriteString(c.RoutePattern())
	for _, n := range c.route.paramNames {
		b.WriteString(" " + n + "=" + c.Param(n))
	}
	return c.Text(http.StatusOK, b.String())
}

func TestRouterMatch(t *testing.T) {
	app, _ := newApp(t, Config{})
	for _, p := range []string{
		"/",
		"/users",
		"/users/new",
		"/users/{id}",
		"/users/{id}/posts",
		"/users/{id}/posts/{post}",
		"/files/{p...}",
		"/a/{x}",
		"/a/{y}/b",
		"/b/{x}/c",
		"/b/{rest...}",
		"/repos/{owner}/{repo}/issues/{number}",
		"/café/{v}",
		"/long/{v}",
	} {
		app.GET(p, echoRoute)
	}
	srv := serveTest(t, app)
	long := strings.Repeat("x", 32<<10)
	cases := []struct {
		path, want string
	}{
		{"/", "/"},
		{"/users", "/users"},
		{"/users/new", "/users/new"},
		{"/users/newbie", "/users/{id} id=newbie"},
		{"/users/ne", "/users/{id} id=ne"},
		{"/users/42", "/users/{id} id=42"},
		{"/users/new/posts", "/users/{id}/posts id=new"}, // static fails deeper, backtracks to {id}
		{"/users/42/posts", "/users/{id}/posts id=42"},
		{"/users/42/posts/7", "/users/{id}/posts/{post} id=42 post=7"},
		{"/files/", "/files/{p...} p="},
		{"/files/a", "/files/{p...} p=a"},
		{"/files/a/b/c.txt", "/files/{p...} p=a/b/c.txt"},
		{"/a/1", "/a/{x} x=1"},
		{"/a/1/b", "/a/{y}/b y=1"},
		{"/b/1/c", "/b/{x}/c x=1"},
		{"/b/1/d", "/b/{rest...} rest=1/d"}, // param branch fails, catch-all takes over
		{"/b/1/c/d", "/b/{rest...} rest=1/c/d"},
		{"/repos/graftgo/graft/issues/3", "/repos/{owner}/{repo}/issues/{number} owner=graftgo repo=graft number=3"},
		// %2F stays inside its segment and is decoded in the value.
		{"/users/a%2Fb", "/users/{id} id=a/b"},
		{"/users/a%2fb/posts", "/users/{id}/posts id=a/b"},
		{"/users/100%25", "/users/{id} id=100%"},
		{"/users/a%2F%25", "/users/{id} id=a/%"},
		{"/users/a%20b", "/users/{id} id=a b"},
		{"/files/a%2Fb/c", "/files/{p...} p=a/b/c"},
		{"/caf%C3%A9/x", "/café/{v} v=x"},
		{"/caf%C3%A9/x%2Fy", "/café/{v} v=x/y"},
		{"/long/" + long, "/long/{v} v=" + long},
	}
	for _, tc := range cases {
		res := do(t, srv, "GET", tc.path, nil)
		if res.status != 200 || res.body != tc.want {
			t.Errorf("GET %.80s = %d %.120q, want 200 %.120q", tc.path, res.status, res.body, tc.want)
		}
	}
	for _, p := range []string{"/files", "/users/", "/a/1/c", "/a/", "/nope", "/users/42/posts/7/x", "/users/a%2Fb/c", "//", "/users//posts"} {
		if res := do(t, srv, "GET", p, nil); res.status != 404 {
			t.Errorf("GET %s = %d %q, want 404", p, res.status, res.body)
		}
	}
}

func TestRouterMethods(t *testing.T) {
	app, _ := newApp(t, Config{})
	answer := func(c *Ctx) error {
		c.SetHeader("X-Route", c.RoutePattern())
		return c.Text(http.StatusOK, c.Request.Method+" "+c.RoutePattern())
	}
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"} {
		app.Handle(m, "/m", answer)
	}
	app.GET("/g", answer)
	app.Any("/any", answer)
	app.GET("/mixed", answer)
	app.Any("/mixed", answer)
	app.HEAD("/h", answer)
	app.GET("/users/new", answer)
	app.DELETE("/users/{id}", answer)
	app.POST("/users/{id}/x", answer)
	app.PUT("/users/{id}/{y}", answer)
	app.HandleHTTP("PATCH", "/std", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("std " + r.Method))
	}))
	srv := serveTest(t, app)
	cases := []struct {
		method, path string
		status       int
		body         string
		allow        string
	}{
		{"GET", "/m", 200, "GET /m", ""},
		{"POST", "/m", 200, "POST /m", ""},
		{"PUT", "/m", 200, "PUT /m", ""},
		{"PATCH", "/m", 200, "PATCH /m", ""},
		{"DELETE", "/m", 200, "DELETE /m", ""},
		{"OPTIONS", "/m", 200, "OPTIONS /m", ""},
		{"TRACE", "/m", 200, "TRACE /m", ""},
		{"HEAD", "/m", 200, "", ""},
		{"PURGE", "/m", 405, `"status":405`, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE"},
		{"GET", "/g", 200, "GET /g", ""},
		{"HEAD", "/g", 200, "", ""},
		{"POST", "/g", 405, `"status":405`, "GET, HEAD"},
		{"DELETE", "/g", 405, `"status":405`, "GET, HEAD"},
		{"GET", "/any", 200, "GET /any", ""},
		{"DELETE", "/any", 200, "DELETE /any", ""},
		{"PURGE", "/any", 200, "PURGE /any", ""},
		{"GET", "/mixed", 200, "GET /mixed", ""},
		{"POST", "/mixed", 200, "POST /mixed", ""},
		{"HEAD", "/h", 200, "", ""},
		{"GET", "/h", 405, `"status":405`, "HEAD"},
		// A static leaf without the method gives way to a wildcard route
		// with it, as Go's ServeMux does.
		{"DELETE", "/users/new", 200, "DELETE /users/{id}", ""},
		{"GET", "/users/new", 200, "GET /users/new", ""},
		{"DELETE", "/users/7", 200, "DELETE /users/{id}", ""},
		{"GET", "/users/7", 405, `"status":405`, "DELETE"},
		{"PUT", "/users/new", 405, `"status":405`, "GET, HEAD, DELETE"},
		{"PUT", "/users/7/x", 200, "PUT /users/{id}/{y}", ""},
		{"POST", "/users/7/x", 200, "POST /users/{id}/x", ""},
		{"GET", "/users/7/x", 405, `"status":405`, "POST, PUT"},
		{"PATCH", "/std", 200, "std PATCH", ""},
		{"GET", "/std", 405, `"status":405`, "PATCH"},
	}
	for _, tc := range cases {
		res := do(t, srv, tc.method, tc.path, nil)
		if res.status != tc.status || !strings.Contains(res.body, tc.body) || (tc.body == "" && res.body != "") {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, res.status, res.body, tc.status, tc.body)
		}
		if got := res.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if tc.status == 405 && res.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: Content-Type = %q", tc.method, tc.path, res.header.Get("Content-Type"))
		}
	}
	// HEAD keeps the GET route's headers and sends no body.
	res := do(t, srv, "HEAD", "/g", nil)
	if res.header.Get("X-Route") != "/g" || res.header.Get("Content-Length") != "7" || res.body != "" {
		t.Errorf("HEAD /g: headers %v body %q", res.header, res.body)
	}
}

func TestRouterProblems(t *testing.T) {
	app, _ := newApp(t, Config{})
	app.GET("/only-get", text("x"))
	srv := serveTest(t, app)
	cases := []struct {
		method, path string
		want         Problem
	}{
		{"GET", "/missing", Problem{Type: "about:blank", Title: "Not Found", Status: 404, Detail: errNotFound.Detail, Instance: "/missing"}},
		{"POST", "/only-get", Problem{Type: "about:blank", Title: "Method Not Allowed", Status: 405, Detail: errMethod.Detail, Instance: "/only-get"}},
	}
	for _, tc := range cases {
		res := do(t, srv, tc.method, tc.path, nil)
		var got Problem
		if err := json.Unmarshal([]byte(res.body), &got); err != nil {
			t.Fatalf("%s %s: %v in %q", tc.method, tc.path, err, res.body)
		}
		if res.status != tc.want.Status || got.Type != tc.want.Type || got.Title != tc.want.Title || got.Status != tc.want.Status || got.Detail != tc.want.Detail || got.Instance != tc.want.Instance {
			t.Errorf("%s %s = %d %+v, want %+v", tc.method, tc.path, res.status, got, tc.want)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, ct)
		}
	}
}

func TestRouterSetupPanics(t *testing.T) {
	cases := []struct {
		name  string
		setup func(a *App[Ctx])
		want  []string
	}{
		{"duplicate", func(a *App[Ctx]) {
			a.GET("/x", text(""))
			a.GET("/x", text(""))
		}, []string{"graft: route GET /x is registered twice"}},
		{"conflicting params", func(a *App[Ctx]) {
			a.GET("/a/{x}", text(""))
			a.GET("/a/{y}", text(""))
		}, []string{"GET /a/{y}", "conflicts with GET /a/{x}"}},
		{"conflicting catch-alls", func(a *App[Ctx]) {
			a.Any("/f/{a...}", text(""))
			a.Any("/f/{b...}", text(""))
		}, []string{"ANY /f/{b...}", "ANY /f/{a...}"}},
		{"conflict through a group", func(a *App[Ctx]) {
			a.POST("/api/u/{uid}", text(""))
			a.Group("/api").POST("/u/{id}", text(""))
		}, []string{"/api/u/{id}", "/api/u/{uid}"}},
		{"mount over a route", func(a *App[Ctx]) {
			a.Any("/static/{p...}", text(""))
			a.Mount("/static", http.NotFoundHandler())
		}, []string{"/static/{mount...}", "/static/{p...}"}},
		{"no leading slash", func(a *App[Ctx]) { a.GET("x", text("")) }, []string{`"x" must begin with '/'`}},
		{"empty", func(a *App[Ctx]) { a.GET("", text("")) }, []string{"must begin with '/'"}},
		{"unclosed", func(a *App[Ctx]) { a.GET("/a/{id", text("")) }, []string{`"/a/{id"`, "unclosed '{'"}},
		{"unmatched close", func(a *App[Ctx]) { a.GET("/a/id}", text("")) }, []string{"unmatched '}'"}},
		{"wildcard after text", func(a *App[Ctx]) { a.GET("/a/x{id}", text("")) }, []string{"whole path segment"}},
		{"wildcard before text", func(a *App[Ctx]) { a.GET("/a/{id}x", text("")) }, []string{"whole path segment"}},
		{"catch-all not last", func(a *App[Ctx]) { a.GET("/a/{p...}/b", text("")) }, []string{"{p...} must be the last segment"}},
		{"duplicate names", func(a *App[Ctx]) { a.GET("/a/{id}/{id}", text("")) }, []string{`"id" is used twice`}},
		{"empty name", func(a *App[Ctx]) { a.GET("/a/{}", text("")) }, []string{"not a Go identifier"}},
		{"bad name", func(a *App[Ctx]) { a.GET("/a/{x-y}", text("")) }, []string{`"x-y" is not a Go identifier`}},
		{"unknown method", func(a *App[Ctx]) { a.Handle("FETCH", "/a", text("")) }, []string{`unknown method "FETCH"`}},
		{"nil handler", func(a *App[Ctx]) { a.GET("/a", nil) }, []string{"handler is nil"}},
		{"bad group prefix", func(a *App[Ctx]) { a.Group("api") }, []string{`group prefix "api" must begin with '/'`}},
		{"after start", func(a *App[Ctx]) {
			if err := a.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			a.GET("/late", text(""))
		}, []string{"GET /late after the app started"}},
		{"middleware after start", func(a *App[Ctx]) {
			if err := a.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			a.Use(func(next HandlerFunc) HandlerFunc { return next })
		}, []string{"adding middleware after the app started"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app, _ := newApp(t, Config{})
			msg := mustPanic(t, func() { tc.setup(app) })
			if !containsAll(msg, tc.want...) {
				t.Errorf("panic %q, want it to mention %q", msg, tc.want)
			}
			if !strings.HasPrefix(msg, "graft: ") {
				t.Errorf("panic %q lacks the graft: prefix", msg)
			}
		})
	}
}

func listUsers(c *Ctx) error { return c.NoContent() }

func TestRoutes(t *testing.T) {
	app, _ := newApp(t, Config{})
	app.GET("/users", listUsers)
	app.POST("/users", listUsers, WithName("createUser"))
	app.Group("/api").Any("/{p...}", text(""))
	app.Mount("/debug", http.NotFoundHandler())
	got := app.Routes()
	want := []RouteInfo{
		{"", "/api/{p...}", "github.com/graftgo/graft.TestRoutes.text.func"},
		{"", "/debug", "net/http.NotFound"},
		{"", "/debug/{mount...}", "net/http.NotFound"},
		{"GET", "/users", "github.com/graftgo/graft.listUsers"},
		{"POST", "/users", "createUser"},
	}
	if len(got) != len(want) {
		t.Fatalf("Routes() = %v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Method != w.Method || g.Pattern != w.Pattern || !strings.HasPrefix(g.Handler, strings.TrimSuffix(w.Handler, ".func")) {
			t.Errorf("Routes()[%d] = %+v, want %+v", i, g, w)
		}
	}
}

// TestRouterBadInput sends what a client may send that a router must
// survive: malformed escapes, dot segments, huge request lines and headers,
// through the app's own server with its 64 KiB header limit.
func TestRouterBadInput(t *testing.T) {
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1})
	app.GET("/hello/{name}", func(c *Ctx) error { return c.Text(200, "hi "+c.Param("name")) })
	app.GET("/files/{p...}", func(c *Ctx) error { return c.Text(200, "p="+c.Param("p")) })
	addr := startApp(t, app)
	big := strings.Repeat("a", 70<<10) // over MaxHeaderBytes + net/http's 4 KiB slack
	cases := []struct {
		name, raw, want string
	}{
		{"bad escape", "GET /hello/%zz HTTP/1.1\r\nHost: x\r\n\r\n", "400 "},
		{"bad escape in catch-all", "GET /files/a%2 HTTP/1.1\r\nHost: x\r\n\r\n", "400 "},
		{"dot dot", "GET /.. HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "301 "},
		{"dot dot in param", "GET /hello/.. HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "301 "},
		{"double slash", "GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "404 "},
		{"empty segment", "GET /hello// HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "404 "},
		{"catch-all keeps slashes", "GET /files//a//b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200 p=/a//b"},
		{"encoded slash", "GET /hello/a%2Fb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200 hi a/b"},
		{"huge header", "GET /hello/x HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n", "431 "},
		{"huge request line", "GET /hello/" + big + " HTTP/1.1\r\nHost: x\r\n\r\n", "431 "},
		{"long but allowed", "GET /hello/" + big[:60<<10] + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200 hi " + big[:60<<10]},
		{"no slash", "GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "404 "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := rawRequest(t, addr, tc.raw); !strings.HasPrefix(got, tc.want) {
				t.Errorf("answer %.100q, want prefix %.100q", got, tc.want)
			}
		})
	}
	// Requests built by hand (not parsed by a server) reach ServeHTTP with
	// odd URLs; none may panic.
	for _, u := range []string{"/hello/%zz", "/files/%", "", "hello", "/hello/a%2F%zz"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path, r.URL.RawPath = u, u
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		if w.Code == 0 || w.Code >= 500 {
			t.Errorf("path %q: status %d", u, w.Code)
		}
	}
}

// TestRouterCleanPath checks that dot segments never reach a handler: the
// client is redirected to the clean path, as Go's ServeMux does.
func TestRouterCleanPath(t *testing.T) {
	app, _ := newApp(t, Config{})
	app.Any("/users/{id}", echoRoute)
	app.GET("/files/{p...}", echoRoute)
	srv := serveTest(t, app)
	cl := srv.Client()
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cases := []struct {
		method, path string
		status       int
		location     string
	}{
		{"GET", "/users/..", 301, "/"},
		{"GET", "/users/42/../7", 301, "/users/7"},
		{"GET", "/./users/7", 301, "/users/7"},
		{"HEAD", "/files/a/../../etc/passwd", 301, "/etc/passwd"},
		{"GET", "/files/a/./b/", 301, "/files/a/b/"},
		{"POST", "/users/42/..", 308, "/users"},
		{"PUT", "/users/42/../", 308, "/users/"},
		{"GET", "/users/x/../7?a=1&b=%20", 301, "/users/7?a=1&b=%20"},
		{"GET", "/users/a%2Fb/./c", 301, "/users/a%2Fb/c"},
		{"GET", "/users/a%20b/./c", 301, "/users/a%20b/c"},
		{"GET", "/users/%2e%2e", 301, "/"},
		{"GET", "/users/.hidden", 200, ""},
		{"GET", "/users/...", 200, ""},
		{"GET", "/files/a..b/c.", 200, ""},
	}
	for _, tc := range cases {
		res := doClient(t, cl, tc.method, srv.URL+tc.path, nil)
		if res.status != tc.status || res.header.Get("Location") != tc.location {
			t.Errorf("%s %s = %d Location %q, want %d %q", tc.method, tc.path, res.status, res.header.Get("Location"), tc.status, tc.location)
		}
	}
}
