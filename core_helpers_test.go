package graft

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// newApp makes an app whose logs go to the returned buffer.
func newApp(t *testing.T, cfg Config) (*App[Ctx], *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(buf, nil))
	}
	return New(cfg), buf
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveTest serves h on a real loopback listener for the test's duration.
func serveTest(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// result is what a test request got back.
type result struct {
	status int
	header http.Header
	body   string
	proto  int
}

// do sends one request to srv and reads the whole answer.
func do(t *testing.T, srv *httptest.Server, method, path string, body io.Reader, hdr ...string) result {
	t.Helper()
	return doClient(t, srv.Client(), method, srv.URL+path, body, hdr...)
}

func doClient(t *testing.T, cl *http.Client, method, url string, body io.Reader, hdr ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return result{status: res.StatusCode, header: res.Header, body: string(b), proto: res.ProtoMajor}
}

// mustPanic runs fn and returns the panic message, failing if it did not
// panic.
func mustPanic(t *testing.T, fn func()) (msg string) {
	t.Helper()
	defer func() {
		v := recover()
		if v == nil {
			t.Fatal("no panic")
		}
		switch v := v.(type) {
		case string:
			msg = v
		case error:
			msg = v.Error()
		default:
			t.Fatalf("panic value %T %v", v, v)
		}
	}()
	fn()
	return ""
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// text returns a handler that answers s.
func text(s string) func(*Ctx) error {
	return func(c *Ctx) error { return c.Text(http.StatusOK, s) }
}

// startApp runs app with RunContext on a free loopback port and returns its
// address; the test's cleanup shuts it down and checks RunContext's result.
func startApp(t *testing.T, app *App[Ctx]) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- app.RunContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("RunContext: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("RunContext did not return after cancel")
		}
	})
	for range 1000 {
		if addr := app.Addr(); addr != "" {
			return addr
		}
		select {
		case err := <-errc:
			t.Fatalf("RunContext returned early: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatal("the app did not start listening")
	return ""
}

// newClient returns a client whose idle connections are closed at cleanup.
func newClient(t *testing.T, tr *http.Transport) *http.Client {
	if tr == nil {
		tr = &http.Transport{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

// rawRequest writes raw to a new connection to addr and returns the answer
// read until the server closes it or stops answering.
func rawRequest(t *testing.T, addr, raw string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v", raw, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return fmt.Sprintf("%d %s", res.StatusCode, b)
}

// recvWithin receives from ch, failing the test naming what it waited for
// when nothing arrives within 10s.
func recvWithin[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not happen within 10s", what)
	}
	var zero T
	return zero
}

// waitGroupWithin waits for wg, failing the test naming what it waited for
// when it is not done within 10s.
func waitGroupWithin(t testing.TB, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	recvWithin(t, done, what)
}
