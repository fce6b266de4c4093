package graft

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Limits and slow clients over real TCP connections (docs/reliability.md,
// Limits and slow clients). No test asserts how long something took: a
// slow client is shown cut by the connection closing before it finished,
// and each limit by one value that passes at it and fails one past it.

// dialApp opens a raw TCP connection to addr, closed when the test ends.
func dialApp(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// trickle writes data one byte at a time, every gap, and checks for the
// server closing the connection between bytes. It returns the number of
// bytes written before the server closed it, or len(data) when it never
// did while the data lasted.
func trickle(conn net.Conn, data string, gap time.Duration) (int, []byte) {
	buf := make([]byte, 4096)
	for i := 0; i < len(data); i++ {
		if _, err := conn.Write([]byte{data[i]}); err != nil {
			return i, nil
		}
		_ = conn.SetReadDeadline(time.Now().Add(gap))
		n, err := conn.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && n == 0 {
			continue
		}
		// Data or the end of the connection: the server is done with it.
		// Read what is left (an answer the server wrote before closing).
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		rest, _ := io.ReadAll(conn)
		return i + 1, append(buf[:n:n], rest...)
	}
	return len(data), nil
}

func TestSlowlorisCutByReadHeaderTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, ReadHeaderTimeout: timeout})
	app.GET("/", text("hello"))
	addr := startApp(t, app)

	// Headers trickled a byte every 20 ms would take 20 s: the server
	// closes the connection once ReadHeaderTimeout expires, after a
	// "400 Bad Request" (Go 1.26's net/http) or nothing.
	head := "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Slow: loris\r\n", 66)
	conn := dialApp(t, addr)
	start := time.Now()
	n, answer := trickle(conn, head, 20*time.Millisecond)
	elapsed := time.Since(start)
	if n == len(head) {
		t.Fatalf("the server read all %d header bytes trickled over %v without closing the connection", n, elapsed)
	}
	if len(answer) != 0 && !strings.HasPrefix(string(answer), "HTTP/1.1 400 ") {
		t.Errorf("the server answered a slowloris: %q", answer)
	}
	if elapsed < timeout {
		t.Errorf("closed after %v, before ReadHeaderTimeout %v", elapsed, timeout)
	}
	t.Logf("slowloris cut after %d of %d bytes, %v (ReadHeaderTimeout %v)", n, len(head), elapsed.Round(time.Millisecond), timeout)

	// The same head sent at once is answered: the cut was the timeout.
	conn = dialApp(t, addr)
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("the same headers sent at once: %v %v", res, err)
	}
	res.Body.Close()
}

func TestSlowBodyCutByReadTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, ReadTimeout: timeout})
	readErr := make(chan error, 2)
	app.POST("/upload", func(c *Ctx) error {
		b, err := c.Body()
		readErr <- err
		if err != nil {
			return err
		}
		return c.Text(http.StatusOK, strconv.Itoa(len(b)))
	})
	addr := startApp(t, app)

	body := strings.Repeat("b", 1000) // 20 s at a byte every 20 ms
	head := "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	conn := dialApp(t, addr)
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	n, _ := trickle(conn, body, 20*time.Millisecond)
	if n == len(body) {
		t.Fatalf("the server read the whole %d-byte body trickled over 20 s", n)
	}
	select {
	case err := <-readErr:
		var ne net.Error
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusBadRequest || !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("reading the slow body: %v, want a 400 HTTPError wrapping a timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not return from reading the slow body within 10s")
	}
	t.Logf("slow body cut after %d of %d bytes (ReadTimeout %v)", n, len(body), timeout)

	// The same body sent at once is read whole.
	conn = dialApp(t, addr)
	if _, err := io.WriteString(conn, head+body); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(got) != "1000" || <-readErr != nil {
		t.Errorf("the same body at once: %d %q", res.StatusCode, got)
	}
}

// headOf builds a request head (request line, headers, blank line) of
// exactly size bytes, its headers fill ones of at most per bytes each.
func headOf(t *testing.T, size, per int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\nHost: x\r\n")
	for i := 0; ; i++ {
		left := size - b.Len() - 2 // the blank line
		if left <= 0 {
			break
		}
		name := fmt.Sprintf("X-H%04d: ", i)
		n := min(per, left)
		if n < len(name)+2+1 {
			t.Fatalf("cannot build a head of %d bytes", size)
		}
		if left-n > 0 && left-n < len(name)+3 {
			n = left - (len(name) + 3) // leave room for one more header
		}
		b.WriteString(name + strings.Repeat("v", n-len(name)-2) + "\r\n")
	}
	b.WriteString("\r\n")
	if b.Len() != size {
		t.Fatalf("head of %d bytes, want %d", b.Len(), size)
	}
	return b.String()
}

// TestHeaderLimit431: net/http reads at most MaxHeaderBytes + 4096 bytes
// of request line and headers (its bufio slack); a head of exactly that
// size is served and one byte more is answered 431, whether the bytes are
// in many headers or one.
func TestHeaderLimit431(t *testing.T) {
	const maxHeader = 2048
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, MaxHeaderBytes: maxHeader})
	app.GET("/", text("hello"))
	addr := startApp(t, app)
	limit := maxHeader + 4096
	for _, shape := range []struct {
		name string
		per  int
	}{{"many headers", 40}, {"one large header", 1 << 20}} {
		for _, tc := range []struct {
			size   int
			status int
		}{{limit, 200}, {limit + 1, 431}} {
			conn := dialApp(t, addr)
			if _, err := io.WriteString(conn, headOf(t, tc.size, shape.per)); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s, %d-byte head: %v", shape.name, tc.size, err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Errorf("%s, %d-byte head (MaxHeaderBytes %d): %d, want %d", shape.name, tc.size, maxHeader, res.StatusCode, tc.status)
			}
		}
	}
}

