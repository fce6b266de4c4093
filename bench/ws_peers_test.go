//go:build unix

package bench

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"
)

// The two most used Go WebSocket libraries as servers of the WebSocket
// benchmarks, each written the way its documentation writes a server:
// gorilla/websocket with a read loop per connection and a write goroutine
// fed by a buffered channel (its chat example's hub), coder/websocket with
// a read loop per connection and a mutex-guarded write (it allows one
// writer at a time).

// peerSubs is the broadcast set of a library server.
type peerSubs[C comparable] struct {
	mu   sync.Mutex
	subs map[C]struct{}
}

func (p *peerSubs[C]) add(c C) {
	p.mu.Lock()
	p.subs[c] = struct{}{}
	p.mu.Unlock()
}

func (p *peerSubs[C]) remove(c C) {
	p.mu.Lock()
	delete(p.subs, c)
	p.mu.Unlock()
}

func (p *peerSubs[C]) each(f func(C)) {
	p.mu.Lock()
	for c := range p.subs {
		f(c)
	}
	p.mu.Unlock()
}

// snapshot returns the set's members, for work that must not hold the lock
// (closing a connection waits for its read loop, which removes it).
func (p *peerSubs[C]) snapshot() []C {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]C, 0, len(p.subs))
	for c := range p.subs {
		out = append(out, c)
	}
	return out
}

// serveLib serves mux on a loopback listener and fills s's address and stop.
func serveLib(tb testing.TB, s *wsServer, mux http.Handler, closeAll func(), wg *sync.WaitGroup) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	s.addr = ln.Addr().String()
	s.stop = func() {
		srv.Close()
		closeAll()
		wg.Wait()
	}
}

type gorillaConn struct {
	c    *websocket.Conn
	send chan []byte
}

func startGorillaWS(tb testing.TB) *wsServer {
	s := &wsServer{}
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}
	subs := &peerSubs[*gorillaConn]{subs: map[*gorillaConn]struct{}{}}
	all := &peerSubs[*gorillaConn]{subs: map[*gorillaConn]struct{}{}}
	var wg sync.WaitGroup
	serve := func(sub bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			c.SetReadLimit(16 << 10)
			gc := &gorillaConn{c: c, send: make(chan []byte, 256)}
			all.add(gc)
			if sub {
				subs.add(gc)
				atomic.AddInt64(&s.subscribe, 1)
			}
			wg.Add(2)
			go func() { // write pump
				defer wg.Done()
				for m := range gc.send {
					if c.WriteMessage(websocket.BinaryMessage, m) != nil {
						break
					}
				}
				c.Close()
			}()
			go func() { // read pump
				defer wg.Done()
				defer func() {
					subs.remove(gc)
					all.remove(gc)
					close(gc.send)
				}()
				for {
					op, m, err := c.ReadMessage()
					if err != nil {
						return
					}
					if !sub && op == websocket.BinaryMessage {
						select {
						case gc.send <- m:
						default:
						}
					}
				}
			}()
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/echo", serve(false))
	mux.Handle("/sub", serve(true))
	s.publish = func(msg []byte) {
		subs.each(func(c *gorillaConn) {
			select {
			case c.send <- msg:
			default: // a full queue drops, as the chat example's hub does
			}
		})
	}
	serveLib(tb, s, mux, func() {
		for _, c := range all.snapshot() {
			_ = c.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1001, ""), time.Now().Add(time.Second))
			c.c.Close()
		}
	}, &wg)
	return s
}

type coderConn struct {
	c  *coder.Conn
	mu sync.Mutex
}

func (c *coderConn) write(ctx context.Context, m []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c.Write(ctx, coder.MessageBinary, m)
}

func startCoderWS(tb testing.TB) *wsServer {
	s := &wsServer{}
	subs := &peerSubs[*coderConn]{subs: map[*coderConn]struct{}{}}
	all := &peerSubs[*coderConn]{subs: map[*coderConn]struct{}{}}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	serve := func(sub bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, err := coder.Accept(w, r, &coder.AcceptOptions{CompressionMode: coder.CompressionDisabled})
			if err != nil {
				return
			}
			c.SetReadLimit(16 << 10)
			cc := &coderConn{c: c}
			all.add(cc)
			if sub {
				subs.add(cc)
				atomic.AddInt64(&s.subscribe, 1)
			}
			wg.Add(1)
			defer wg.Done()
			defer func() {
				subs.remove(cc)
				all.remove(cc)
				// coder leaves the connection open when a read fails;
				// its docs ask for Close or CloseNow once done.
				_ = c.CloseNow()
			}()
			for {
				typ, m, err := c.Read(ctx)
				if err != nil {
					return
				}
				if !sub && typ == coder.MessageBinary {
					if cc.write(ctx, m) != nil {
						return
					}
				}
			}
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/echo", serve(false))
	mux.Handle("/sub", serve(true))
	s.publish = func(msg []byte) {
		subs.each(func(c *coderConn) { _ = c.write(ctx, msg) })
	}
	serveLib(tb, s, mux, func() {
		// CloseNow, not Close: Close waits up to 5 s for each client's
		// close frame, and a benchmark that failed half-way leaves
		// clients that never answer (1,000 of them: 80 minutes).
		for _, c := range all.snapshot() {
			_ = c.c.CloseNow()
		}
		cancel()
	}, &wg)
	return s
}
