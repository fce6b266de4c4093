// Command wsidle measures what an idle WebSocket connection costs a server
// process, for bench/run: in server mode it serves /echo with one of the
// servers of the WebSocket benchmarks and, on SIGUSR1, runs the garbage
// collector, returns freed memory to the OS and prints "gc done", so that
// the caller reads a settled VmRSS; in dial mode it opens n connections
// and holds them until SIGTERM.
//
//	wsidle -server graft|gws|gorilla|coder -addr 127.0.0.1:0
//	wsidle -dial 127.0.0.1:PORT -n 19500
//
// With -memprofile FILE the server also writes a heap profile to FILE after
// each collection (go tool pprof -sample_index=inuse_space FILE), to see
// what an idle connection keeps allocated.
//
// The server prints "listening on ADDR" once it accepts connections and
// "open N" each time the number of open connections reaches a multiple of
// 500; the dialer prints "dialed N".
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"
	"github.com/graftgo/graft"
	"github.com/graftgo/graft/internal/fdlimit"
	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
)

func main() {
	server := flag.String("server", "", "serve with graft, gws, gorilla or coder")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	dial := flag.String("dial", "", "dial ADDR instead of serving")
	n := flag.Int("n", 1000, "connections to dial")
	flag.StringVar(&memProfile, "memprofile", "", "in server mode, write a heap profile to this file after each SIGUSR1 collection")
	flag.Parse()
	if memProfile != "" {
		// Every allocation sampled: a profile over n connections then
		// divides exactly.
		runtime.MemProfileRate = 1
	}
	fdlimit.RaiseToHard()
	// Before anything is printed: the caller signals as soon as it reads
	// the first line.
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM, os.Interrupt)
	var err error
	if *dial != "" {
		err = dialAll(*dial, *n)
	} else {
		err = serve(*server, *addr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsidle:", err)
		os.Exit(1)
	}
}

var (
	memProfile string
	open       atomic.Int64
	sig        = make(chan os.Signal, 4)
)

func opened() {
	if v := open.Add(1); v%500 == 0 {
		fmt.Printf("open %d\n", v)
	}
}

func serve(server, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var h http.Handler
	var stop func()
	switch server {
	case "graft":
		app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
		ws.Route(app, "/echo", ws.Behavior[struct{}]{
			Open:    func(*ws.Conn[struct{}]) { opened() },
			Message: func(c *ws.Conn[struct{}], data []byte, op ws.OpCode) { c.Send(data, op, false) },
		})
		if err := app.Start(context.Background()); err != nil {
			return err
		}
		go func() { _ = app.Serve(ln) }()
		fmt.Printf("listening on %s\n", ln.Addr())
		wait(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = app.Shutdown(ctx)
		})
		return nil
	case "gws":
		up := gws.NewUpgrader(&gwsEcho{}, &gws.ServerOption{ReadMaxPayloadSize: 16 << 10, CheckUtf8Enabled: true})
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r)
			if err != nil {
				return
			}
			opened()
			go c.ReadLoop()
		})
	case "gorilla":
		up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			opened()
			go func() {
				defer c.Close()
				for {
					op, m, err := c.ReadMessage()
					if err != nil || c.WriteMessage(op, m) != nil {
						return
					}
				}
			}()
		})
	case "coder":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := coder.Accept(w, r, &coder.AcceptOptions{CompressionMode: coder.CompressionDisabled})
			if err != nil {
				return
			}
			opened()
			for {
				typ, m, err := c.Read(r.Context())
				if err != nil || c.Write(r.Context(), typ, m) != nil {
					return
				}
			}
		})
	default:
		return fmt.Errorf("unknown -server %q: use graft, gws, gorilla or coder", server)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("listening on %s\n", ln.Addr())
	stop = func() { _ = srv.Close() }
	wait(stop)
	return nil
}

type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	_ = c.WriteMessage(m.Opcode, m.Bytes())
	m.Close()
}

// wait handles SIGUSR1 (GC and report) until SIGTERM or SIGINT, then stops.
func wait(stop func()) {
	for s := range sig {
		if s == syscall.SIGUSR1 {
			runtime.GC()
			runtime.GC()
			debug.FreeOSMemory()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			fmt.Printf("gc done heap-inuse=%d stack-inuse=%d heap-idle-unreleased=%d other-sys=%d goroutines=%d\n",
				m.HeapInuse, m.StackInuse, m.HeapIdle-m.HeapReleased, m.Sys-m.HeapSys-m.StackSys, runtime.NumGoroutine())
			if memProfile != "" {
				if err := writeHeapProfile(memProfile); err != nil {
					fmt.Fprintln(os.Stderr, "wsidle: memprofile:", err)
				}
			}
			continue
		}
		stop()
		return
	}
}

// writeHeapProfile writes the heap profile (as of the last collection) to
// path, replacing the previous one.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// dialAll opens n handshaken connections and holds them.
func dialAll(addr string, n int) error {
	// A few handshakes in flight at once: one at a time, each waits a
	// round trip through both processes and 19,500 take a quarter of a
	// minute. The server's RSS is read after its GC, so how fast the
	// connections arrived does not show in it.
	const workers = 8
	conns := make([]net.Conn, n)
	errs := make(chan error, workers)
	var next atomic.Int64
	for range workers {
		go func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					errs <- nil
					return
				}
				c, err := handshake(addr)
				if err != nil {
					next.Store(int64(n)) // the others stop at their next pick
					errs <- fmt.Errorf("connection %d: %w", i+1, err)
					return
				}
				conns[i] = c
			}
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		return first
	}
	fmt.Printf("dialed %d\n", len(conns))
	for s := range sig {
		if s != syscall.SIGUSR1 {
			break
		}
	}
	for _, c := range conns {
		c.Close()
	}
	return nil
}

func handshake(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	fmt.Fprintf(c, "GET /echo HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n", addr, base64.StdEncoding.EncodeToString(key[:]))
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 256), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("handshake answered %s", resp.Status)
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, nil
}
