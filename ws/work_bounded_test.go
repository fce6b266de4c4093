package ws

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/graftgo/graft"
)

// TestWSMessageWorkLinear sends messages of growing sizes to an echo route
// over a real connection and counts the bytes allocated in the process
// (server and the raw test client) per message: per byte of payload it
// must not grow with the size (linear work; a copy per fragment or per
// read would show as growth), and a message over MaxPayloadLength is a
// 1009 before its payload is read.
func TestWSMessageWorkLinear(t *testing.T) {
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		wsEchoRoute(app, "/echo", Behavior[struct{}]{MaxPayloadLength: 2 << 20})
	})
	c := wsDial(t, app.Addr(), "/echo")
	perByte := map[int]float64{}
	sizes := []int{1 << 10, 16 << 10, 128 << 10, 1 << 20}
	for _, n := range sizes {
		p := bytes.Repeat([]byte("x"), n)
		frame := wsEncodeClientFrame(wsBinFrame(p))
		roundTrip := func() {
			if _, err := c.conn.Write(frame); err != nil {
				t.Fatal(err)
			}
			if f := c.next(); f.op != 2 || len(f.payload) != n {
				t.Fatalf("echo of %d bytes: op %d, %d bytes", n, f.op, len(f.payload))
			}
		}
		roundTrip() // warm the pools for this size
		const runs = 20
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range runs {
			roundTrip()
		}
		runtime.ReadMemStats(&after)
		b := float64(after.TotalAlloc-before.TotalAlloc) / runs
		perByte[n] = b / float64(n)
		t.Logf("%d-byte messages: %.0f bytes allocated per round trip, %.2f per payload byte", n, b, perByte[n])
	}
	// The engine and the writer pool their buffers up to a size, past which
	// a message takes buffers of its own, and the test client copies every
	// echo: the cost per byte steps up between 16 and 128 KiB. Compare
	// sizes on the same side of the step, and bound the copies per byte
	// overall.
	for _, pair := range [][2]int{{sizes[0], sizes[1]}, {sizes[2], sizes[3]}} {
		if r := perByte[pair[1]] / perByte[pair[0]]; r > 1.5 {
			t.Errorf("bytes allocated per payload byte grew ×%.2f from %d to %d bytes", r, pair[0], pair[1])
		}
	}
	for n, b := range perByte {
		if b > 4 {
			t.Errorf("%d-byte messages: %.2f bytes allocated per payload byte, over 4 copies", n, b)
		}
	}
	// Over the limit: closed at the header, the payload never sent.
	c2 := wsDial(t, app.Addr(), "/echo")
	if _, err := c2.conn.Write(wsEncodeClientFrame(wsBinFrame(make([]byte, 2<<20+1)))[:14]); err != nil {
		t.Fatal(err)
	}
	c2.expectClose(StatusMessageTooBig)
}
