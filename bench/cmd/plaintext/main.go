// Command plaintext serves GET / → "Hello, World!" (text/plain) with graft
// or with a bare net/http server, so that wrk.sh can compare the two end to
// end on loopback.
//
//	plaintext -server graft|nethttp -addr 127.0.0.1:0
//
// It prints "listening on http://ADDR" once it accepts connections and
// shuts down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/graftgo/graft"
)

const helloText = "Hello, World!"

func main() {
	server := flag.String("server", "graft", "which server to run: graft or nethttp")
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on (port 0: any free port)")
	flag.Parse()
	if err := run(*server, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "plaintext:", err)
		os.Exit(1)
	}
}

// runner serves on a listener until shut down.
type runner struct {
	serve    func(net.Listener) error
	shutdown func(context.Context) error
}

func run(server, addr string) error {
	var r runner
	switch server {
	case "graft":
		r = graftRunner()
	case "nethttp":
		r = netHTTPRunner()
	default:
		return fmt.Errorf("unknown -server %q: use graft or nethttp", server)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- r.serve(ln) }()
	fmt.Printf("listening on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.shutdown(sctx); err != nil {
		return err
	}
	return <-errc
}

// graftRunner serves with graft's own server (App.Serve), as a graft app
// runs in production.
func graftRunner() runner {
	app := graft.New(graft.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	app.GET("/", func(c *graft.Ctx) error { return c.Text(http.StatusOK, helloText) })
	return runner{serve: app.Serve, shutdown: app.Shutdown}
}

// netHTTPRunner is the baseline: a ServeMux and an http.Server with the same
// timeouts and header limit that graft sets by default.
func netHTTPRunner() runner {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, helloText)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: graft.DefaultReadHeaderTimeout,
		IdleTimeout:       graft.DefaultIdleTimeout,
		MaxHeaderBytes:    graft.DefaultMaxHeaderBytes,
	}
	return runner{
		serve: func(ln net.Listener) error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		shutdown: srv.Shutdown,
	}
}
