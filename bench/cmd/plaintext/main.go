// Command plaintext serves GET / → "Hello, World!" (text/plain) and
// GET /json → {"message":"Hello, World!"} with graft, a bare net/http
// server or Fiber v3, so that the end-to-end benchmarks (bench/run, wrk.sh)
// compare them on loopback. The net/http-based servers also speak HTTP/2
// without TLS (h2c, prior knowledge) for h2load.
//
//	plaintext -server graft|nethttp|fiber -addr 127.0.0.1:0
//
// It prints "listening on http://ADDR" once it accepts connections and
// shuts down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/graftgo/graft"
)

const helloText = "Hello, World!"

func main() {
	server := flag.String("server", "graft", "which server to run: graft, nethttp or fiber")
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
	case "fiber":
		r = fiberRunner()
	default:
		return fmt.Errorf("unknown -server %q: use graft, nethttp or fiber", server)
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
	app := graft.New(graft.Config{H2C: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	app.GET("/", func(c *graft.Ctx) error { return c.Text(http.StatusOK, helloText) })
	app.GET("/json", func(c *graft.Ctx) error { return c.JSON(http.StatusOK, helloMessage{Message: helloText}) })
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
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, _ *http.Request) {
		b, err := json.Marshal(helloMessage{Message: helloText})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: graft.DefaultReadHeaderTimeout,
		IdleTimeout:       graft.DefaultIdleTimeout,
		MaxHeaderBytes:    graft.DefaultMaxHeaderBytes,
		Protocols:         protocols(),
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

type helloMessage struct {
	Message string `json:"message"`
}

// protocols enables HTTP/1.1 and unencrypted HTTP/2 (h2c with prior
// knowledge, what h2load sends with -p h2c) on the same port.
func protocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// fiberRunner serves the same two answers with Fiber v3 on fasthttp
// (HTTP/1.1 only).
func fiberRunner() runner {
	app := fiber.New()
	app.Get("/", func(c fiber.Ctx) error { return c.SendString(helloText) })
	app.Get("/json", func(c fiber.Ctx) error { return c.JSON(helloMessage{Message: helloText}) })
	return runner{
		serve: func(ln net.Listener) error {
			return app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
		},
		shutdown: app.ShutdownWithContext,
	}
}
