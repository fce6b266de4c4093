package graft

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRunContext(t *testing.T) {
	app, logs := newApp(t, Config{Host: "127.0.0.1", Port: -1})
	app.GET("/", text("hello"))
	addr := startApp(t, app)
	if host, port, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr() = %q", addr)
	}
	res := doClient(t, newClient(t, nil), "GET", "http://"+addr+"/", nil)
	if res.status != 200 || res.body != "hello" || res.proto != 1 {
		t.Errorf("GET / = %d %q HTTP/%d", res.status, res.body, res.proto)
	}
	if !strings.Contains(logs.String(), "addr=http://"+addr) {
		t.Errorf("listening address not logged:\n%s", logs.String())
	}
}

func TestGracefulShutdown(t *testing.T) {
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1})
	started, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var events []string
	record := func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
	}
	app.GET("/slow", func(c *Ctx) error {
		close(started)
		<-release
		record("request done")
		return c.Text(http.StatusOK, "finished")
	})
	app.OnLifecycle(Hook{Name: "db", OnStop: func(context.Context) error { record("db stopped"); return nil }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- app.RunContext(ctx) }()
	var addr string
	for i := 0; addr == "" && i < 1000; i++ {
		time.Sleep(5 * time.Millisecond)
		addr = app.Addr()
	}
	if addr == "" {
		t.Fatal("not listening")
	}
	cl := newClient(t, &http.Transport{DisableKeepAlives: true})
	resc := make(chan result, 1)
	go func() { resc <- doClient(t, cl, "GET", "http://"+addr+"/slow", nil) }()
	recvWithin(t, started, "the slow handler starting")
	cancel() // as SIGINT would
	// New connections are refused once shutdown began, while the slow
	// request is still running.
	refused := false
	for range 1000 {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			refused = true
			break
		}
		conn.Close()
		time.Sleep(5 * time.Millisecond)
	}
	if !refused {
		t.Error("new connections still accepted during shutdown")
	}
	select {
	case err := <-errc:
		t.Fatalf("RunContext returned %v before the in-flight request finished", err)
	default:
	}
	close(release)
	if res := recvWithin(t, resc, "the in-flight request's answer"); res.status != 200 || res.body != "finished" {
		t.Errorf("in-flight request got %d %q", res.status, res.body)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("RunContext: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunContext did not return")
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(events, ", ") != "request done, db stopped" {
		t.Errorf("events %q: stop hooks must run after in-flight requests", events)
	}
}

// TestRunContextCanceledAtOnce covers a context that ends before Serve
// registered its server: RunContext must still return.
func TestRunContextCanceledAtOnce(t *testing.T) {
	for range 20 {
		app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		errc := make(chan error, 1)
		go func() { errc <- app.RunContext(ctx) }()
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("RunContext: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("RunContext hung")
		}
	}
}

func TestUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "graft")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "g.sock")
	// A socket left behind by an earlier run is replaced.
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	app, _ := newApp(t, Config{UDS: sock})
	app.GET("/", func(c *Ctx) error { return c.Text(http.StatusOK, "over "+c.Request.RemoteAddr+"unix") })
	if addr := startApp(t, app); addr != sock {
		t.Errorf("Addr() = %q, want %q", addr, sock)
	}
	cl := newClient(t, &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}})
	if res := doClient(t, cl, "GET", "http://graft/", nil); res.status != 200 || !strings.HasSuffix(res.body, "unix") {
		t.Errorf("GET over unix socket = %d %q", res.status, res.body)
	}

	// A regular file in the way is an error, and is left alone.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	app2, _ := newApp(t, Config{UDS: file})
	if _, err := app2.Listen(); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Listen on a regular file: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Error("Listen removed a regular file")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "graft test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSAndHTTP2(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, SSLCert: certFile, SSLKey: keyFile})
	app.GET("/proto", func(c *Ctx) error { return c.Text(http.StatusOK, c.Request.Proto) })
	addr := startApp(t, app)
	h2 := newClient(t, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true})
	if res := doClient(t, h2, "GET", "https://"+addr+"/proto", nil); res.status != 200 || res.proto != 2 || res.body != "HTTP/2.0" {
		t.Errorf("HTTPS with HTTP/2 = %d HTTP/%d %q", res.status, res.proto, res.body)
	}
	h1 := newClient(t, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})
	if res := doClient(t, h1, "GET", "https://"+addr+"/proto", nil); res.status != 200 || res.body != "HTTP/1.1" {
		t.Errorf("HTTPS with HTTP/1.1 = %d %q", res.status, res.body)
	}
	// Plain HTTP to the TLS port is refused by net/http with a 400.
	if res := doClient(t, newClient(t, nil), "GET", "http://"+addr+"/proto", nil); res.status != 400 {
		t.Errorf("plain HTTP to the TLS port = %d", res.status)
	}
}

func TestTLSNeedsBothFiles(t *testing.T) {
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, SSLCert: "cert.pem"})
	err := app.RunContext(t.Context())
	if err == nil || !strings.Contains(err.Error(), "--ssl-key") {
		t.Errorf("RunContext with a cert and no key: %v", err)
	}
}

