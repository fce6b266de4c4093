package ws

import (
	"bytes"
	"math/rand/v2"
	"testing"
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
		var v rsvCheck
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
		var v rsvCheck
		if v.scan([]byte{b0, 0x80, 1, 2, 3, 4}) != 0 {
			t.Fatalf("first byte %#x accepted", b0)
		}
	}
}
