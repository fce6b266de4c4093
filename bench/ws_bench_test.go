//go:build unix

package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/internal/fdlimit"
	"github.com/graftgo/graft/ws"
	"github.com/lxzan/gws"
)

// WebSocket benchmarks, graft against raw gws (the engine graft is built
// on), gorilla/websocket and coder/websocket (ws_peers_test.go) in the same
// run, with the same minimal client:
//
//   - BenchmarkWSEcho/c50, /c1000: round trips/s, 50 or 1,000 clients,
//     32-byte messages;
//   - BenchmarkWSBroadcast/s50, /s1000: deliveries/s of a message published
//     to 50 or 1,000 subscribers;
//   - BenchmarkWSIdleMemory: heap and stack per idle connection, 9,000
//     connections (10,000 need 20,000+ descriptors with the clients in
//     the same process; this machine's hard limit is 20,000).
//
// Run: go test -run '^$' -bench WS -benchtime 2s ./bench (see RESULTS.md).

// wsServer is a server under test.
type wsServer struct {
	addr      string
	publish   func(msg []byte) // broadcast to every connection of /sub
	subscribe int64            // connections of /sub so far
	stop      func()
}

// startGraftWS serves graft: /echo echoes, /sub subscribes to "b".
func startGraftWS(tb testing.TB) *wsServer {
	app := graft.New(graft.Config{Host: "127.0.0.1", Port: -1, Logger: slog.New(slog.DiscardHandler)})
	s := &wsServer{}
	ws.Route(app, "/echo", ws.Behavior[struct{}]{
		Message: func(c *ws.Conn[struct{}], data []byte, op ws.OpCode) { c.Send(data, op, false) },
	})
	ws.Route(app, "/sub", ws.Behavior[struct{}]{
		Open: func(c *ws.Conn[struct{}]) {
			c.Subscribe("b")
			atomic.AddInt64(&s.subscribe, 1)
		},
	})
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	ln, err := app.Listen()
	if err != nil {
		tb.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Serve(ln) }()
	s.addr = ln.Addr().String()
	hub := ws.HubOf(app)
	s.publish = func(msg []byte) { hub.Publish("b", msg, ws.OpBinary) }
	s.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		app.Shutdown(ctx)
		<-errc
	}
	return s
}

// gwsHandler is raw gws as its README uses it: echo on /echo, a
// Broadcaster over the /sub connections.
type gwsHandler struct {
	gws.BuiltinEventHandler
	mu   sync.Mutex
	subs map[*gws.Conn]struct{}
}

func (h *gwsHandler) OnMessage(c *gws.Conn, m *gws.Message) {
	_ = c.WriteMessage(m.Opcode, m.Bytes())
	m.Close()
}

func (h *gwsHandler) OnClose(c *gws.Conn, err error) {
	h.mu.Lock()
	delete(h.subs, c)
	h.mu.Unlock()
}

func startRawGWS(tb testing.TB) *wsServer {
	h := &gwsHandler{subs: map[*gws.Conn]struct{}{}}
	s := &wsServer{}
	up := gws.NewUpgrader(h, &gws.ServerOption{ReadMaxPayloadSize: 16 << 10, CheckUtf8Enabled: true})
	var wg sync.WaitGroup
	var conns sync.Map
	mux := http.NewServeMux()
	serve := func(sub bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r)
			if err != nil {
				return
			}
			if sub {
				h.mu.Lock()
				h.subs[c] = struct{}{}
				h.mu.Unlock()
				atomic.AddInt64(&s.subscribe, 1)
			}
			conns.Store(c, struct{}{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.ReadLoop()
				conns.Delete(c)
			}()
		}
	}
	mux.Handle("/echo", serve(false))
	mux.Handle("/sub", serve(true))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	s.addr = ln.Addr().String()
	s.publish = func(msg []byte) {
		b := gws.NewBroadcaster(gws.OpcodeBinary, msg)
		h.mu.Lock()
		for c := range h.subs {
			_ = b.Broadcast(c)
		}
		h.mu.Unlock()
		b.Close()
	}
	s.stop = func() {
		srv.Close()
		conns.Range(func(k, _ any) bool { k.(*gws.Conn).WriteClose(1001, nil); return true })
		wg.Wait()
	}
	return s
}

