package ws

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// rsvCheck sits between the connection and the engine's read buffer when
// permessage-deflate was negotiated. gws v1.9.1 then checks no reserved
// bit, so rsvCheck follows the frame boundaries of the byte stream (headers
// may arrive split across reads; payloads are skipped, never copied) and
// fails the connection with 1002 on RSV2 or RSV3, or on RSV1 anywhere but
// the first frame of a data message (RFC 6455 5.2, RFC 7692 6). Without
// compression the engine rejects every reserved bit itself and rsvCheck is
// not used.
type rsvCheck struct {
	s    *Socket
	src  io.Reader // the hijacked connection
	pend []byte    // bytes net/http had buffered past the handshake
	skip uint64    // payload (and mask key) bytes left in the current frame
	hn   int       // header bytes seen of the current frame
	hlen int       // header length without the mask key, once byte 2 is seen
	mask bool
	ext  uint64 // payload length being gathered
	bad  bool   // a frame with a forbidden bit starts where the engine reads next
}

var errReservedBit = errors.New("graft: websocket: reserved bit set")

// start puts the check in front of br, the reader the engine was given.
func (v *rsvCheck) start(s *Socket, src io.Reader, br *bufio.Reader) {
	*v = rsvCheck{s: s, src: src}
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		v.pend = bytes.Clone(b)
	}
	br.Reset(v)
}

// Read reads from the connection and checks the frame headers that pass.
// On a forbidden bit it returns the bytes before that frame; the read after
// (the engine has handled everything before the frame) sends the close frame
// and fails.
func (v *rsvCheck) Read(p []byte) (int, error) {
	if v.bad {
		return 0, v.fail()
	}
	var n int
	var err error
	if len(v.pend) > 0 {
		n = copy(p, v.pend)
		v.pend = v.pend[n:]
	} else {
		n, err = v.src.Read(p)
	}
	if k := v.scan(p[:n]); k >= 0 {
		v.bad = true
		if k == 0 {
			return 0, v.fail()
		}
		return k, nil
	}
	return n, err
}

// fail closes the connection with 1002 through the engine, so that the
// close frame takes the connection's write queue and the Close handler
// reports 1002, as for the protocol errors the engine finds itself.
func (v *rsvCheck) fail() error {
	if gc := v.s.gc; gc != nil {
		_ = gc.WriteClose(uint16(StatusProtocolError), []byte("reserved bit set"))
	}
	return errReservedBit
}

// scan follows frames through b and returns the offset of the first frame
// whose first byte carries a forbidden reserved bit, or -1.
func (v *rsvCheck) scan(b []byte) int {
	i := 0
	for i < len(b) {
		if v.skip > 0 {
			if r := uint64(len(b) - i); r <= v.skip {
				v.skip -= r
				return -1
			}
			i += int(v.skip)
			v.skip = 0
			continue
		}
		c := b[i]
		switch v.hn {
		case 0:
			// RSV2/RSV3 never; RSV1 only on a text or binary frame (not on
			// a continuation, opcode 0, nor a control frame, opcode >= 8).
			if c&0x30 != 0 || c&0x40 != 0 && (c&0x0f == 0 || c&0x08 != 0) {
				return i
			}
		case 1:
			v.mask = c&0x80 != 0
			switch lc := c & 0x7f; lc {
			case 126:
				v.hlen, v.ext = 4, 0
			case 127:
				v.hlen, v.ext = 10, 0
			default:
				v.hlen, v.ext = 2, uint64(lc)
			}
		default:
			v.ext = v.ext<<8 | uint64(c)
		}
		i++
		v.hn++
		if v.hn >= 2 && v.hn == v.hlen {
			v.skip, v.hn = v.ext, 0
			if v.mask {
				v.skip += 4
			}
		}
	}
	return -1
}
