package graft

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
)

// server is the net/http engine of an App.
type server struct {
	mu      sync.Mutex
	srv     *http.Server
	ln      net.Listener
	addr    string
	done    chan struct{}
	closing bool // Shutdown was called; a later Serve must not start
}

// ParseFlags loads the app's config (docs/config.md): it parses args
// (os.Args[1:] when nil) as flags, then applies the TOML file (--config or
// GRAFT_CONFIG), the GRAFT_… environment and the flags, in that order of
// precedence, to the Config and every section. A mistake is a
// *config.Error naming the source (file:line, env name, flag), the key,
// the value and what was expected. It returns flag.ErrHelp after printing
// the flags for --help, or the merged config as TOML for --print-config
// (to os.Stdout). Later calls do nothing.
func (a *core) ParseFlags(args []string) error {
	if a.flags.Parsed() {
		return nil
	}
	if err := a.conf.Load(a.flags, args); err != nil {
		return err
	}
	if a.conf.PrintRequested() {
		out := a.printOut
		if out == nil {
			out = os.Stdout
		}
		if err := a.printConfig(out); err != nil {
			return err
		}
		return flag.ErrHelp
	}
	return nil
}

// Run parses the command line, starts the app, listens (TCP, unix socket or
// TLS per the config and flags) and serves until SIGINT or SIGTERM, then
// shuts down gracefully within Config.ShutdownTimeout. It returns nil after
// a clean shutdown or when --help or --print-config was asked for.
func (a *core) Run() error {
	if err := a.ParseFlags(nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return a.RunContext(ctx)
}

// RunContext is Run without flag parsing or signal handling: it serves until
// ctx is done, then shuts down gracefully.
func (a *core) RunContext(ctx context.Context) error {
	if err := a.Start(ctx); err != nil {
		return err
	}
	ln, err := a.Listen()
	if err != nil {
		_ = a.Stop(context.Background())
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- a.Serve(ln) }()
	select {
	case err := <-errc:
		_ = a.Stop(context.Background())
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), orDefault(a.cfg.ShutdownTimeout, DefaultShutdownTimeout))
	defer cancel()
	err = a.Shutdown(sctx)
	if serr := <-errc; serr != nil && err == nil {
		err = serr
	}
	return err
}

// Listen opens the listener the config asks for: a unix socket (UDS) or TCP
// on Host:Port.
func (a *core) Listen() (net.Listener, error) {
	if a.cfg.UDS != "" {
		// A socket left by an earlier run would make Listen fail; remove
		// it, but never a file of another kind.
		if fi, err := os.Lstat(a.cfg.UDS); err == nil && fi.Mode()&os.ModeSocket != 0 {
			_ = os.Remove(a.cfg.UDS)
		}
		ln, err := net.Listen("unix", a.cfg.UDS)
		if err != nil {
			return nil, fmt.Errorf("graft: listening on unix socket %s: %w", a.cfg.UDS, err)
		}
		return ln, nil
	}
	port := a.cfg.Port
	switch port {
	case 0:
		port = DefaultPort
	case -1:
		port = 0
	}
	addr := net.JoinHostPort(a.cfg.Host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("graft: listening on %s: %w (choose another --port or --host)", addr, err)
	}
	return ln, nil
}

// httpServer makes the net/http server with graft's safe defaults.
func (a *core) httpServer() *http.Server {
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: orDefault(a.cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       a.cfg.ReadTimeout,
		WriteTimeout:      a.cfg.WriteTimeout,
		IdleTimeout:       orDefault(a.cfg.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    orDefault(a.cfg.MaxHeaderBytes, DefaultMaxHeaderBytes),
		// net/http's own messages (TLS handshake errors, HTTP/2
		// connection errors, accept errors) go to the app's logger at
		// warn level, with the rest of its records, not to stderr.
		ErrorLog: slog.NewLogLogger(a.logger.With("source", "net/http").Handler(), slog.LevelWarn),
	}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	if a.cfg.H2C {
		p.SetUnencryptedHTTP2(true)
	}
	srv.Protocols = &p
	return srv
}

// Serve serves the app on ln until Shutdown; it starts the app first if
// needed. With SSLCert and SSLKey set it serves TLS (HTTP/2 included).
func (a *core) Serve(ln net.Listener) error {
	if a.state.Load() == stateNew {
		if err := a.Start(context.Background()); err != nil {
			return err
		}
	}
	if (a.cfg.SSLCert == "") != (a.cfg.SSLKey == "") {
		return errors.New("graft: TLS needs both --ssl-cert and --ssl-key")
	}
	srv := a.httpServer()
	if a.cfg.MaxConns > 0 {
		ln = newLimitListener(ln, a.cfg.MaxConns)
	}
	a.srv.mu.Lock()
	if a.srv.closing {
		// Shutdown ran before Serve got here (RunContext with a context
		// that ended at once): serving now would never stop.
		a.srv.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	if a.srv.srv != nil {
		a.srv.mu.Unlock()
		return errors.New("graft: the app is already serving")
	}
	a.srv.srv, a.srv.ln, a.srv.addr = srv, ln, ln.Addr().String()
	a.srv.done = make(chan struct{})
	a.srv.mu.Unlock()
	scheme := "http"
	if a.cfg.SSLCert != "" {
		scheme = "https"
	}
	a.logger.Info("graft: listening", "addr", scheme+"://"+ln.Addr().String(), "network", ln.Addr().Network())
	var err error
	if a.cfg.SSLCert != "" {
		err = srv.ServeTLS(ln, a.cfg.SSLCert, a.cfg.SSLKey)
	} else {
		err = srv.Serve(ln)
	}
	close(a.srv.done)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Addr returns the address the app listens on once Serve has started, e.g.
// "127.0.0.1:34567", or "".
func (a *core) Addr() string {
	a.srv.mu.Lock()
	defer a.srv.mu.Unlock()
	return a.srv.addr
}

// Shutdown stops accepting connections, lets in-flight requests finish
// within ctx's deadline (closing the connections of those still running at
// the deadline, and returning ctx's error), closes hijacked connections such
// as WebSockets (1001 Going Away), then runs the stop hooks and extension
// Stop methods in reverse order, each within its own timeout.
func (a *core) Shutdown(ctx context.Context) error {
	a.srv.mu.Lock()
	srv := a.srv.srv
	a.srv.closing = true
	a.srv.mu.Unlock()
	a.streams.endAll()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
		if err != nil {
			_ = srv.Close()
		}
	}
	// The stop hooks and extension Stop methods have deadlines of their
	// own (Hook.Timeout, DefaultHookTimeout): they run after the server's
	// deadline too, with a context that is not already done, so that what
	// they close is closed cleanly even when a stuck request used up ctx.
	if serr := a.Stop(context.WithoutCancel(ctx)); serr != nil && err == nil {
		err = serr
	}
	return err
}