var wsServers = []struct {
	name  string
	start func(testing.TB) *wsServer
}{
	{"graft", startGraftWS},
	{"gws", startRawGWS},
	{"gorilla", startGorillaWS},
	{"coder", startCoderWS},
}

// benchClient is a minimal client: masked binary frames out, frames in.
type benchClient struct {
	conn net.Conn
	br   *bufio.Reader
	out  []byte
}

func dialBench(tb testing.TB, addr, path string) *benchClient {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	var key [16]byte
	rand.Read(key[:])
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n", path, addr, base64.StdEncoding.EncodeToString(key[:]))
	// A server that cannot accept (out of descriptors) leaves the
	// connection in its backlog unanswered: bound the wait.
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReaderSize(conn, 512)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		tb.Fatalf("handshake with %s%s: no 101 within 10s: %v %v", addr, path, err, resp)
	}
	conn.SetDeadline(time.Time{})
	return &benchClient{conn: conn, br: br}
}

// benchWait bounds every wait of the WebSocket benchmarks: dialing all
// clients, a round, a window of deliveries.
const benchWait = 2 * time.Minute

// dialClients dials n clients to addr/path. On a failure it closes those
// dialed so far before failing the benchmark, since servers' stop waits for
// their connections to end.
func dialClients(b *testing.B, addr, path string, n int) []*benchClient {
	cs := make([]*benchClient, 0, n)
	ok := false
	defer func() {
		if !ok {
			closeClients(cs)
		}
	}()
	for range n {
		cs = append(cs, dialBench(b, addr, path))
	}
	ok = true
	return cs
}

// closeClients closes every client of cs; closing one twice is harmless.
func closeClients(cs []*benchClient) {
	for _, c := range cs {
		c.conn.Close()
	}
}

// frame returns a masked binary frame of msg (len < 126).
func maskedFrame(msg []byte) []byte {
	b := []byte{0x82, 0x80 | byte(len(msg)), 1, 2, 3, 4}
	for i, c := range msg {
		b = append(b, c^b[2+i%4])
	}
	return b
}

// readFrame reads one short server frame and returns its payload length.
func (c *benchClient) readFrame() (int, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, err
	}
	n := int(h[1] & 0x7f)
	if n >= 126 {
		return 0, fmt.Errorf("long frame")
	}
	_, err := c.br.Discard(n)
	return n, err
}

func BenchmarkWSEcho(b *testing.B) {
	for _, clients := range []int{50, 1000} {
		b.Run(fmt.Sprintf("c%d", clients), func(b *testing.B) { benchWSEcho(b, clients) })
	}
}

func benchWSEcho(b *testing.B, clients int) {
	needFiles(b, clients)
	msg := []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	frame := maskedFrame(msg)
	for _, srv := range wsServers {
		b.Run(srv.name, func(b *testing.B) {
			s := srv.start(b)
			defer s.stop()
			cs := dialClients(b, s.addr, "/echo", clients)
			defer closeClients(cs) // before s.stop, also when a dial failed
			// No round trip waits forever: a server that stops answering
			// fails the benchmark.
			for _, c := range cs {
				c.conn.SetDeadline(time.Now().Add(benchWait))
			}
			var left atomic.Int64
			left.Store(int64(b.N))
			b.ResetTimer()
			var wg sync.WaitGroup
			for _, c := range cs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						if _, err := c.conn.Write(frame); err != nil {
							b.Error(err)
							return
						}
						if _, err := c.readFrame(); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "roundtrips/s")
			b.StopTimer()
		})
	}
}

