package ws

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/graftgo/graft"
)

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestWSNeverReadingClientBoundsMemory: a client that never reads is sent
// 2000 messages of 16 KiB (32 MiB); the server keeps at most
// MaxBackpressure (64 KiB) and one message past it buffered and drops the
// rest (SendDropped, counted in Stats), or, with CloseOnBackpressureLimit,
// closes the connection with 1008 "backpressure limit". Either way the live
// heap grows by less than 1/16 of the bytes offered (2 MiB; the kernel's
// socket buffers hold what was written, outside the Go heap).
func TestWSNeverReadingClientBoundsMemory(t *testing.T) {
	const (
		size  = 16 << 10
		count = 2000
	)
	for _, closeAtLimit := range []bool{false, true} {
		conns := make(chan *Conn[struct{}], 1)
		closed := make(chan closeRecord, 1)
		app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
			Route(app, "/ws", Behavior[struct{}]{
				MaxBackpressure:          64 << 10,
				CloseOnBackpressureLimit: closeAtLimit,
				Open:                     func(c *Conn[struct{}]) { conns <- c },
				Close:                    func(c *Conn[struct{}], code StatusCode, reason string) { closed <- closeRecord{code, reason} },
			})
		})
		_ = wsDial(t, app.Addr(), "/ws") // never reads
		conn := wsRecv(t, conns, "the Open handler")
		msg := bytes.Repeat([]byte("m"), size)
		before := heapInUse()
		var dropped, maxBuffered int
		for range count {
			if conn.Send(msg, OpBinary, false) == SendDropped {
				dropped++
			}
			maxBuffered = max(maxBuffered, conn.BufferedAmount())
		}
		after := heapInUse()
		growth := int64(after) - int64(before)
		t.Logf("close at limit %v: %d of %d messages dropped, at most %d bytes buffered, heap %d -> %d (%+d bytes for %d offered)",
			closeAtLimit, dropped, count, maxBuffered, before, after, growth, size*count)
		if dropped == 0 || dropped == count {
			t.Errorf("close at limit %v: %d of %d dropped", closeAtLimit, dropped, count)
		}
		if maxBuffered > 64<<10+size {
			t.Errorf("close at limit %v: %d bytes buffered, over MaxBackpressure + one message", closeAtLimit, maxBuffered)
		}
		if growth > size*count/16 {
			t.Errorf("close at limit %v: heap grew %d bytes for %d offered to a client that never reads", closeAtLimit, growth, size*count)
		}
		if closeAtLimit {
			if got := wsRecv(t, closed, "the Close handler after the backpressure limit"); got != (closeRecord{StatusPolicyViolation, "backpressure limit"}) {
				t.Errorf("closed with %+v, want 1008 backpressure limit", got)
			}
		} else if st := HubOf(app).NumConns(); st != 1 {
			t.Errorf("drop mode: %d connections open, want the slow one still open", st)
		}
	}
}