func TestH2C(t *testing.T) {
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, H2C: true})
	app.GET("/proto", func(c *Ctx) error { return c.Text(http.StatusOK, c.Request.Proto) })
	addr := startApp(t, app)
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	h2c := newClient(t, &http.Transport{Protocols: &p})
	if res := doClient(t, h2c, "GET", "http://"+addr+"/proto", nil); res.status != 200 || res.proto != 2 || res.body != "HTTP/2.0" {
		t.Errorf("h2c = %d HTTP/%d %q", res.status, res.proto, res.body)
	}
	if res := doClient(t, newClient(t, nil), "GET", "http://"+addr+"/proto", nil); res.status != 200 || res.body != "HTTP/1.1" {
		t.Errorf("HTTP/1.1 next to h2c = %d %q", res.status, res.body)
	}
	// Without H2C, prior-knowledge HTTP/2 is not spoken.
	plain, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1})
	plain.GET("/", text(""))
	paddr := startApp(t, plain)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+paddr+"/", nil)
	if res, err := h2c.Do(req); err == nil {
		res.Body.Close()
		t.Errorf("h2c to a server without H2C answered %s", res.Proto)
	}
}

func TestServerDefaults(t *testing.T) {
	cases := []struct {
		cfg                  Config
		readHeader, idle     time.Duration
		maxHeader            int
		read, write          time.Duration
		unencryptedHTTP2, h2 bool
	}{
		{Config{}, 10 * time.Second, 120 * time.Second, 64 << 10, 0, 0, false, true},
		{Config{ReadHeaderTimeout: time.Second, IdleTimeout: 2 * time.Second, MaxHeaderBytes: 1 << 10, ReadTimeout: 3 * time.Second, WriteTimeout: 4 * time.Second, H2C: true},
			time.Second, 2 * time.Second, 1 << 10, 3 * time.Second, 4 * time.Second, true, true},
	}
	for _, tc := range cases {
		app, _ := newApp(t, tc.cfg)
		srv := app.httpServer()
		if srv.ReadHeaderTimeout != tc.readHeader || srv.IdleTimeout != tc.idle || srv.MaxHeaderBytes != tc.maxHeader || srv.ReadTimeout != tc.read || srv.WriteTimeout != tc.write {
			t.Errorf("%+v: server has ReadHeaderTimeout %v IdleTimeout %v MaxHeaderBytes %d ReadTimeout %v WriteTimeout %v",
				tc.cfg, srv.ReadHeaderTimeout, srv.IdleTimeout, srv.MaxHeaderBytes, srv.ReadTimeout, srv.WriteTimeout)
		}
		if srv.Protocols.UnencryptedHTTP2() != tc.unencryptedHTTP2 || srv.Protocols.HTTP2() != tc.h2 || !srv.Protocols.HTTP1() {
			t.Errorf("%+v: protocols %v", tc.cfg, srv.Protocols)
		}
		if srv.Handler != app.core {
			t.Errorf("server handler is %T", srv.Handler)
		}
	}
	// Config defaults the app reports.
	app, _ := newApp(t, Config{})
	if cfg := app.Config(); cfg.bodyLimit() != 1<<20 || cfg.Port != DefaultPort || cfg.RequestPoolMaxItems != DefaultPoolMaxItems {
		t.Errorf("defaults: body limit %d, port %d, pool %d", cfg.bodyLimit(), cfg.Port, cfg.RequestPoolMaxItems)
	}
}

