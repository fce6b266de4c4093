package graftest

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
)

// Timeout bounds every wait of the package: a request, a WebSocket read,
// WaitFor, the shutdown at cleanup.
var Timeout = 5 * time.Second

// App is what Start needs of a *graft.App[C], whatever its context type.
type App interface {
	http.Handler
	Start(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

// Server is an app serving on a loopback TCP listener.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT.
	URL string
	// Addr is the listener's host:port.
	Addr string
	// Client sends the requests of Do, Get and the others; it does not
	// follow redirects, so that tests see them.
	Client *http.Client

	t   testing.TB
	srv *httptest.Server
}

// Start starts app (its extensions' lifecycle, plugins, OnAssembled
// hooks) and serves it on a new loopback listener. When the test ends,
// the app is shut down (WebSockets closed with 1001) within Timeout and
// the listener closed. A start-up error fails the test; use StartError to
// test one.
func Start(t testing.TB, app App) *Server {
	t.Helper()
	if err := app.Start(context.Background()); err != nil {
		t.Fatalf("graftest: starting the app: %v", err)
	}
	hs := httptest.NewUnstartedServer(app)
	hs.Start()
	s := &Server{URL: hs.URL, Addr: hs.Listener.Addr().String(), t: t, srv: hs}
	s.Client = &http.Client{
		Timeout:       Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DialContext: (&net.Dialer{Timeout: Timeout}).DialContext},
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Errorf("graftest: shutting the app down: %v", err)
		}
		s.Client.CloseIdleConnections()
		hs.Close()
	})
	return s
}

// For returns the server reporting to t: for subtests, whose failures
// must go to their own t (FailNow belongs to the test's goroutine).
func (s *Server) For(t testing.TB) *Server {
	c := *s
	c.t = t
	return &c
}

// StartError starts app, expecting start-up to fail, and returns the
// error's message (for Golden); a start-up that succeeds fails the test.
func StartError(t testing.TB, app App) string {
	t.Helper()
	err := app.Start(context.Background())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		app.Shutdown(ctx)
		t.Fatal("graftest: the app started; want a start-up error")
	}
	return err.Error()
}

// Response is an answer with its body read.
type Response struct {
	*http.Response
	// Body is the whole body.
	Body []byte

	t testing.TB
}

// Text returns the body as a string.
func (r *Response) Text() string { return string(r.Body) }

// WantStatus fails the test unless the status is want, showing the body.
func (r *Response) WantStatus(want int) *Response {
	r.t.Helper()
	if r.StatusCode != want {
		r.t.Fatalf("graftest: %s %s: status %d, want %d; body:\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.Body)
	}
	return r
}

// JSON decodes the body into v, failing the test when it is not JSON.
func (r *Response) JSON(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("graftest: %s %s: the body is not JSON for %T: %v\n%s", r.Request.Method, r.Request.URL.Path, v, err, r.Body)
	}
}

// Problem decodes an RFC 9457 problem+json answer, failing the test when
// the Content-Type is not application/problem+json, the body does not
// decode, or its status member differs from the answer's.
func (r *Response) Problem() *graft.Problem {
	r.t.Helper()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/problem+json" {
		r.t.Fatalf("graftest: %s %s: Content-Type %q, want application/problem+json; body:\n%s", r.Request.Method, r.Request.URL.Path, r.Header.Get("Content-Type"), r.Body)
	}
	p := &graft.Problem{}
	r.JSON(p)
	if p.Status != r.StatusCode {
		r.t.Fatalf("graftest: %s %s: problem status %d in a %d answer", r.Request.Method, r.Request.URL.Path, p.Status, r.StatusCode)
	}
	return p
}

// Do sends req (a path such as "/users/7" is resolved against URL) and
// reads the whole answer; a transport error fails the test.
func (s *Server) Do(req *http.Request) *Response {
	s.t.Helper()
	if req.URL.Host == "" {
		u := *req.URL
		base, _ := http.NewRequest("GET", s.URL, nil)
		u.Scheme, u.Host = base.URL.Scheme, base.URL.Host
		req.URL = &u
		req.Host = u.Host
	}
	res, err := s.Client.Do(req)
	if err != nil {
		s.t.Fatalf("graftest: %s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("graftest: %s %s: reading the body: %v", req.Method, req.URL.Path, err)
	}
	return &Response{Response: res, Body: b, t: s.t}
}

// Request sends method to path with body (nil for none) and headers
// given as "Name", "value" pairs.
func (s *Server) Request(method, path string, body io.Reader, header ...string) *Response {
	s.t.Helper()
	if len(header)%2 != 0 {
		s.t.Fatalf("graftest: %s %s: headers come in name, value pairs; got %q", method, path, header)
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		s.t.Fatalf("graftest: %s %s: %v", method, path, err)
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return s.Do(req)
}

// Get sends a GET to path with headers as "Name", "value" pairs.
func (s *Server) Get(path string, header ...string) *Response {
	s.t.Helper()
	return s.Request("GET", path, nil, header...)
}

// Post sends body with the Content-Type contentType to path, with more
// headers as "Name", "value" pairs.
func (s *Server) Post(path, contentType, body string, header ...string) *Response {
	s.t.Helper()
	return s.Request("POST", path, strings.NewReader(body), append([]string{"Content-Type", contentType}, header...)...)
}

// WaitFor polls cond until it holds, failing the test after Timeout with
// what it waited for.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("graftest: waited %v for %s", Timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Equal fails the test unless got == want.
func Equal[T comparable](t testing.TB, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("graftest: got %v, want %v", got, want)
	}
}
