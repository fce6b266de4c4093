package ws

import (
	"bufio"
	"bytes"
	"errors"
)

// frameCheck sits between the connection and the engine's read buffer and
// follows the frame boundaries of the byte stream (headers may arrive split
// across reads; payloads are skipped, never copied) to fail the connection
// with 1002 on the frame headers gws v1.9.1 mishandles:
//
//   - a 64-bit payload length with its most significant bit set (RFC 6455
//     5.2: it MUST be 0), which the engine reads into a negative int that
//     passes its size check and then panics slicing a buffer with it,
//     taking the whole process down (FuzzWSFrames found it; the seed
//     len64-top-bit in testdata/fuzz/FuzzWSFrames keeps it);
//   - a length not in its shortest form (RFC 6455 5.2: "the minimal number
//     of bytes MUST be used"), which the engine refuses on control frames
//     only;
//   - with permessage-deflate negotiated, reserved bits: the engine then
//     checks none, so RSV2 or RSV3 anywhere, or RSV1 anywhere but the first
//     frame of a data message, is refused here (RFC 6455 5.2, RFC 7692 6).
//     Without compression the engine rejects every reserved bit itself.
//
// Its state is 16 bytes in every Socket (no pointer: the reader that owns
// it is the Socket itself, read through checkedReader); bytes net/http had
// buffered past the handshake, rare, wait in the connection's sockExtra.
type frameCheck struct {
	n      uint64 // in a header (hn > 0): the payload length being gathered; after it: the payload (and mask key) bytes left to skip
	hn     uint8  // header bytes seen of the current frame
	hlen   uint8  // header length without the mask key, once byte 2 is seen
	mask   bool
	anyRSV bool  // reserved bits are the engine's to check (no compression)
	bad    bool  // a frame with a forbidden header starts where the engine reads next
	why    uint8 // the close reason for it: an index into badHeaderReasons
}

// The reasons of the 1002 close frame the check sends.
const (
	badRSV uint8 = iota + 1
	badTopBit
	badLongForm
)

var badHeaderReasons = [...]string{
	badRSV:      "reserved bit set",
	badTopBit:   "payload length with its most significant bit set",
	badLongForm: "payload length not in its shortest form",
}

var errBadFrameHeader = errors.New("graft: websocket: bad frame header")

// checkedReader is a Socket as the reader in front of the engine's read
// buffer: it reads the connection and checks the frame headers that pass
// (Socket.fcheck).
type checkedReader Socket

// startFrameCheck makes the reader the engine reads through: br, which it
// puts the check in front of, when br holds bytes net/http had buffered
// past the handshake, else a new reader of size n over the check; deflate
// says whether compression was negotiated.
func startFrameCheck(s *Socket, br *bufio.Reader, n int, deflate bool) *bufio.Reader {
	s.fcheck = frameCheck{anyRSV: !deflate}
	if k := br.Buffered(); k > 0 {
		b, _ := br.Peek(k)
		s.extra().pend = bytes.Clone(b)
		br.Reset((*checkedReader)(s))
		return br
	}
	return bufio.NewReaderSize((*checkedReader)(s), n)
}

// Read reads from the connection and checks the frame headers that pass.
// On a forbidden header it returns the bytes before that frame; the read
// after (the engine has handled everything before the frame) sends the
// close frame and fails.
func (r *checkedReader) Read(p []byte) (int, error) {
	s := (*Socket)(r)
	v := &s.fcheck
	if v.bad {
		return 0, s.failFrameCheck()
	}
	var n int
	var err error
	if x := s.x.Load(); x != nil && len(x.pend) > 0 {
		n = copy(p, x.pend)
		x.pend = x.pend[n:]
	} else {
		n, err = s.wire.Conn.Read(p)
	}
	if k := v.scan(p[:n]); k >= 0 {
		v.bad = true
		if k == 0 {
			return 0, s.failFrameCheck()
		}
		return k, nil
	}
	return n, err
}

// failFrameCheck closes the connection with 1002 through the engine, so
// that the close frame takes the connection's write queue and the Close
// handler reports 1002, as for the protocol errors the engine finds itself.
func (s *Socket) failFrameCheck() error {
	if gc := s.gc; gc != nil {
		_ = gc.WriteClose(uint16(StatusProtocolError), []byte(badHeaderReasons[s.fcheck.why]))
	}
	return errBadFrameHeader
}

// scan follows frames through b and returns the offset of the first frame
// with a forbidden header, or -1. A frame whose header began in an earlier
// read counts as starting at 0: the engine has part of its header, and
// fails on the next read.
func (v *frameCheck) scan(b []byte) int {
	i, fs := 0, 0
	for i < len(b) {
		if v.hn == 0 && v.n > 0 {
			if r := uint64(len(b) - i); r <= v.n {
				v.n -= r
				return -1
			}
			i += int(v.n)
			v.n = 0
			continue
		}
		c := b[i]
		switch v.hn {
		case 0:
			fs = i
			// RSV2/RSV3 never; RSV1 only on a text or binary frame (not on
			// a continuation, opcode 0, nor a control frame, opcode >= 8).
			if !v.anyRSV && (c&0x30 != 0 || c&0x40 != 0 && (c&0x0f == 0 || c&0x08 != 0)) {
				v.why = badRSV
				return i
			}
		case 1:
			v.mask = c&0x80 != 0
			switch lc := c & 0x7f; lc {
			case 126:
				v.hlen, v.n = 4, 0
			case 127:
				v.hlen, v.n = 10, 0
			default:
				v.hlen, v.n = 2, uint64(lc)
			}
		default:
			v.n = v.n<<8 | uint64(c)
		}
		i++
		v.hn++
		if v.hn > 2 && v.hn == v.hlen {
			// The extended length, judged once read whole (before the
			// mask key).
			switch {
			case v.hlen == 10 && v.n>>63 != 0:
				v.why = badTopBit
			case v.hlen == 10 && v.n <= 0xffff, v.hlen == 4 && v.n <= 125:
				v.why = badLongForm
			}
			if v.why != 0 {
				v.hn = 0
				return fs
			}
		}
		if v.hn >= 2 && v.hn == v.hlen {
			v.hn = 0
			if v.mask {
				v.n += 4
			}
		}
	}
	return -1
}