func BenchmarkWSBroadcast(b *testing.B) {
	for _, subscribers := range []int{50, 1000} {
		b.Run(fmt.Sprintf("s%d", subscribers), func(b *testing.B) { benchWSBroadcast(b, subscribers) })
	}
}

func benchWSBroadcast(b *testing.B, subscribers int) {
	needFiles(b, subscribers)
	const window = 32 // messages in flight, well under the backpressure limit
	msg := []byte("0123456789abcdef0123456789abcdef")
	for _, srv := range wsServers {
		b.Run(srv.name, func(b *testing.B) {
			s := srv.start(b)
			defer s.stop()
			var got atomic.Int64
			var wg sync.WaitGroup
			cs := dialClients(b, s.addr, "/sub", subscribers)
			defer closeClients(cs) // before s.stop, also when a dial failed
			deadline := time.Now().Add(benchWait)
			for atomic.LoadInt64(&s.subscribe) < int64(subscribers) {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d subscribed within %v", atomic.LoadInt64(&s.subscribe), subscribers, benchWait)
				}
				time.Sleep(time.Millisecond)
			}
			for _, c := range cs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						if _, err := c.readFrame(); err != nil {
							return
						}
						got.Add(1)
					}
				}()
			}
			b.ResetTimer()
			for sent := 0; sent < b.N; {
				n := min(window, b.N-sent)
				for range n {
					s.publish(msg)
				}
				sent += n
				want := int64(sent) * int64(subscribers)
				// Bounded: a delivery lost for good fails the benchmark
				// (checked every 1,024 spins, off the fast path).
				deadline := time.Now().Add(benchWait)
				for spins := 0; got.Load() < want; spins++ {
					if spins&1023 == 1023 && time.Now().After(deadline) {
						b.Fatalf("%d of %d deliveries within %v", got.Load(), want, benchWait)
					}
					runtime.Gosched()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(got.Load())/b.Elapsed().Seconds(), "deliveries/s")
			closeClients(cs)
			wg.Wait()
		})
	}
}

// BenchmarkWSIdleMemory reports the heap and stack one idle connection
// costs the server: (memory with n connections - memory before) / n, less
// what the same n client connections cost against a server that only
// accepts them (the "clients" row).
func BenchmarkWSIdleMemory(b *testing.B) {
	const n = 9000
	needFiles(b, n)
	base := idleClientCost(b, n)
	b.Run("clients", func(b *testing.B) { b.ReportMetric(base/1024, "KiB/conn") })
	for _, srv := range wsServers {
		b.Run(srv.name, func(b *testing.B) {
			before := inUse()
			s := srv.start(b)
			defer s.stop()
			cs := dialClients(b, s.addr, "/echo", n)
			defer closeClients(cs) // before s.stop, also when a dial failed
			time.Sleep(200 * time.Millisecond)
			after := inUse()
			per := float64(after-before)/n - base
			b.ReportMetric(per/1024, "KiB/conn")
		})
	}
}

// idleClientCost measures what n handshaken client connections cost in
// this process, against a listener that holds the server sides without a
// goroutine each.
func idleClientCost(tb testing.TB, n int) float64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(buf) // the handshake request
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
			held = append(held, c)
		}
	}()
	before := inUse()
	cs := make([]*benchClient, n)
	for i := range cs {
		cs[i] = dialBench(tb, ln.Addr().String(), "/")
	}
	after := inUse()
	ln.Close()
	<-done
	for _, c := range cs {
		c.conn.Close()
	}
	for _, c := range held {
		c.Close()
	}
	// The held server sides cost too; count them as client cost.
	return float64(after-before) / float64(n)
}

func inUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// needFiles skips the benchmark when this process cannot hold conns
// loopback connections (both ends of each are in this process) and says
// how to allow it.
func needFiles(b *testing.B, conns int) {
	n := fdlimit.ForConns(conns)
	if got := fdlimit.Raise(n); got < n {
		b.Skipf("%d connections need %d open files, the limit is %d (raise it: ulimit -n %d)", conns, n, got, n)
	}
}