// TestBodyLimitBoundary: a body of exactly Config.BodyLimit bytes is read,
// one byte more is answered 413 problem+json, with Content-Length and
// chunked, by a plain handler (Ctx.Body) and a typed endpoint.
func TestBodyLimitBoundary(t *testing.T) {
	const limit = 100
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, BodyLimit: limit})
	app.POST("/plain", func(c *Ctx) error {
		b, err := c.Body()
		if err != nil {
			return err
		}
		return c.Text(http.StatusOK, strconv.Itoa(len(b)))
	})
	type in struct {
		Body struct {
			Name string `json:"name"`
		}
	}
	type out struct {
		Body struct {
			N int `json:"n"`
		}
	}
	Post(app, "/typed", func(_ context.Context, in *in) (*out, error) {
		o := &out{}
		o.Body.N = len(in.Body.Name)
		return o, nil
	})
	addr := startApp(t, app)
	cl := newClient(t, nil)
	// bodyOf is a JSON object of exactly n bytes.
	bodyOf := func(n int) string { return `{"name":"` + strings.Repeat("n", n-len(`{"name":""}`)) + `"}` }
	for _, path := range []string{"/plain", "/typed"} {
		for _, chunked := range []bool{false, true} {
			for _, n := range []int{limit, limit + 1} {
				var body io.Reader = strings.NewReader(bodyOf(n))
				if chunked {
					body = onlyReader{body} // no length known: sent chunked
				}
				res := doClient(t, cl, "POST", "http://"+addr+path, body, "Content-Type", "application/json")
				what := fmt.Sprintf("POST %s, %d bytes, chunked %v", path, n, chunked)
				switch {
				case n <= limit && res.status != 200:
					t.Errorf("%s (limit %d): %d %s, want 200", what, limit, res.status, res.body)
				case n > limit && (res.status != 413 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") ||
					!strings.Contains(res.body, "limit of 100 bytes")):
					t.Errorf("%s (limit %d): %d %s %s, want a 413 problem naming the limit", what, limit, res.status, res.header.Get("Content-Type"), res.body)
				}
			}
		}
	}
}

// TestMaxConns: with Config.MaxConns 2, two connections are served at
// once and a third waits, unanswered, until one of them closes; with no
// cap (the default, as net/http's) the third is served at once.
func TestMaxConns(t *testing.T) {
	get := func(conn net.Conn, wait time.Duration) (*http.Response, error) {
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return nil, err
		}
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			res.Body.Close()
		}
		return res, err
	}
	for _, maxConns := range []int{2, 0} {
		app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, MaxConns: maxConns})
		app.GET("/", text("hello"))
		addr := startApp(t, app)
		a, b, c := dialApp(t, addr), dialApp(t, addr), dialApp(t, addr)
		// a and b are served, and stay open (keep-alive).
		for i, conn := range []net.Conn{a, b} {
			if res, err := get(conn, 5*time.Second); err != nil || res.StatusCode != 200 {
				t.Fatalf("MaxConns %d: connection %d of 2: %v %v", maxConns, i+1, res, err)
			}
		}
		res, err := get(c, 300*time.Millisecond)
		var ne net.Error
		if maxConns == 0 {
			if err != nil || res.StatusCode != 200 {
				t.Errorf("no cap: a third connection: %v %v", res, err)
			}
			continue
		}
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("MaxConns 2: a third connection was answered (%v %v) while two were open", res, err)
		}
		// Closing a frees its place: c is accepted, and its request (in
		// the socket buffer since) answered.
		a.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err = http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("MaxConns 2: the third connection after one closed: %v %v", res, err)
		}
		res.Body.Close()
	}

	// The flag and the config key.
	app, _ := newApp(t, Config{})
	if err := app.ParseFlags([]string{"--max-conns", "3"}); err != nil || app.Config().MaxConns != 3 {
		t.Errorf("--max-conns 3: %v, MaxConns %d", err, app.Config().MaxConns)
	}
}

// TestMaxConnsServesFiles: under MaxConns the connection net/http holds
// is graft's limitConn; it passes ReadFrom to the TCP connection (so
// io.Copy from a file is sendfile(2) as without the cap), and a 1 MiB
// file arrives whole, over one connection and then another.
func TestMaxConnsServesFiles(t *testing.T) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, MaxConns: 1})
	app.GET("/blob", func(c *Ctx) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		c.SetHeader("Content-Type", "application/octet-stream")
		_, err = io.Copy(c.Response(), f)
		return err
	})
	addr := startApp(t, app)
	for i := range 2 {
		conn := dialApp(t, addr)
		if _, err := io.WriteString(conn, "GET /blob HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		conn.Close()
		if err != nil || res.StatusCode != 200 || !bytes.Equal(got, data) {
			t.Fatalf("request %d: %d, %d bytes (%v), want 200 and the file's %d bytes", i+1, res.StatusCode, len(got), err, len(data))
		}
	}

	// limitConn.ReadFrom reaches the TCP connection's own.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := server.(io.ReaderFrom); !ok {
		t.Fatal("a *net.TCPConn is not an io.ReaderFrom")
	}
	lc := &limitConn{Conn: server, l: newLimitListener(ln, 1)}
	lc.l.sem <- struct{}{}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(client)
		got <- b
	}()
	if n, err := lc.ReadFrom(f); err != nil || n != int64(len(data)) {
		t.Fatalf("ReadFrom: %d, %v", n, err)
	}
	lc.Close()
	select {
	case b := <-got:
		if !bytes.Equal(b, data) {
			t.Fatalf("the client got %d bytes, not the file", len(b))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not get the file within 5s")
	}
}
