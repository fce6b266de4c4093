package ws

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/lxzan/gws"

	"github.com/graftgo/graft"
)

// maxSocketSize bounds what every connection's Socket costs, its user
// data aside: the 320-byte size class. State few connections use goes in
// the sockExtra a connection makes on first use, not here; a field added to
// Socket that pushes it past the bound belongs there (or the bound moves
// with a measured reason, see docs/websocket.md). It was 288 until the
// frame check (16 bytes, framecheck.go), which every connection needs, took
// the Socket to 304: 32 bytes more per connection, 0.3% of the 9.6 KiB an
// idle connection costs.
const maxSocketSize = 320

func TestSocketSize(t *testing.T) {
	if n := unsafe.Sizeof(Socket{}); n > maxSocketSize {
		t.Fatalf("Socket is %d bytes, over the %d-byte bound: move rarely used state to sockExtra", n, maxSocketSize)
	}
	// A zero-size user data type adds nothing (it comes first, so no
	// trailing padding).
	if n, s := unsafe.Sizeof(Conn[struct{}]{}), unsafe.Sizeof(Socket{}); n != s {
		t.Fatalf("Conn[struct{}] is %d bytes, its Socket %d", n, s)
	}
	// wireConn finds its Socket at its own address.
	if off := unsafe.Offsetof(Socket{}.wire); off != 0 {
		t.Fatalf("Socket.wire at offset %d, want 0", off)
	}
}

// TestIdleSocketHasNoExtra checks that a connection that only echoes makes
// no sockExtra, and that one that sets a property, a presence info or gets
// backpressure does, and gives it back when released.
func TestIdleSocketHasNoExtra(t *testing.T) {
	prop := graft.NewProperty("memtest", func() int { return 0 })
	conns := make(chan *Conn[struct{}], 2)
	propSeen := make(chan [2]int, 1)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		Route(app, "/plain", Behavior[struct{}]{
			Open:    func(c *Conn[struct{}]) { conns <- c },
			Message: func(c *Conn[struct{}], data []byte, op OpCode) { c.Send(data, op, false) },
		})
		Route(app, "/prop", Behavior[struct{}]{
			Open: func(c *Conn[struct{}]) {
				prop.Set(c, 7)
				propSeen <- [2]int{prop.Get(c), b2i(c.x.Load() != nil)}
				conns <- c
			},
		})
	})
	p := wsDial(t, app.Addr(), "/plain")
	c := wsRecv(t, conns, "the /plain Open handler")
	p.writeFrame(wsTextFrame("hi"))
	p.expectMessage(1, []byte("hi"))
	if c.x.Load() != nil {
		t.Fatal("an echoing connection made its sockExtra")
	}
	if c.Subprotocol() != "" || c.PresenceInfo() != "" || c.Stats().SentMessages != 1 {
		t.Fatalf("Subprotocol %q, PresenceInfo %q, Stats %+v", c.Subprotocol(), c.PresenceInfo(), c.Stats())
	}
	if c.x.Load() != nil {
		t.Fatal("reading the connection's state made its sockExtra")
	}
	q := wsDial(t, app.Addr(), "/prop")
	d := wsRecv(t, conns, "the /prop Open handler")
	if got := wsRecv(t, propSeen, "the property read in Open"); got != [2]int{7, 1} {
		t.Fatalf("a property set in Open: value %d, extra made %v", got[0], got[1] == 1)
	}
	q.conn.Close()
	wsWaitFor(t, "the /prop connection released", func() bool { return d.x.Load() == nil })
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// upgradeAllocs counts the allocations of one WebSocket upgrade served by
// h, the handshake request already read and the connection already
// accepted, until the connection waits for its first frame; opened is
// signalled by the server when it does.
func upgradeAllocs(t *testing.T, h http.Handler, opened <-chan struct{}) float64 {
	const runs = 50
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type pair struct {
		client, server net.Conn
		req            *http.Request
		rw             *hijackRecorder
	}
	pairs := make([]pair, 0, runs+1)
	defer func() {
		for _, p := range pairs {
			p.client.Close()
		}
	}()
	for range runs + 1 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ln.Accept()
		if err != nil {
			c.Close()
			t.Fatal(err)
		}
		var key [16]byte
		_, _ = rand.Read(key[:])
		raw := fmt.Sprintf("GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n", ln.Addr(), base64.StdEncoding.EncodeToString(key[:]))
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		req.RemoteAddr = sc.RemoteAddr().String()
		pairs = append(pairs, pair{c, sc, req, &hijackRecorder{conn: sc, header: http.Header{}, brw: bufio.NewReadWriter(bufio.NewReaderSize(sc, 16), bufio.NewWriterSize(sc, 16))}})
	}
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		p := pairs[i]
		i++
		h.ServeHTTP(p.rw, p.req)
		select {
		case <-opened:
		case <-time.After(5 * time.Second):
			t.Fatal("the upgraded connection did not open within 5s")
		}
	})
	for _, p := range pairs[:i] {
		_ = p.client.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(p.client), nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake answer: %v %v", resp, err)
		}
	}
	return allocs
}

