package ws

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/graftgo/graft"
)

// The reserved-bit check follows frames through arbitrary read splits.
func TestWSReservedBitScanSplits(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 70000)
	good := []wsFrame{
		{fin: true, rsv: 4, op: 1, payload: []byte("a")},
		{op: 2, rsv: 4, payload: long[:126]},
		{fin: true, op: 9, payload: []byte("ping")},
		{op: 0, payload: long[:65535]},
		{fin: true, op: 0, payload: long},
		{fin: true, op: 10},
		{fin: true, op: 1, payload: long[:125]},
	}
	var stream []byte
	for _, f := range good {
		stream = append(stream, wsEncodeClientFrame(f)...)
	}
	badAt := len(stream)
	stream = append(stream, wsEncodeClientFrame(wsFrame{fin: true, rsv: 4, op: 0, payload: []byte("c")})...)
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var v frameCheck
		at, off := -1, 0
		for off < len(stream) && at < 0 {
			n := 1 + r.IntN(20)
			if round%2 == 0 {
				n = 1 + r.IntN(9000)
			}
			n = min(n, len(stream)-off)
			if k := v.scan(stream[off : off+n]); k >= 0 {
				at = off + k
			}
			off += n
		}
		if at != badAt {
			t.Fatalf("round %d: bad frame found at %d, want %d", round, at, badAt)
		}
	}
	for _, b0 := range []byte{0x81 | 0x20, 0x82 | 0x10, 0x89 | 0x40, 0x88 | 0x40, 0x00 | 0x40, 0x8a | 0x40} {
		var v frameCheck
		if v.scan([]byte{b0, 0x80, 1, 2, 3, 4}) != 0 {
			t.Fatalf("first byte %#x accepted", b0)
		}
	}
}

// A 64-bit length with its top bit set, or a length not in its shortest
// form, is refused with 1002 wherever the reads split the header; other
// frames pass.
func TestWSFrameCheckLengths(t *testing.T) {
	good := wsEncodeClientFrame(wsBinFrame(bytes.Repeat([]byte("x"), 300)))
	for _, tc := range []struct {
		name   string
		header []byte
	}{
		{"top bit", []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}},
		{"64-bit for 5 bytes", []byte{0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4}},
		{"64-bit for 65535 bytes", []byte{0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}},
		{"16-bit for 125 bytes", []byte{0x82, 0xfe, 0, 125, 1, 2, 3, 4}},
	} {
		stream := append(append([]byte(nil), good...), tc.header...)
		for split := 1; split < len(stream); split++ {
			v := frameCheck{anyRSV: true}
			at := v.scan(stream[:split])
			if at < 0 {
				if k := v.scan(stream[split:]); k >= 0 {
					at = split + k
				}
			}
			hlen := 4
			if tc.header[1]&0x7f == 127 {
				hlen = 10
			}
			want := len(good)
			if split > len(good) && split < len(good)+hlen {
				want = split // the length began in the first read: fail at the next
			}
			if at != want {
				t.Fatalf("%s, split at %d: refused at %d, want %d", tc.name, split, at, want)
			}
		}
	}
	for _, h := range [][]byte{
		{0x82, 0xfe, 0, 126, 1, 2, 3, 4},
		{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4},
	} {
		v := frameCheck{anyRSV: true}
		if k := v.scan(h); k >= 0 {
			t.Fatalf("header % x refused", h)
		}
	}
}

// TestWSFrameLengthTopBitOverTCP is FuzzWSFrames's first find: one frame
// with a 64-bit length whose top bit is set made gws v1.9.1 panic in its
// read loop and took the process down. It is now a 1002, and the server
// serves the next connection.
func TestWSFrameLengthTopBitOverTCP(t *testing.T) {
	closed := make(chan StatusCode, 1)
	app := wsTestApp(t, graft.Config{}, func(app *graft.App[graft.Ctx]) {
		wsEchoRoute(app, "/echo", Behavior[struct{}]{Close: func(_ *Conn[struct{}], code StatusCode, _ string) { closed <- code }})
	})
	for _, frame := range [][]byte{
		{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 'x'},
		{0x89, 0xfe, 0, 3, 0, 0, 0, 0, 'a', 'b', 'c'},
	} {
		c := wsDial(t, app.Addr(), "/echo")
		if _, err := c.conn.Write(frame); err != nil {
			t.Fatal(err)
		}
		c.expectClose(StatusProtocolError)
		if got := wsRecv(t, closed, "the Close handler"); got != StatusProtocolError {
			t.Fatalf("frame % x: the Close handler got %d", frame, got)
		}
		c2 := wsDial(t, app.Addr(), "/echo")
		c2.writeFrame(wsTextFrame("alive"))
		c2.expectMessage(1, []byte("alive"))
		c2.conn.Close()
		wsRecv(t, closed, "the Close handler of the second connection")
	}
}

// BenchmarkWSFrameCheck measures the frame check every connection's reads
// now go through: a stream of 32-byte masked frames, scanned in 4 KiB
// reads (SetBytes: throughput of the stream).
func BenchmarkWSFrameCheck(b *testing.B) {
	frame := wsEncodeClientFrame(wsBinFrame(bytes.Repeat([]byte("x"), 32)))
	stream := bytes.Repeat(frame, 4096/len(frame))
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	var v frameCheck
	v.anyRSV = true
	for b.Loop() {
		if v.scan(stream) >= 0 {
			b.Fatal("refused")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(len(stream)/len(frame))), "ns/frame")
}