func TestFlags(t *testing.T) {
	app, _ := newApp(t, Config{Port: 9000, Host: "example.invalid"})
	var out bytes.Buffer
	app.Flags().SetOutput(&out)
	err := app.ParseFlags([]string{"--help"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("ParseFlags(--help) = %v, want flag.ErrHelp", err)
	}
	usage := out.String()
	for _, f := range []string{"host", "port", "uds", "ssl-cert", "ssl-key", "h2c", "req-res-factory-maxitems"} {
		if !strings.Contains(usage, "  --"+f+" ") && !strings.Contains(usage, "  --"+f+"\n") {
			t.Errorf("usage lacks --%s:\n%s", f, usage)
		}
	}
	if !strings.Contains(usage, "(default 9000; env GRAFT_PORT)") {
		t.Errorf("usage does not show the configured port as default:\n%s", usage)
	}

	// A usage function the app set is kept.
	custom, _ := newApp(t, Config{})
	called := false
	custom.Flags().Usage = func() { called = true }
	if err := custom.ParseFlags([]string{"--help"}); !errors.Is(err, flag.ErrHelp) || !called {
		t.Errorf("custom usage: err %v, called %v", err, called)
	}

	// Flags override the Config.
	app, _ = newApp(t, Config{Port: 9000, Host: "example.invalid", RequestPoolMaxItems: 7})
	if err := app.ParseFlags([]string{"--port", "-1", "--host=127.0.0.1", "--req-res-factory-maxitems", "3", "--body-limit", "10"}); err != nil {
		t.Fatal(err)
	}
	cfg := app.Config()
	if cfg.Port != -1 || cfg.Host != "127.0.0.1" || cfg.RequestPoolMaxItems != 3 || cfg.BodyLimit != 10 {
		t.Errorf("after flags: %+v", cfg)
	}
	app.POST("/", func(c *Ctx) error {
		_, err := c.Body()
		return err
	})
	addr := startApp(t, app)
	if st := app.PoolStats(); st.Max != 3 {
		t.Errorf("pool max %d, want 3 from the flag", st.Max)
	}
	if res := doClient(t, newClient(t, nil), "POST", "http://"+addr+"/", strings.NewReader("more than ten bytes")); res.status != 413 {
		t.Errorf("body over the flag's limit = %d", res.status)
	}
	// Parsing twice is a no-op; a bad flag is an error.
	if err := app.ParseFlags([]string{"--port", "1"}); err != nil || app.Config().Port != -1 {
		t.Errorf("second ParseFlags: %v, port %d", err, app.Config().Port)
	}
	bad, _ := newApp(t, Config{})
	bad.Flags().SetOutput(&bytes.Buffer{})
	if err := bad.ParseFlags([]string{"--nope"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestStartErrors(t *testing.T) {
	var mu sync.Mutex
	var events []string
	record := func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
	}
	hook := func(name string, startErr error) Hook {
		return Hook{
			Name: name,
			OnStart: func(context.Context) error {
				record("start " + name)
				return startErr
			},
			OnStop: func(context.Context) error { record("stop " + name); return nil },
		}
	}
	cause := errors.New("connection refused")
	cases := []struct {
		name   string
		hooks  []Hook
		errHas []string
		events string
	}{
		{"failing hook", []Hook{hook("config", nil), hook("db", nil), hook("cache", cause), hook("never", nil)},
			[]string{`start hook "cache" failed`, "connection refused"},
			"start config, start db, start cache, stop db, stop config"},
		{"panicking hook", []Hook{hook("db", nil), {Name: "bad", OnStart: func(context.Context) error { panic("oops") }}},
			[]string{`start hook "bad" failed`, "panic: oops"},
			"start db, stop db"},
		{"first hook fails", []Hook{hook("db", cause)}, []string{`"db"`}, "start db"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events = nil
			app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1})
			for _, h := range tc.hooks {
				app.OnLifecycle(h)
			}
			app.GET("/", text("x"))
			err := app.RunContext(t.Context())
			if err == nil || !containsAll(err.Error(), tc.errHas...) {
				t.Fatalf("RunContext error %v, want it to mention %q", err, tc.errHas)
			}
			mu.Lock()
			got := strings.Join(events, ", ")
			mu.Unlock()
			if got != tc.events {
				t.Errorf("events %q, want %q", got, tc.events)
			}
			if app.Addr() != "" {
				t.Errorf("listening at %s after a failed start", app.Addr())
			}
			// A failed app answers 500 instead of serving half-started.
			srv := serveTest(t, app)
			if res := do(t, srv, "GET", "/", nil); res.status != 500 {
				t.Errorf("GET after failed start = %d", res.status)
			}
		})
	}
	if errors.Is(cause, nil) {
		t.Fatal("unreachable")
	}
	// The error wraps its cause.
	app, _ := newApp(t, Config{})
	app.OnLifecycle(hook("x", cause))
	if err := app.Start(t.Context()); !errors.Is(err, cause) {
		t.Errorf("Start error %v does not wrap its cause", err)
	}
	if err := app.Start(t.Context()); err == nil {
		t.Error("second Start after a failure succeeded")
	}
}

func TestStopHooksReverseOrder(t *testing.T) {
	app, _ := newApp(t, Config{})
	var events []string
	for _, n := range []string{"a", "b", "c"} {
		app.OnLifecycle(Hook{Name: n,
			OnStart: func(context.Context) error { events = append(events, "start "+n); return nil },
			OnStop:  func(context.Context) error { events = append(events, "stop "+n); return nil },
		})
	}
	app.OnShutdown(func(context.Context) { events = append(events, "shutdown") })
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := app.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(events, ", "); got != "start a, start b, start c, shutdown, stop c, stop b, stop a" {
		t.Errorf("lifecycle %q", got)
	}
	if err := app.Stop(t.Context()); err != nil || len(events) != 7 {
		t.Errorf("second Stop: %v, events %q", err, events)
	}
}

// TestStartOnFirstRequest covers an app served without Start: the first
// request builds it, and a first request whose client already left does not
// cancel start-up for every later request.
func TestStartOnFirstRequest(t *testing.T) {
	app, _ := newApp(t, Config{})
	app.OnLifecycle(Hook{Name: "db", OnStart: func(ctx context.Context) error { return ctx.Err() }})
	app.GET("/", text("ok"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/", nil).WithContext(ctx))
	if w.Code != 200 || w.Body.String() != "ok" {
		t.Fatalf("first request = %d %q", w.Code, w.Body)
	}
	if err := app.Start(t.Context()); err == nil {
		t.Error("Start after the first request succeeded")
	}
}