// hijackRecorder is a ResponseWriter whose Hijack hands over conn.
type hijackRecorder struct {
	conn   net.Conn
	header http.Header
	brw    *bufio.ReadWriter
	status int
}

func (w *hijackRecorder) Header() http.Header         { return w.header }
func (w *hijackRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (w *hijackRecorder) WriteHeader(code int)        { w.status = code }
func (w *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, w.brw, nil
}

// maxUpgradeAllocs bounds graft's allocations per upgrade beyond those of
// a bare gws upgrade of the same request, routing and the pooled Socket
// included: graft makes the raw-conn handle for non-blocking writes and
// keeps the upgrade's detached context, and gws's per-connection session
// map, which graft replaces, is not made (20 against 19 when written).
// The handshake's headers are read in canonical form, so checking them
// allocates nothing.
const maxUpgradeAllocs = 1

// TestUpgradeAllocs pins what an upgrade allocates in graft against a bare
// gws upgrader in the same run.
func TestUpgradeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	opened := make(chan struct{}, 1)
	app := graft.New(graft.Config{Logger: wsQuietLogger()})
	Route(app, "/ws", Behavior[struct{}]{Open: func(*Conn[struct{}]) { opened <- struct{}{} }})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = app.Shutdown(ctx)
	}()
	graftAllocs := upgradeAllocs(t, app, opened)

	up := gws.NewUpgrader(&gwsOpenSignal{opened: opened}, &gws.ServerOption{ReadMaxPayloadSize: DefaultMaxPayloadLength, CheckUtf8Enabled: true})
	var gcs []*gws.Conn
	raw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		gcs = append(gcs, c)
		go c.ReadLoop()
	})
	gwsAllocs := upgradeAllocs(t, raw, opened)
	for _, c := range gcs {
		_ = c.NetConn().Close()
	}
	t.Logf("allocations per upgrade: graft %v, gws %v", graftAllocs, gwsAllocs)
	if graftAllocs > gwsAllocs+maxUpgradeAllocs {
		t.Fatalf("an upgrade allocates %v times, gws's %v: more than %d over", graftAllocs, gwsAllocs, maxUpgradeAllocs)
	}
}

type gwsOpenSignal struct {
	gws.BuiltinEventHandler
	opened chan struct{}
}

func (e *gwsOpenSignal) OnOpen(*gws.Conn) { e.opened <- struct{}{} }

func TestHandshakeHeaderKeysCanonical(t *testing.T) {
	for _, k := range []string{hdrKey, hdrVersion, hdrExtensions, hdrProtocol} {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("%q is not canonical: %q", k, c)
		}
	}
	for key, ok := range map[string]bool{
		"dGhlIHNhbXBsZSBub25jZQ==": true,
		"dGhlIHNhbXBsZSBub25jZQ":   false, // unpadded
		"dGhlIHNhbXBsZSBub25jZQ=!": false,
		"":                         false,
		"dGhlIHNhbXBsZSBub25jZSE=": false, // 17 bytes
	} {
		if validKey(key) != ok {
			t.Errorf("validKey(%q) = %v", key, !ok)
		}
	}
}
